"""Applies personnel events to the headcount read-model, inside the consumer's transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2, personnel_pb2
from qlcb_common.events import subjects
from qlcb_common.events.envelope import unpack
from qlcb_reports.headcount.models import UnitHeadcount, UnitNode

SUBJECTS = (
    subjects.PERSONNEL_UNIT_ESTABLISHED,
    subjects.PERSONNEL_UNIT_RENAMED,
    subjects.PERSONNEL_UNIT_MOVED,
    subjects.PERSONNEL_UNIT_DISSOLVED,
    subjects.PERSONNEL_PERSON_CREATED,
    *subjects.PERSONNEL_PERSON_LEFT,
    subjects.PERSONNEL_PERSON_REINSTATED,
    subjects.PERSONNEL_PERSON_TRANSFERRED,
)
"""What the headcount and the unit tree of the report regimes follow: reports subscribes to these
alone, so a record's changes (many per person) cost it nothing. A merge or split dissolves its
sources and establishes its new units, each with an event of its own."""


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    if envelope.subject == subjects.PERSONNEL_UNIT_ESTABLISHED:
        unit = unpack(envelope, events_pb2.UnitEstablished).unit
        kind = personnel_pb2.UnitKind.Name(unit.kind).removeprefix("UNIT_KIND_").lower()
        await session.merge(
            UnitNode(unit_id=unit.id, parent_id=unit.parent_id or None, path=unit.path, name=unit.name, kind=kind)
        )
        if await session.get(UnitHeadcount, unit.id) is None:
            session.add(UnitHeadcount(unit_id=unit.id, headcount=0))
    elif envelope.subject == subjects.PERSONNEL_PERSON_CREATED:
        await _count(session, unpack(envelope, events_pb2.PersonCreated).person.unit_id, +1)
    elif envelope.subject in subjects.PERSONNEL_PERSON_LEFT:
        await _count(session, unpack(envelope, events_pb2.PersonStatusChanged).person.unit_id, -1)
    elif envelope.subject == subjects.PERSONNEL_PERSON_REINSTATED:
        await _count(session, unpack(envelope, events_pb2.PersonStatusChanged).person.unit_id, +1)
    elif envelope.subject == subjects.PERSONNEL_PERSON_TRANSFERRED:
        moved = unpack(envelope, events_pb2.PersonTransferred)
        await _count(session, moved.to_unit.id, +1)
        await _count(session, moved.from_unit.id, -1)
    elif envelope.subject == subjects.PERSONNEL_UNIT_RENAMED:
        unit = unpack(envelope, events_pb2.UnitRenamed).unit
        await session.execute(update(UnitNode).where(UnitNode.unit_id == unit.id).values(name=unit.name))
    elif envelope.subject == subjects.PERSONNEL_UNIT_DISSOLVED:
        unit = unpack(envelope, events_pb2.UnitDissolved).unit
        dissolved_on = date.fromisoformat(unit.dissolved_on)
        await session.execute(update(UnitNode).where(UnitNode.unit_id == unit.id).values(dissolved_on=dissolved_on))
    elif envelope.subject == subjects.PERSONNEL_UNIT_MOVED:
        unit = unpack(envelope, events_pb2.UnitMoved).unit
        await session.execute(
            update(UnitNode).where(UnitNode.unit_id == unit.id).values(parent_id=unit.parent_id, path=unit.path)
        )


async def _count(session: AsyncSession, unit_id: str, change: int) -> None:
    """People in service: created, reinstated and transferred in count in; retired, resigned,
    died and transferred out count out."""
    result = await session.execute(
        update(UnitHeadcount).where(UnitHeadcount.unit_id == unit_id).values(headcount=UnitHeadcount.headcount + change)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise LookupError(f"unit {unit_id} not seen yet")
