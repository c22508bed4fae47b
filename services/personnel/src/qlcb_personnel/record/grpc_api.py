from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from google.protobuf.json_format import MessageToDict
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import personnel_pb2, record_pb2, record_pb2_grpc
from qlcb_common import authz
from qlcb_common import personnel_rules as rules
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.days import vietnam_today
from qlcb_common.db import Database
from qlcb_common.errors import FieldViolation, InvalidArgument
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.audit import trail
from qlcb_personnel.catalogs import messages as catalog_messages
from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.persons import messages as person_messages
from qlcb_personnel.persons.models import Person
from qlcb_personnel.record import messages, retirement, salary, terms
from qlcb_personnel.record import service as record
from qlcb_personnel.record.service import DecisionInput, EntryInput

T = TypeVar("T")

Context = Any


def parse_as_of(value: str) -> date | None:
    if not value:
        return None
    violations: list[FieldViolation] = []
    day = rules.iso_date(value, violations, "as_of", "Ngày phải theo dạng YYYY-MM-DD")
    if violations:
        raise InvalidArgument(violations)
    return day


def _known_at(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgument.single(
            "known_at", "Thời điểm phải theo RFC 3339, ví dụ 2026-12-01T08:00:00+07:00"
        ) from None
    if moment.tzinfo is None:
        raise InvalidArgument.single("known_at", "Thời điểm phải ghi múi giờ, ví dụ +07:00")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidArgument.single("known_at", "Thời điểm ngoài khoảng năm 1–9999 khi đổi về giờ UTC") from None


def _input(message: record_pb2.RecordEntryInput, where: str = "") -> EntryInput:
    """The entry as the service takes it; `where` prefixes the field a refusal names."""
    try:
        values = json.loads(message.values_json or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidArgument.single(f"{where}values", f"không phải JSON: {exc.msg}") from None
    if not isinstance(values, dict):
        raise InvalidArgument.single(f"{where}values", "phải là một đối tượng JSON")
    decision = message.decision
    return EntryInput(
        values=values,
        valid_from=message.valid_from,
        valid_to=message.valid_to,
        decision=DecisionInput(
            number=decision.number,
            date=decision.date,
            body=decision.body,
            signer=decision.signer,
            signer_post=decision.signer_post,
        ),
    )


def _in_service(person: Person) -> personnel_pb2.Person:
    """A person of a list that holds only people in service (who is due to retire, whose term ends)."""
    return person_messages.to_proto(person, person_messages.ACTIVE)


def _term(term: terms.Term) -> record_pb2.TermOfOffice:
    return record_pb2.TermOfOffice(
        entry_id=term.entry.entry_id,
        section=term.entry.section,
        post=str(term.entry.values.get("post") or ""),
        ends_on=term.ends_on.isoformat(),
    )


class PersonRecordServicer(record_pb2_grpc.PersonRecordServiceServicer):
    def __init__(self, db: Database, outbox: Outbox, delegations: DelegationCopy) -> None:
        self._db = db
        self._outbox = outbox
        self._delegations = delegations

    async def _granted(self, session: AsyncSession) -> list[Delegation]:
        return await self._delegations.for_caller(session, current_principal())

    async def GetRecord(self, request: record_pb2.GetRecordRequest, context: Context) -> record_pb2.GetRecordResponse:
        as_of, known_at = parse_as_of(request.as_of), _known_at(request.known_at)
        async with self._db.unit_of_work(keyed=True) as session:
            person, status_now, sections, entries = await record.whole_record(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.person_id,
                as_of=as_of,
                known_at=known_at,
            )
            # Only to a caller who reads every section it depends on: a date moved by a discipline or
            # a year not completed would tell of entries the caller may not read.
            raises = {s.name for s in sections}.issuperset(salary.RAISE_SECTIONS)
            # The entries just read serve, if they are the current ones.
            read = entries if known_at is None else None
            codes = salary.catalog_codes(read) if raises and read is not None else set()
            if (schedule_code := retirement.schedule_code(person.sex)) is not None:
                codes.add(schedule_code)
            await catalogs.read_versions(session, codes)
            raise_due = None
            if raises:
                raise_due = await salary.next_regular_raise(session, person.id, as_of or vietnam_today(), read)
            schedule = await retirement.schedule_of(session, person.sex, vietnam_today())
        retires_on = retirement.retirement_date(person.date_of_birth, schedule) if schedule else None
        return record_pb2.GetRecordResponse(
            person=person_messages.to_proto(person, status_now),
            sections=[s.name for s in sections],
            entries=[messages.to_proto(e) for e in entries],
            next_regular_raise=raise_due.isoformat() if raise_due else "",
            retirement_date=retires_on.isoformat() if retires_on else "",
            terms=[_term(term) for term in terms.current_terms(entries, as_of or vietnam_today())],
        )

    async def ListRecordEntries(
        self, request: record_pb2.ListRecordEntriesRequest, context: Context
    ) -> record_pb2.ListRecordEntriesResponse:
        as_of, known_at = parse_as_of(request.as_of), _known_at(request.known_at)
        async with self._db.unit_of_work(keyed=True) as session:
            entries = await record.list_entries(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.person_id,
                section_name=request.section,
                as_of=as_of,
                known_at=known_at,
            )
        return record_pb2.ListRecordEntriesResponse(entries=[messages.to_proto(e) for e in entries])

    async def ListRecordEntryVersions(
        self, request: record_pb2.ListRecordEntryVersionsRequest, context: Context
    ) -> record_pb2.ListRecordEntryVersionsResponse:
        async with self._db.unit_of_work(keyed=True) as session:
            versions = await record.entry_versions(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.person_id,
                section_name=request.section,
                entry_id=request.entry_id,
            )
        return record_pb2.ListRecordEntryVersionsResponse(entries=[messages.to_proto(e) for e in versions])

    async def AddRecordEntry(
        self, request: record_pb2.AddRecordEntryRequest, context: Context
    ) -> record_pb2.AddRecordEntryResponse:
        data = _input(request.input)
        async with self._db.unit_of_work(keyed=True) as session:
            entry = await record.add_entry(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.person_id,
                section_name=request.section,
                data=data,
            )
        return record_pb2.AddRecordEntryResponse(entry=messages.to_proto(entry))

    async def AddRecordEntries(
        self, request: record_pb2.AddRecordEntriesRequest, context: Context
    ) -> record_pb2.AddRecordEntriesResponse:
        items = [(item.section, _input(item.input, f"entries[{index}].")) for index, item in enumerate(request.entries)]
        async with self._db.unit_of_work(keyed=True) as session:
            entries = await record.add_entries(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.person_id,
                items=items,
            )
        return record_pb2.AddRecordEntriesResponse(entries=[messages.to_proto(e) for e in entries])

    async def CorrectRecordEntry(
        self, request: record_pb2.CorrectRecordEntryRequest, context: Context
    ) -> record_pb2.CorrectRecordEntryResponse:
        data = _input(request.input)
        async with self._db.unit_of_work(keyed=True) as session:
            entry = await record.correct_entry(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.person_id,
                section_name=request.section,
                entry_id=request.entry_id,
                expected_version=request.expected_version,
                data=data,
            )
        return record_pb2.CorrectRecordEntryResponse(entry=messages.to_proto(entry))

    async def RetractRecordEntry(
        self, request: record_pb2.RetractRecordEntryRequest, context: Context
    ) -> record_pb2.RetractRecordEntryResponse:
        async with self._db.unit_of_work(keyed=True) as session:
            entry = await record.retract_entry(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.person_id,
                section_name=request.section,
                entry_id=request.entry_id,
                expected_version=request.expected_version,
            )
        return record_pb2.RetractRecordEntryResponse(entry=messages.to_proto(entry))

    async def ListRetirementsDue(
        self, request: record_pb2.ListRetirementsDueRequest, context: Context
    ) -> record_pb2.ListRetirementsDueResponse:
        due = await self._in_period(request, retirement.due_between, "retirements_due")
        return record_pb2.ListRetirementsDueResponse(
            items=[
                record_pb2.RetirementDue(person=_in_service(d.person), retires_on=d.retires_on.isoformat()) for d in due
            ]
        )

    async def ListTermsEnding(
        self, request: record_pb2.ListTermsEndingRequest, context: Context
    ) -> record_pb2.ListTermsEndingResponse:
        ending = await self._in_period(request, terms.ending_between, "terms_ending")
        return record_pb2.ListTermsEndingResponse(
            items=[record_pb2.TermEnding(person=_in_service(e.person), term=_term(e.term)) for e in ending]
        )

    async def _in_period(
        self,
        request: record_pb2.ListRetirementsDueRequest | record_pb2.ListTermsEndingRequest,
        find: Callable[..., Awaitable[list[T]]],
        what: str,
    ) -> list[T]:
        """What `find` lists of a unit (or subtree) for a period, as the caller may see it, noted in
        the audit trail as `what`."""
        async with self._db.unit_of_work() as session:
            found = await find(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                unit_id=request.unit_id,
                include_subtree=request.include_subtree,
                start=request.from_date,
                end=request.to_date,
            )
            await trail.note_list(
                session,
                what=what,
                unit_id=request.unit_id,
                criteria=MessageToDict(request, preserving_proto_field_name=True),
                rows=len(found),
            )
        return found

    async def ListCatalogValues(
        self, request: record_pb2.ListCatalogValuesRequest, context: Context
    ) -> record_pb2.ListCatalogValuesResponse:
        day = parse_as_of(request.as_of) or vietnam_today()
        authz.require(current_principal(), Section.CATALOG, Action.READ, "/")
        async with self._db.unit_of_work() as session:
            values = await catalogs.values_on(session, request.catalog, day, request.parent)
        return record_pb2.ListCatalogValuesResponse(values=[catalog_messages.to_proto(v) for v in values])

    async def PutCatalogValue(
        self, request: record_pb2.PutCatalogValueRequest, context: Context
    ) -> record_pb2.PutCatalogValueResponse:
        try:
            attributes = json.loads(request.attributes_json or "{}")
        except json.JSONDecodeError as exc:
            raise InvalidArgument.single("attributes", f"không phải JSON: {exc.msg}") from None
        if not isinstance(attributes, dict):
            raise InvalidArgument.single("attributes", "phải là một đối tượng JSON")
        data = catalogs.ValueInput(
            label=request.label,
            valid_from=request.valid_from,
            legal_basis=request.legal_basis,
            stat_group=request.stat_group,
            attributes=attributes,
        )
        async with self._db.unit_of_work() as session:
            value = await catalogs.put_value(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                catalog=request.catalog,
                code=request.code,
                data=data,
            )
            await session.flush()
            message = catalog_messages.to_proto(value)
        return record_pb2.PutCatalogValueResponse(value=message)

    async def EndCatalogValue(
        self, request: record_pb2.EndCatalogValueRequest, context: Context
    ) -> record_pb2.EndCatalogValueResponse:
        async with self._db.unit_of_work() as session:
            value = await catalogs.end_value(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                catalog=request.catalog,
                code=request.code,
                valid_to=request.valid_to,
            )
            message = catalog_messages.to_proto(value)
        return record_pb2.EndCatalogValueResponse(value=message)
