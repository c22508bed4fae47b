"""Applies personnel events to the headcount read-model, inside the consumer's transaction."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2, personnel_pb2
from qlcb_common.events import subjects
from qlcb_common.events.envelope import unpack
from qlcb_reports.headcount.models import UnitHeadcount, UnitNode


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    if envelope.subject == subjects.PERSONNEL_UNIT_ESTABLISHED:
        unit = unpack(envelope, events_pb2.UnitEstablished).unit
        await session.merge(UnitNode(unit_id=unit.id, parent_id=unit.parent_id or None, path=unit.path, name=unit.name))
        if await session.get(UnitHeadcount, unit.id) is None:
            session.add(UnitHeadcount(unit_id=unit.id, headcount=0))
    elif envelope.subject == subjects.PERSONNEL_PERSON_CREATED:
        await _count(session, unpack(envelope, events_pb2.PersonCreated).person, +1)
    elif envelope.subject in subjects.PERSONNEL_PERSON_LEFT:
        await _count(session, unpack(envelope, events_pb2.PersonStatusChanged).person, -1)
    elif envelope.subject == subjects.PERSONNEL_PERSON_REINSTATED:
        await _count(session, unpack(envelope, events_pb2.PersonStatusChanged).person, +1)


async def _count(session: AsyncSession, person: personnel_pb2.Person, change: int) -> None:
    """People in service: created and reinstated count in, retired, resigned and died count out."""
    result = await session.execute(
        update(UnitHeadcount)
        .where(UnitHeadcount.unit_id == person.unit_id)
        .values(headcount=UnitHeadcount.headcount + change)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise LookupError(f"person {person.id} names unit {person.unit_id} not seen yet")
