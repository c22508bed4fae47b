"""Search and export (R-PER-5, R-PER-7): `SearchPersons` answers a page, `ExportPersons` streams
every row in chunks and leaves the export in the audit trail, when it starts and when it ends."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import date
from typing import Any

from google.protobuf.json_format import MessageToDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import personnel_pb2, search_pb2, search_pb2_grpc
from qlcb_common.auth import Principal
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.errors import InvalidArgument
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.audit import trail
from qlcb_personnel.persons import messages
from qlcb_personnel.search import service
from qlcb_personnel.search.service import Found
from qlcb_personnel.units import history
from qlcb_personnel.units.models import Unit

Context = Any
FORMATS = ("csv", "xlsx")


class PersonSearchServicer(search_pb2_grpc.PersonSearchServiceServicer):
    def __init__(self, db: Database, delegations: DelegationCopy) -> None:
        self._db = db
        self._delegations = delegations

    async def SearchPersons(
        self, request: search_pb2.SearchPersonsRequest, context: Context
    ) -> search_pb2.SearchPersonsResponse:
        criteria = _criteria(request)
        async with self._db.unit_of_work() as session:
            actor = current_principal()
            page = await service.search(
                session,
                actor=actor,
                delegations=await self._delegations.for_caller(session, actor),
                request=criteria,
            )
            await _note_page(session, actor, request, page)
        return search_pb2.SearchPersonsResponse(
            persons=[_message(found) for found in page.found],
            total=page.total,
            page=page.page,
            page_size=page.page_size,
        )

    async def ExportPersons(
        self, request: search_pb2.ExportPersonsRequest, context: Context
    ) -> AsyncIterator[search_pb2.ExportPersonsResponse]:
        """Checked, then noted as started in a unit of work of its own, committed before any row is
        sent; the rows from a cursor in a second one; noted as ended, with the rows sent, whatever
        ends it: the last row, a failure, or the client going away (the call is then cancelled, and
        the interceptor closes this generator at once: `qlcb_common.grpc_interceptor`)."""
        if request.format not in FORMATS:
            raise InvalidArgument.single("format", f"Định dạng phải là một trong: {', '.join(FORMATS)}")
        actor = current_principal()
        async with self._db.unit_of_work() as session:
            export = await service.export(
                session,
                actor=actor,
                delegations=await self._delegations.for_caller(session, actor),
                request=_criteria(request.criteria),
            )
            noted = _Noted(actor, export, request)
            await noted.started(session)
        rows, completed = 0, False
        try:
            async with self._db.unit_of_work() as session:
                names = _UnitNames(export.criteria.as_of)
                async for found in service.exported(session, export):
                    chunk = search_pb2.ExportPersonsResponse(
                        persons=[_message(f) for f in found],
                        unit_names=await names.new(session, (f.unit_id for f in found)),
                    )
                    # Counted as handed to the stream: a client that goes away while the chunk is
                    # being written ends the generator at its yield, before it would resume.
                    rows += len(found)
                    yield chunk
            completed = True
        finally:
            # A task of its own, which a second cancellation (the server stopping) does not end.
            await asyncio.shield(self._ended(noted, rows, completed))

    async def _ended(self, noted: _Noted, rows: int, completed: bool) -> None:
        async with self._db.unit_of_work() as session:
            await noted.ended(session, rows, completed)


async def _note_page(
    session: AsyncSession, actor: Principal, request: search_pb2.SearchPersonsRequest, page: service.Page
) -> None:
    """A page of a search, as a read: paging through a unit is a list of its people, on record as
    an export is, with the criteria as asked and the rows given. About the unit searched, or the
    caller's own unit when none was named."""
    unit = page.criteria.unit
    await trail.note_read(
        session,
        action=trail.READ,
        what="persons",
        person=None,
        unit_path=unit.path if unit is not None else actor.unit_path or None,
        details={
            "criteria": MessageToDict(request, preserving_proto_field_name=True),
            "rows": len(page.found),
            "total": page.total,
        },
    )


class _Noted:
    """An export's two entries in the audit trail, tied by an id of its own: the criteria as asked
    (the fields given, named as in the request) and the format; then the rows sent and whether all
    were. About the unit searched, or the caller's own unit when none was named."""

    def __init__(self, actor: Principal, export: service.Export, request: search_pb2.ExportPersonsRequest) -> None:
        unit = export.criteria.unit
        self.unit_path = unit.path if unit is not None else actor.unit_path
        self.details: dict[str, Any] = {
            "export_id": str(uuid.uuid4()),
            "criteria": MessageToDict(request.criteria, preserving_proto_field_name=True),
            "format": request.format,
        }

    async def started(self, session: AsyncSession) -> None:
        await self._note(session, {"stage": "started"})

    async def ended(self, session: AsyncSession, rows: int, completed: bool) -> None:
        await self._note(session, {"stage": "ended", "rows": rows, "completed": completed})

    async def _note(self, session: AsyncSession, details: dict[str, Any]) -> None:
        await trail.note_read(
            session,
            action=trail.EXPORT,
            what="persons",
            person=None,
            unit_path=self.unit_path,
            details=self.details | details,
        )


class _UnitNames:
    """The names of the units an export's rows name, each told once: as the units are named now, or
    with `as_of` as they were named that day (a unit dissolved by then keeps its last name)."""

    def __init__(self, as_of: date | None) -> None:
        self._as_of = as_of
        self._then: dict[str, str] | None = None
        self._told: set[str] = set()

    async def new(self, session: AsyncSession, unit_ids: Iterable[str]) -> dict[str, str]:
        wanted = set(unit_ids) - self._told
        if not wanted:
            return {}
        self._told |= wanted
        if self._as_of is not None and self._then is None:
            self._then = {u.unit_id: u.name for u in await history.tree_as_of(session, self._as_of)}
        then = self._then or {}
        found = {uid: then[uid] for uid in wanted if uid in then}
        if missing := sorted(wanted - set(found)):
            rows = await session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(missing)))
            found |= {uid: name for uid, name in rows}
        return found


def _criteria(request: search_pb2.SearchPersonsRequest) -> service.SearchRequest:
    return service.SearchRequest(
        q=request.q,
        personal_id=request.personal_id,
        staff_number=request.staff_number,
        unit_id=request.unit_id,
        include_subtree=request.include_subtree,
        status=request.status,
        rank=request.rank,
        rank_group=request.rank_group,
        post=request.post,
        qualification=request.qualification,
        political_theory=request.political_theory,
        state_management=request.state_management,
        foreign_language=request.foreign_language,
        it_level=request.it_level,
        evaluation_year=request.evaluation_year if request.HasField("evaluation_year") else None,
        evaluation_level=request.evaluation_level,
        sex=request.sex,
        ethnicity=request.ethnicity,
        religion=request.religion,
        home_province=request.home_province,
        reward=request.reward,
        discipline=request.discipline,
        contract_type=request.contract_type,
        salary_step=request.salary_step if request.HasField("salary_step") else None,
        party_member=request.party_member if request.HasField("party_member") else None,
        born_from=request.born_from,
        born_to=request.born_to,
        age_min=request.age_min if request.HasField("age_min") else None,
        age_max=request.age_max if request.HasField("age_max") else None,
        recruited_from=request.recruited_from,
        recruited_to=request.recruited_to,
        as_of=request.as_of,
        sort=request.sort,
        page=request.page,
        page_size=request.page_size,
    )


def _message(found: Found) -> personnel_pb2.Person:
    person = messages.to_proto(found.person, found.status)
    person.unit_id = found.unit_id
    return person
