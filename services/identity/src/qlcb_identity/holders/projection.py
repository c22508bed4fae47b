"""Keeps identity's copy of who works where (`holders`) from personnel's person events."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2, personnel_pb2
from qlcb_common.events import subjects
from qlcb_common.events.envelope import unpack
from qlcb_identity.holders.models import Holder

HOLDER_SUBJECTS = (
    subjects.PERSONNEL_PERSON_CREATED,
    *subjects.PERSONNEL_PERSON_LEFT,
    subjects.PERSONNEL_PERSON_REINSTATED,
    subjects.PERSONNEL_PERSON_TRANSFERRED,
)


def _status(person: personnel_pb2.Person) -> str:
    return personnel_pb2.PersonStatus.Name(person.status).removeprefix("PERSON_STATUS_").lower()


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    now = datetime.now(UTC)
    if envelope.subject == subjects.PERSONNEL_PERSON_CREATED:
        created = unpack(envelope, events_pb2.PersonCreated)
        if not created.HasField("unit"):
            return  # published before events carried the unit: the record stays unknown here
        person, unit_path = created.person, created.unit.path
    elif envelope.subject == subjects.PERSONNEL_PERSON_TRANSFERRED:
        moved = unpack(envelope, events_pb2.PersonTransferred)
        person, unit_path = moved.person, moved.to_unit.path
    else:
        person = unpack(envelope, events_pb2.PersonStatusChanged).person
        known = await session.get(Holder, person.personal_id)
        if known is None:
            return
        known.status, known.full_name, known.updated_at = _status(person), person.full_name, now
        return
    await session.merge(
        Holder(
            personal_id=person.personal_id,
            person_id=person.id,
            full_name=person.full_name,
            unit_path=unit_path,
            status=_status(person),
            updated_at=now,
        )
    )
