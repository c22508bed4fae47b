from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from google.protobuf.json_format import MessageToDict
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from qlcb_common.authz import Delegation
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.errors import AlreadyExists
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.audit import trail
from qlcb_personnel.persons import messages, status, transfers
from qlcb_personnel.persons import service as persons
from qlcb_personnel.persons.models import Person, PersonStatusEntry
from qlcb_personnel.units import changes, directory, history
from qlcb_personnel.units import service as units

Context = Any


class PersonnelServicer(personnel_pb2_grpc.PersonnelServiceServicer):
    def __init__(self, db: Database, outbox: Outbox, delegations: DelegationCopy) -> None:
        self._db = db
        self._outbox = outbox
        self._delegations = delegations

    async def _granted(self, session: AsyncSession) -> list[Delegation]:
        """Delegations to the caller's unit, as identity last published them."""
        return await self._delegations.for_caller(session, current_principal())

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """A unit of work whose unique-key races surface as ALREADY_EXISTS."""
        try:
            async with self._db.unit_of_work() as session:
                yield session
        except IntegrityError as exc:
            raise AlreadyExists("Bản ghi trùng khóa với bản ghi vừa được tạo") from exc

    async def CreateUnit(
        self, request: personnel_pb2.CreateUnitRequest, context: Context
    ) -> personnel_pb2.CreateUnitResponse:
        async with self._write() as session:
            unit = await units.establish_unit(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                delegations=await self._granted(session),
                code=request.code,
                name=request.name,
                kind=personnel_pb2.UnitKind.Name(request.kind),
                parent_id=request.parent_id,
                effective_date=request.effective_date,
                decision=request.decision,
            )
        return personnel_pb2.CreateUnitResponse(unit=units.to_proto(unit))

    async def GetUnit(self, request: personnel_pb2.GetUnitRequest, context: Context) -> personnel_pb2.GetUnitResponse:
        async with self._db.unit_of_work() as session:
            unit = await units.get_unit(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                unit_id=request.id,
            )
            gone = await history.dissolved_on(session, [unit.id])
        return personnel_pb2.GetUnitResponse(unit=units.to_proto(unit, gone.get(unit.id)))

    async def ListUnits(
        self, request: personnel_pb2.ListUnitsRequest, context: Context
    ) -> personnel_pb2.ListUnitsResponse:
        async with self._db.unit_of_work() as session:
            granted = await self._granted(session)
            if request.as_of:
                tree = await units.list_units_as_of(
                    session, actor=current_principal(), delegations=granted, as_of=request.as_of
                )
                return personnel_pb2.ListUnitsResponse(units=tree)
            found = await units.list_units(session, actor=current_principal(), delegations=granted)
            gone = await history.dissolved_on(session, [u.id for u in found])
        return personnel_pb2.ListUnitsResponse(units=[units.to_proto(u, gone.get(u.id)) for u in found])

    async def ListUnitDirectory(
        self, request: personnel_pb2.ListUnitDirectoryRequest, context: Context
    ) -> personnel_pb2.ListUnitDirectoryResponse:
        async with self._db.unit_of_work() as session:
            found = await directory.directory(session, actor=current_principal(), query=request.q, limit=request.limit)
        return personnel_pb2.ListUnitDirectoryResponse(units=[units.to_proto(u) for u in found])

    async def CreatePerson(
        self, request: personnel_pb2.CreatePersonRequest, context: Context
    ) -> personnel_pb2.CreatePersonResponse:
        data = persons.PersonCreate(
            personal_id=request.personal_id,
            staff_number=request.staff_number,
            full_name=request.full_name,
            date_of_birth=request.date_of_birth,
            sex=personnel_pb2.Sex.Name(request.sex),
            unit_id=request.unit_id,
        )
        async with self._write() as session:
            person = await persons.create_person(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                delegations=await self._granted(session),
                data=data,
            )
        return personnel_pb2.CreatePersonResponse(person=messages.to_proto(person))

    async def GetPerson(
        self, request: personnel_pb2.GetPersonRequest, context: Context
    ) -> personnel_pb2.GetPersonResponse:
        async with self._db.unit_of_work(keyed=True) as session:
            person, _path, status_now = await persons.visible_person_in_status(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.id,
            )
        return personnel_pb2.GetPersonResponse(person=messages.to_proto(person, status_now))

    async def ListPersons(
        self, request: personnel_pb2.ListPersonsRequest, context: Context
    ) -> personnel_pb2.ListPersonsResponse:
        async with self._db.unit_of_work() as session:
            found, next_token = await persons.list_persons(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                unit_id=request.unit_id,
                include_subtree=request.include_subtree,
                page_size=request.page_size,
                page_token=request.page_token,
            )
            statuses = await status.current(session, [p.id for p in found])
            await trail.note_list(
                session,
                what="persons",
                unit_id=request.unit_id,
                criteria=MessageToDict(request, preserving_proto_field_name=True),
                rows=len(found),
            )
        return personnel_pb2.ListPersonsResponse(
            persons=[_message(p, statuses) for p in found], next_page_token=next_token
        )

    async def ChangePersonStatus(
        self, request: personnel_pb2.ChangePersonStatusRequest, context: Context
    ) -> personnel_pb2.ChangePersonStatusResponse:
        new_status = personnel_pb2.PersonStatus.Name(request.status)
        async with self._write() as session:
            person, _previous = await status.change_status(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.person_id,
                status=new_status,
                effective_date=request.effective_date,
                decision=request.decision,
            )
        return personnel_pb2.ChangePersonStatusResponse(person=messages.to_proto(person, new_status))

    @asynccontextmanager
    async def _change(self) -> AsyncIterator[tuple[AsyncSession, changes.Context]]:
        """A write unit of work with what a change of the unit tree needs."""
        async with self._write() as session:
            yield session, changes.Context(self._outbox, current_principal(), await self._granted(session))

    async def RenameUnit(
        self, request: personnel_pb2.RenameUnitRequest, context: Context
    ) -> personnel_pb2.RenameUnitResponse:
        async with self._change() as (session, ctx):
            unit = await changes.rename_unit(
                session,
                ctx,
                unit_id=request.unit_id,
                name=request.name,
                effective_date=request.effective_date,
                decision=request.decision,
            )
        return personnel_pb2.RenameUnitResponse(unit=units.to_proto(unit))

    async def MoveUnit(
        self, request: personnel_pb2.MoveUnitRequest, context: Context
    ) -> personnel_pb2.MoveUnitResponse:
        async with self._change() as (session, ctx):
            unit = await changes.move_unit(
                session,
                ctx,
                unit_id=request.unit_id,
                new_parent_id=request.new_parent_id,
                effective_date=request.effective_date,
                decision=request.decision,
            )
        return personnel_pb2.MoveUnitResponse(unit=units.to_proto(unit))

    async def DissolveUnit(
        self, request: personnel_pb2.DissolveUnitRequest, context: Context
    ) -> personnel_pb2.DissolveUnitResponse:
        async with self._change() as (session, ctx):
            unit = await changes.dissolve_unit(
                session, ctx, unit_id=request.unit_id, effective_date=request.effective_date, decision=request.decision
            )
            gone = await history.dissolved_on(session, [unit.id])
        return personnel_pb2.DissolveUnitResponse(unit=units.to_proto(unit, gone.get(unit.id)))

    async def MergeUnits(
        self, request: personnel_pb2.MergeUnitsRequest, context: Context
    ) -> personnel_pb2.MergeUnitsResponse:
        async with self._change() as (session, ctx):
            target, sources, moved = await changes.merge_units(
                session,
                ctx,
                source_unit_ids=list(request.source_unit_ids),
                target_unit_id=request.target_unit_id,
                effective_date=request.effective_date,
                decision=request.decision,
            )
            gone = await history.dissolved_on(session, [s.id for s in sources])
        return personnel_pb2.MergeUnitsResponse(
            target=units.to_proto(target),
            sources=[units.to_proto(s, gone.get(s.id)) for s in sources],
            persons_moved=moved,
        )

    async def SplitUnit(
        self, request: personnel_pb2.SplitUnitRequest, context: Context
    ) -> personnel_pb2.SplitUnitResponse:
        async with self._change() as (session, ctx):
            source, created = await changes.split_unit(
                session,
                ctx,
                unit_id=request.unit_id,
                successors=[
                    changes.Successor(s.code, s.name, personnel_pb2.UnitKind.Name(s.kind)) for s in request.successors
                ],
                persons=[(a.id, a.successor_code) for a in request.persons],
                sub_units=[(a.id, a.successor_code) for a in request.sub_units],
                effective_date=request.effective_date,
                decision=request.decision,
            )
            gone = await history.dissolved_on(session, [source.id])
        return personnel_pb2.SplitUnitResponse(
            source=units.to_proto(source, gone.get(source.id)), successors=[units.to_proto(u) for u in created]
        )

    async def ListUnitChanges(
        self, request: personnel_pb2.ListUnitChangesRequest, context: Context
    ) -> personnel_pb2.ListUnitChangesResponse:
        async with self._db.unit_of_work() as session:
            unit = await units.get_unit(
                session, actor=current_principal(), delegations=await self._granted(session), unit_id=request.unit_id
            )
            rows = await history.changes_of(session, unit.id)
        return personnel_pb2.ListUnitChangesResponse(
            changes=[
                personnel_pb2.UnitChange(
                    change=row.change,
                    unit=personnel_pb2.Unit(
                        id=unit.id,
                        code=unit.code,
                        name=row.name,
                        kind=personnel_pb2.UnitKind.Value(unit.kind),
                        parent_id=row.parent_id or "",
                        path=row.path,
                        dissolved_on=row.effective_date.isoformat() if row.dissolved else "",
                    ),
                    effective_date=units.effective_iso(row.effective_date),
                    decision=row.decision,
                    recorded_at=row.recorded_at.isoformat(),
                    recorded_by=row.recorded_by,
                )
                for row in rows
            ]
        )

    async def SendTransfer(
        self, request: personnel_pb2.SendTransferRequest, context: Context
    ) -> personnel_pb2.SendTransferResponse:
        async with self._write() as session:
            transfer = await transfers.send(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.person_id,
                to_unit_id=request.to_unit_id,
                effective_date=request.effective_date,
                decision=request.decision,
            )
        return personnel_pb2.SendTransferResponse(transfer=transfers.to_proto(transfer))

    async def AcceptTransfer(
        self, request: personnel_pb2.AcceptTransferRequest, context: Context
    ) -> personnel_pb2.AcceptTransferResponse:
        async with self._write() as session:
            transfer, person = await transfers.accept(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                delegations=await self._granted(session),
                transfer_id=request.transfer_id,
            )
        return personnel_pb2.AcceptTransferResponse(
            transfer=transfers.to_proto(transfer), person=messages.to_proto(person)
        )

    async def DeclineTransfer(
        self, request: personnel_pb2.DeclineTransferRequest, context: Context
    ) -> personnel_pb2.DeclineTransferResponse:
        async with self._write() as session:
            transfer = await transfers.decline(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                transfer_id=request.transfer_id,
                reason=request.reason,
            )
        return personnel_pb2.DeclineTransferResponse(transfer=transfers.to_proto(transfer))

    async def WithdrawTransfer(
        self, request: personnel_pb2.WithdrawTransferRequest, context: Context
    ) -> personnel_pb2.WithdrawTransferResponse:
        async with self._write() as session:
            transfer = await transfers.withdraw(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                transfer_id=request.transfer_id,
                reason=request.reason,
            )
        return personnel_pb2.WithdrawTransferResponse(transfer=transfers.to_proto(transfer))

    async def ListTransfers(
        self, request: personnel_pb2.ListTransfersRequest, context: Context
    ) -> personnel_pb2.ListTransfersResponse:
        async with self._db.unit_of_work() as session:
            found = await transfers.list_for_unit(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                unit_id=request.unit_id,
                direction=personnel_pb2.TransferDirection.Name(request.direction),
                status_filter=personnel_pb2.TransferStatus.Name(request.status),
                include_subtree=request.include_subtree,
            )
            await trail.note_list(
                session,
                what="transfers",
                unit_id=request.unit_id,
                criteria=MessageToDict(request, preserving_proto_field_name=True),
                rows=len(found),
            )
        return personnel_pb2.ListTransfersResponse(transfers=[transfers.to_proto(t) for t in found])


def _message(person: Person, statuses: dict[str, PersonStatusEntry]) -> personnel_pb2.Person:
    entry = statuses.get(person.id)
    return messages.to_proto(person, entry.status) if entry else messages.to_proto(person)
