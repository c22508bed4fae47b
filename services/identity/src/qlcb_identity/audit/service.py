from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from prometheus_client import Counter
from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.days import VIETNAM
from qlcb_common.db import Database
from qlcb_common.errors import InvalidArgument, PermissionDenied, RefusedAsNotFound
from qlcb_identity.audit.models import AuditEntry
from qlcb_identity.purpose_accounts.models import HolderAssignment, PurposeAccount

T = TypeVar("T")

REFUSALS = Counter(
    "qlcb_identity_refusals",
    "Refused attempts written to the audit log: source identity (its own API) or keycloak (Keycloak's admin API)",
    ["source"],
)


def record(
    session: AsyncSession,
    *,
    actor: Principal,
    action: str,
    target: str,
    unit_path: str | None = None,
    outcome: str = "done",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """`unit_path` is the unit whose accounts the entry concerns, where it has one: that unit's
    account admin reads the entry too (`entries`' `within`)."""
    entry = AuditEntry(
        id=str(uuid.uuid4()),
        at=datetime.now(UTC),
        actor_subject=actor.subject,
        actor_username=actor.username,
        action=action,
        target=target,
        unit_path=unit_path,
        outcome=outcome,
        before=before,
        after=after,
    )
    session.add(entry)
    if outcome == "refused":
        REFUSALS.labels(source="identity").inc()
    return entry


async def audited(
    db: Database, actor: Principal, action: str, target: str, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """Runs `work` in one unit of work; a refusal is recorded in a transaction of its own."""
    try:
        async with db.unit_of_work() as session:
            return await work(session)
    except (PermissionDenied, RefusedAsNotFound):
        async with db.unit_of_work() as session:
            record(session, actor=actor, action=action, target=target, outcome="refused")
        raise


@dataclass(frozen=True)
class LoggedEntry:
    entry: AuditEntry
    holder_name: str | None
    """Who held the purpose account that acted, on that day in Vietnam (R-AUD-1: account and holder)."""


@dataclass(frozen=True)
class Filters:
    """Each given value must match exactly; the instants bound `at`, both included."""

    target: str = ""
    action: str = ""
    username: str = ""
    outcome: str = ""
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


async def entries(
    session: AsyncSession, *, filters: Filters, before_id: str | None, limit: int, within: str | None = None
) -> list[LoggedEntry]:
    """The newest `limit` entries that match, older than the entry `before_id` if given (the next
    page: the last id of the one before), each with the holder of the purpose account that acted;
    with `within`, only those about the accounts of that unit and the units below it."""
    start, end = _utc("occurred_from", filters.occurred_from), _utc("occurred_to", filters.occurred_to)
    if start and end and end < start:
        raise InvalidArgument.single("occurred_to", "Thời điểm kết thúc trước thời điểm bắt đầu")
    query = select(AuditEntry)
    for column, value in (
        (AuditEntry.target, filters.target),
        (AuditEntry.action, filters.action),
        (AuditEntry.actor_username, filters.username),
        (AuditEntry.outcome, filters.outcome),
    ):
        if value:
            query = query.where(column == value)
    if within is not None:
        query = query.where(
            or_(AuditEntry.unit_path == within, AuditEntry.unit_path.startswith(within + "/", autoescape=True))
        )
    if start is not None:
        query = query.where(AuditEntry.at >= start)
    if end is not None:
        query = query.where(AuditEntry.at <= end)
    if before_id is not None:
        after = await session.get(AuditEntry, before_id)
        if after is None:
            raise InvalidArgument.single("before_id", "Không có mục nhật ký này")
        query = query.where(tuple_(AuditEntry.at, AuditEntry.id) < tuple_(after.at, after.id))
    found = list((await session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit))).all())
    holders = await _holders(session, {e.actor_username for e in found})
    return [LoggedEntry(e, _held_on(holders.get(e.actor_username, []), e.at)) for e in found]


def _utc(field: str, moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidArgument.single(field, "Thời điểm ngoài khoảng năm 1–9999 khi đổi về giờ UTC") from None


async def _holders(session: AsyncSession, usernames: set[str]) -> dict[str, list[HolderAssignment]]:
    """The holder histories of those usernames that are purpose accounts."""
    rows = await session.execute(
        select(PurposeAccount.username, HolderAssignment)
        .join(HolderAssignment, HolderAssignment.account_id == PurposeAccount.id)
        .where(PurposeAccount.username.in_(sorted(usernames)))
    )
    held: dict[str, list[HolderAssignment]] = {}
    for username, assignment in rows.tuples():
        held.setdefault(username, []).append(assignment)
    return held


def _held_on(history: list[HolderAssignment], at: datetime) -> str | None:
    day = at.astimezone(VIETNAM).date()
    for assignment in history:
        if assignment.valid_from <= day and (assignment.valid_to is None or day < assignment.valid_to):
            return assignment.holder_name
    return None
