"""Identity's copy of the records' appointments (`positions.models.Appointment`), from personnel's
record events, and what each change of a head appointment does to its holder's accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from keycloak import KeycloakAdmin
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2
from qlcb_common.days import vietnam_today
from qlcb_common.events import subjects
from qlcb_common.events.consumer import Handler
from qlcb_common.events.envelope import unpack
from qlcb_identity.positions import service
from qlcb_identity.positions.models import Appointment

POSITION_SUBJECTS = (subjects.PERSONNEL_RECORD_CHANGED,)
SECTION = "appointments"


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _is_head(changed: events_pb2.RecordEntryChanged) -> bool:
    return any(c.head for c in changed.coded if c.catalog == "posts")


async def _keep(session: AsyncSession, changed: events_pb2.RecordEntryChanged, today: date) -> bool:
    """Keeps the entry's version; False when a later version is kept already. A version already
    ended when it arrives is settled: only a term running out later is the daily check's."""
    entry = changed.entry
    kept = await session.get(Appointment, entry.entry_id, with_for_update=True)
    if kept is not None and kept.version >= entry.version:
        return False
    if kept is None:
        kept = Appointment(entry_id=entry.entry_id, personal_id=changed.personal_id)
        session.add(kept)
    kept.version = entry.version
    kept.head = _is_head(changed)
    kept.valid_from, kept.valid_to = _day(entry.valid_from), _day(entry.valid_to)
    kept.retracted = entry.change == "retracted"
    kept.recorded_by = entry.recorded_by
    kept.settled = not service.runs_on(kept.valid_to, today)
    return True


def projection(admin: Callable[[], KeycloakAdmin], today: Callable[[], date] = vietnam_today) -> Handler:
    """Acts when a change ends the last head post the holder held (a term closed or corrected to
    an end already passed, a post corrected to a deputy's, an appointment retracted); entering the
    history of earlier terms, all ended, changes nothing."""

    async def apply(session: AsyncSession, envelope: Envelope) -> None:
        changed = unpack(envelope, events_pb2.RecordEntryChanged)
        if changed.entry.section != SECTION or not changed.personal_id:
            return
        day = today()
        held = await service.holds_head(session, changed.personal_id, day)
        if not await _keep(session, changed, day):
            return
        if held and not await service.holds_head(session, changed.personal_id, day):
            await service.head_ended(
                session,
                admin,
                personal_id=changed.personal_id,
                recorded_by=changed.entry.recorded_by or envelope.actor,
                cause=envelope.event_id,
            )

    return apply
