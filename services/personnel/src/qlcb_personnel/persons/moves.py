"""A person changing units, whatever the cause (an accepted transfer, a merger, a split): one
place that moves the record and publishes `person.transferred`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import events_pb2
from qlcb_common.auth import Principal
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_personnel.decisions import Decision
from qlcb_personnel.persons import status
from qlcb_personnel.persons.messages import ACTIVE, to_proto
from qlcb_personnel.persons.models import Person
from qlcb_personnel.search import days, facts
from qlcb_personnel.units import service as units
from qlcb_personnel.units.models import Unit


async def active_persons(session: AsyncSession, unit_id: str) -> list[Person]:
    """People of the unit in service (not retired, resigned, deceased or moved out), by staff number."""
    persons = list(
        (await session.scalars(select(Person).where(Person.unit_id == unit_id).order_by(Person.staff_number))).all()
    )
    latest = await status.current(session, [p.id for p in persons])
    return [p for p in persons if p.id not in latest or latest[p.id].status == ACTIVE]


async def move_person(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    person: Person,
    from_unit: Unit,
    to_unit: Unit,
    reason: events_pb2.MoveReason.ValueType,
    decided: Decision,
    transfer_id: str = "",
) -> None:
    person.unit_id = to_unit.id
    await session.flush()
    await facts.placed(session, person_id=person.id, unit_id=to_unit.id, since=decided.effective)
    await days.refresh(session, [person.id])
    await outbox.add(
        session,
        subject=subjects.PERSONNEL_PERSON_TRANSFERRED,
        payload=events_pb2.PersonTransferred(
            person=to_proto(person),
            from_unit=units.to_proto(from_unit),
            to_unit=units.to_proto(to_unit),
            reason=reason,
            effective_date=decided.effective.isoformat(),
            decision=decided.number,
            transfer_id=transfer_id,
        ),
        actor=actor.subject,
    )
