"""Applies personnel events to the headcount read-model, inside the consumer's transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2, personnel_pb2
from qlcb_common.events import subjects
from qlcb_common.events.consumer import stream_sequence
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


UnitEvent = events_pb2.UnitEstablished | events_pb2.UnitRenamed | events_pb2.UnitMoved | events_pb2.UnitDissolved

UNIT_EVENTS: dict[str, type[UnitEvent]] = {
    subjects.PERSONNEL_UNIT_ESTABLISHED: events_pb2.UnitEstablished,
    subjects.PERSONNEL_UNIT_RENAMED: events_pb2.UnitRenamed,
    subjects.PERSONNEL_UNIT_MOVED: events_pb2.UnitMoved,
    subjects.PERSONNEL_UNIT_DISSOLVED: events_pb2.UnitDissolved,
}
"""Each carries the whole unit as the change left it."""


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    if event := UNIT_EVENTS.get(envelope.subject):
        message: UnitEvent = unpack(envelope, event)
        node = await _unit(session, message.unit, stream_sequence(session, envelope))
        if isinstance(message, events_pb2.UnitEstablished) and message.established_on:
            node.established_on = date.fromisoformat(message.established_on)
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


async def _unit(session: AsyncSession, unit: personnel_pb2.Unit, sequence: int) -> UnitNode:
    """The unit's name, kind and place as the latest published of its events gives them, whatever
    order they arrive in (a rename handed over before the unit's establishment creates the row, and
    the establishment then changes nothing of it); its dissolution, which is final, whenever that
    arrives. Its establishment's date is set by its caller, as whenever it arrives."""
    node = await session.get(UnitNode, unit.id)
    if node is None:
        node = UnitNode(unit_id=unit.id, sequence=sequence)
        _place(node, unit)
        session.add(node)
        await session.flush()  # the headcount's row refers to it
        session.add(UnitHeadcount(unit_id=unit.id, headcount=0))
    elif sequence > node.sequence:
        _place(node, unit)
        node.sequence = sequence
    if unit.dissolved_on:
        node.dissolved_on = date.fromisoformat(unit.dissolved_on)
    return node


def _place(node: UnitNode, unit: personnel_pb2.Unit) -> None:
    node.name = unit.name
    node.kind = personnel_pb2.UnitKind.Name(unit.kind).removeprefix("UNIT_KIND_").lower()
    node.parent_id = unit.parent_id or None
    node.path = unit.path


async def _count(session: AsyncSession, unit_id: str, change: int) -> None:
    """People in service: created, reinstated and transferred in count in; retired, resigned,
    died and transferred out count out."""
    result = await session.execute(
        update(UnitHeadcount).where(UnitHeadcount.unit_id == unit_id).values(headcount=UnitHeadcount.headcount + change)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise LookupError(f"unit {unit_id} not seen yet")
