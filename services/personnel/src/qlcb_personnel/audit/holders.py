"""Personnel's copy of identity's holder history (R-ACC-2), which the audit reads to name the
civil servant behind a purpose account on the day of each entry."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.identity.v1 import events_pb2
from qlcb_common import names
from qlcb_common.days import VIETNAM
from qlcb_common.events.envelope import unpack
from qlcb_personnel.audit.models import AccountHolder


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    """Handler of `qlcb.identity.holder.recorded` (inside the consumer's transaction; the contract
    has been checked). An assignment that has ended stays ended, whatever order the events of its
    beginning and end arrive in."""
    held = unpack(envelope, events_pb2.HolderRecorded).assignment
    valid_to = date.fromisoformat(held.valid_to) if held.valid_to else None
    row = await session.get(AccountHolder, held.id)
    if row is None:
        row = AccountHolder(id=held.id)
        session.add(row)
    elif valid_to is None and row.valid_to is not None:
        return
    row.account = held.account_username
    row.unit_path = held.unit_path
    row.holder_name = held.holder_name
    row.holder_personal_id = held.holder_personal_id or None
    row.holder_folded = names.fold(held.holder_name)
    row.valid_from = date.fromisoformat(held.valid_from)
    row.valid_to = valid_to
    row.held_from = _midnight(row.valid_from)
    row.held_until = _midnight(valid_to) if valid_to else None


def _midnight(day: date) -> datetime:
    """The day's first instant in Vietnam, where holdings begin and end."""
    return datetime.combine(day, time(), VIETNAM)
