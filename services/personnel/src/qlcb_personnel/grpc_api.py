from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from qlcb_common.authz import Delegation
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.errors import AlreadyExists
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.persons import messages, status
from qlcb_personnel.persons import service as persons
from qlcb_personnel.persons.models import Person, PersonStatusEntry
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
        return personnel_pb2.GetUnitResponse(unit=units.to_proto(unit))

    async def ListUnits(
        self, request: personnel_pb2.ListUnitsRequest, context: Context
    ) -> personnel_pb2.ListUnitsResponse:
        async with self._db.unit_of_work() as session:
            found = await units.list_units(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
            )
        return personnel_pb2.ListUnitsResponse(units=[units.to_proto(u) for u in found])

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
        async with self._db.unit_of_work() as session:
            person = await persons.get_person(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.id,
            )
            statuses = await status.current(session, [person.id])
        return personnel_pb2.GetPersonResponse(person=_message(person, statuses))

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


def _message(person: Person, statuses: dict[str, PersonStatusEntry]) -> personnel_pb2.Person:
    entry = statuses.get(person.id)
    return messages.to_proto(person, entry.status) if entry else messages.to_proto(person)
