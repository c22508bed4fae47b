"""Reading the audit trail (R-AUD-1): by record, unit, account, holder, action and time, inside
the caller's scope, newest first; and verifying its hash chain."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz, names
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Section
from qlcb_common.errors import FieldViolation, InvalidArgument, NotFound
from qlcb_common.identifiers import PERSONAL_ID
from qlcb_personnel.audit import chain, trail
from qlcb_personnel.audit.models import AccountHolder, AuditEntry
from qlcb_personnel.audit.published import Reading
from qlcb_personnel.units.models import Unit

MAX_PAGE_SIZE = 200
ACTIONS = (trail.CREATE, trail.UPDATE, trail.DELETE, trail.READ, trail.RESUME, trail.EXPORT, trail.IMPORT)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Criteria:
    person_id: str = ""
    unit_id: str = ""
    include_subtree: bool = False
    account: str = ""
    holder: str = ""
    action: str = ""
    occurred_from: str = ""
    occurred_to: str = ""
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True)
class Found:
    entry: AuditEntry
    holder_name: str
    """Who held the purpose account when the entry was written; "" for an account nobody held."""
    holder_personal_id: str


def _instant(value: str, field: str, violations: list[FieldViolation]) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        violations.append(FieldViolation(field, "Thời điểm phải theo RFC 3339, ví dụ 2026-12-01T08:00:00+07:00"))
        return None
    if moment.tzinfo is None:
        violations.append(FieldViolation(field, "Thời điểm phải ghi múi giờ, ví dụ +07:00"))
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        violations.append(FieldViolation(field, "Thời điểm ngoài khoảng năm 1–9999 khi đổi về giờ UTC"))
        return None


def _checked(criteria: Criteria) -> tuple[datetime | None, datetime | None]:
    violations: list[FieldViolation] = []
    if criteria.action and criteria.action not in ACTIONS:
        violations.append(FieldViolation("action", f"Phải là một trong: {', '.join(ACTIONS)}"))
    if not 1 <= criteria.page <= 1_000_000:
        violations.append(FieldViolation("page", "Trang phải từ 1 đến 1.000.000"))
    if not 1 <= criteria.page_size <= MAX_PAGE_SIZE:
        violations.append(FieldViolation("page_size", f"Số dòng một trang phải từ 1 đến {MAX_PAGE_SIZE}"))
    if len(criteria.holder) > 150:
        violations.append(FieldViolation("holder", "Dài quá 150 ký tự"))
    if len(criteria.account) > 255:
        violations.append(FieldViolation("account", "Dài quá 255 ký tự"))
    since = _instant(criteria.occurred_from, "occurred_from", violations)
    until = _instant(criteria.occurred_to, "occurred_to", violations)
    if since and until and until <= since:
        violations.append(FieldViolation("occurred_to", "Phải sau occurred_from"))
    if violations:
        raise InvalidArgument(violations)
    return since, until


def _held_by(holder: str) -> ColumnElement[bool]:
    """Entries of a purpose account written while the holder named held it: by the holder the entry
    keeps, or for an entry written before entries kept one, by the holder history as it is now."""
    if PERSONAL_ID.fullmatch(holder):
        kept = AuditEntry.holder_personal_id == holder
        who = AccountHolder.holder_personal_id == holder
    else:
        folded = _SPACES.sub(" ", names.fold(holder)).strip()
        kept = AuditEntry.holder_folded.contains(folded, autoescape=True)
        who = AccountHolder.holder_folded.contains(folded, autoescape=True)
    looked_up = exists().where(
        AccountHolder.account == AuditEntry.account,
        AccountHolder.held_from <= AuditEntry.occurred_at,
        or_(AccountHolder.held_until.is_(None), AuditEntry.occurred_at < AccountHolder.held_until),
        who,
    )
    return or_(kept, and_(AuditEntry.holder_name.is_(None), looked_up))


async def _unit_condition(
    session: AsyncSession, actor: Principal, unit_id: str, include_subtree: bool
) -> ColumnElement[bool]:
    unit = await session.get(Unit, unit_id) if len(unit_id) <= 36 else None
    if unit is None:
        raise NotFound(f"Không có đơn vị {unit_id!r}")
    authz.require(actor, Section.AUDIT, Action.READ, unit.path)
    if include_subtree:
        return or_(AuditEntry.unit_path == unit.path, AuditEntry.unit_path.startswith(unit.path + "/", autoescape=True))
    return AuditEntry.unit_path == unit.path


async def list_entries(session: AsyncSession, *, actor: Principal, criteria: Criteria) -> tuple[list[Found], int]:
    since, until = _checked(criteria)
    # An entry about no unit (a catalog value) has no path, which no unit's scope matches.
    path = cast(ColumnElement[str], AuditEntry.unit_path)
    conditions: list[ColumnElement[bool]] = [authz.sql_scope(actor, Section.AUDIT, Action.READ, path)]
    if criteria.unit_id:
        conditions.append(await _unit_condition(session, actor, criteria.unit_id, criteria.include_subtree))
    if criteria.person_id:
        conditions.append(AuditEntry.person_id == criteria.person_id)
    if criteria.account:
        conditions.append(AuditEntry.account == criteria.account.strip())
    if criteria.holder.strip():
        conditions.append(_held_by(criteria.holder.strip()))
    if criteria.action:
        conditions.append(AuditEntry.action == criteria.action)
    if since is not None:
        conditions.append(AuditEntry.occurred_at >= since)
    if until is not None:
        conditions.append(AuditEntry.occurred_at < until)
    where = and_(*conditions)
    total = await session.scalar(select(func.count()).select_from(AuditEntry).where(where)) or 0
    page = (
        await session.scalars(
            select(AuditEntry)
            .where(where)
            .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
            .limit(criteria.page_size)
            .offset((criteria.page - 1) * criteria.page_size)
        )
    ).all()
    looked_up = await _holders(session, [e for e in page if e.holder_name is None])
    return [_found(entry, looked_up) for entry in page], total


def _found(entry: AuditEntry, looked_up: dict[str, AccountHolder | None]) -> Found:
    if entry.holder_name is not None:
        return Found(entry, entry.holder_name, entry.holder_personal_id or "")
    holder = looked_up[entry.id]
    return Found(entry, holder.holder_name, holder.holder_personal_id or "") if holder else Found(entry, "", "")


async def _holders(session: AsyncSession, entries: Sequence[AuditEntry]) -> dict[str, AccountHolder | None]:
    """Who held each entry's account at the time, where it is a purpose account, by the holder history
    as it is now: for the entries written before they kept their holder, by entry id."""
    accounts = sorted({e.account for e in entries})
    held: dict[str, list[AccountHolder]] = {}
    if accounts:
        for row in await session.scalars(select(AccountHolder).where(AccountHolder.account.in_(accounts))):
            held.setdefault(row.account, []).append(row)
    return {
        e.id: next(
            (
                h
                for h in held.get(e.account, [])
                if h.held_from <= e.occurred_at and (h.held_until is None or e.occurred_at < h.held_until)
            ),
            None,
        )
        for e in entries
    }


async def verify(
    session: AsyncSession, *, actor: Principal, published: Callable[[], Awaitable[Reading]]
) -> chain.Verification:
    """The chain checked whole, and against the head last published outside the database, read
    before the check begins (`published`)."""
    authz.require_sector_wide(actor, Section.AUDIT, Action.OPERATE, what="chuỗi nhật ký")
    read = await published()
    result = await chain.verify(session, published=read.head)
    return replace(result, published_unreadable=read.unreadable)
