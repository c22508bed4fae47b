"""Reports' copy of identity's holder history (R-ACC-2): the audit of a report's workflow names the
civil servant behind a purpose account ("Nhân sự 1") who took each step.

A step keeps the holder its account had when it was taken, as the copy then told (`kept_for`, ADR
0047): a later hand-over, on the same day too, does not make it the next holder's. A step taken
before the copy heard of any holding keeps none, and is named by the copy when it is read
(`named`), as every step was before."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.identity.v1 import events_pb2
from qlcb_common.days import VIETNAM
from qlcb_common.events.envelope import unpack
from qlcb_reports.audit.models import AccountHolder


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    """Handler of `qlcb.identity.holder.recorded`. An assignment that has ended stays ended,
    whatever order the events of its beginning and end arrive in."""
    held = unpack(envelope, events_pb2.HolderRecorded).assignment
    valid_to = date.fromisoformat(held.valid_to) if held.valid_to else None
    row = await session.get(AccountHolder, held.id)
    if row is None:
        row = AccountHolder(id=held.id)
        session.add(row)
    elif valid_to is None and row.valid_to is not None:
        return
    row.account = held.account_username
    row.holder_name = held.holder_name
    row.holder_personal_id = held.holder_personal_id or None
    row.valid_from = date.fromisoformat(held.valid_from)
    row.valid_to = valid_to


async def holder_on(session: AsyncSession, account: str, day: date) -> str | None:
    """The name of who held `account` on `day`; None for a personal account (or one never assigned)."""
    found: str | None = await session.scalar(_holding(AccountHolder.holder_name, account, day))
    return found


async def personal_id_on(session: AsyncSession, account: str, day: date) -> str | None:
    """The personal id of who held `account` on `day`, if the copy knows the holder and the holder
    has a record."""
    found: str | None = await session.scalar(_holding(AccountHolder.holder_personal_id, account, day))
    return found


def _holding(column: InstrumentedAttribute[Any], account: str, day: date) -> Select[tuple[Any]]:
    return (
        select(column)
        .where(
            AccountHolder.account == account,
            AccountHolder.valid_from <= day,
            or_(AccountHolder.valid_to.is_(None), AccountHolder.valid_to > day),
        )
        .order_by(AccountHolder.valid_from.desc())
        .limit(1)
    )


async def kept_for(session: AsyncSession, account: str, at: datetime) -> str | None:
    """The holder to keep with a step the account takes at `at`; None when the copy knows none yet."""
    return await holder_on(session, account, at.astimezone(VIETNAM).date())


async def named(session: AsyncSession, kept: str | None, account: str, at: datetime) -> str | None:
    """Who took a step: the holder kept with it, else the copy's holder of the account that day."""
    if kept is not None:
        return kept
    return await holder_on(session, account, at.astimezone(VIETNAM).date())
