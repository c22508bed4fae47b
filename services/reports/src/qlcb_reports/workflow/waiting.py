"""What waits for a caller in the report workflow, over every period: the reports it writes for that
are not sent yet, and the reports sent to a unit it approves for. The rights are reports' own
(`Section.REPORTS`: update over the unit to send, operate over the approving unit to approve, never
one's own unit's, nor what the caller itself sent), in SQL, so a sector-wide approver's queue is counted, not loaded.

The reports to send come in the order a unit can act on them: those it may still send (before the
deadline, under a lock exception or a correction asked for), soonest deadline first, then those
locked past their deadline, the latest first; otherwise a unit with years of overdue periods would
see only those."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, case, cast, false, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import UnaryExpression

from qlcb_common import authz
from qlcb_common.authz import Action, Section
from qlcb_common.errors import InvalidArgument
from qlcb_reports.workflow.models import Assignment, ReportPeriod
from qlcb_reports.workflow.service import Caller, person_behind
from qlcb_reports.workflow.states import NOT_SENT, State

DEFAULT_LIMIT = 50
MOST = 200


@dataclass(frozen=True)
class Waiting:
    """Each list as (assignment, its period's key), at most the limit asked; the totals of each."""

    to_send: list[tuple[Assignment, str]]
    to_send_total: int
    to_approve: list[tuple[Assignment, str]]
    to_approve_total: int


def _limit(asked: int) -> int:
    if asked == 0:
        return DEFAULT_LIMIT
    if not 1 <= asked <= MOST:
        raise InvalidArgument.single("limit", f"Từ 1 đến {MOST}")
    return asked


async def _listed(
    session: AsyncSession,
    query: Select[Assignment],
    limit: int,
    *order: InstrumentedAttribute[Any] | UnaryExpression[Any],
) -> tuple[list[tuple[Assignment, str]], int]:
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.add_columns(ReportPeriod.key)
        .join(ReportPeriod, ReportPeriod.id == Assignment.period_id)
        .order_by(*order)
        .limit(limit)
    )
    return [(assignment, key) for assignment, key in rows], total or 0


def _within(caller: Caller, action: Action, path: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """The caller's scope for the right, or nothing at all (a tier without it waits for nothing: not
    a refusal)."""
    if not authz.may_at_all(caller.actor, Section.REPORTS, action, caller.delegations):
        return false()
    return authz.sql_scope(caller.actor, Section.REPORTS, action, path, delegations=caller.delegations)


def _sendable(today: date) -> ColumnElement[bool]:
    """`service.is_locked` negated, in SQL."""
    return or_(
        Assignment.deadline >= today,
        and_(Assignment.reopened_until.is_not(None), Assignment.reopened_until >= today),
        Assignment.correction_open,
    )


def _not_listed(column: InstrumentedAttribute[list[str] | None], value: str) -> ColumnElement[bool]:
    """SQL: `value` is not in the JSON list `column` holds. The list is read as the JSON text it is
    stored as, in which `value` is written as `json.dumps` writes it, quotes included, so that one
    value inside another does not match."""
    return or_(column.is_(None), not_(cast(column, Text).contains(json.dumps(value), autoescape=True)))


async def waiting(session: AsyncSession, *, caller: Caller, limit: int, today: date) -> Waiting:
    most = _limit(limit)
    sendable = _sendable(today)
    to_send = select(Assignment).where(
        Assignment.state.in_([s.value for s in NOT_SENT]), _within(caller, Action.UPDATE, Assignment.unit_path)
    )
    to_approve = select(Assignment).where(
        Assignment.state == State.SUBMITTED.value,
        _within(caller, Action.OPERATE, Assignment.approver_path),
        Assignment.unit_path != (caller.actor.unit_path or ""),
        or_(Assignment.submitted_by.is_(None), Assignment.submitted_by != caller.actor.username),
        _not_listed(Assignment.prepared_by, caller.actor.username),
    )
    if (person := await person_behind(session, caller)) is not None:
        to_approve = to_approve.where(_not_listed(Assignment.prepared_people, person))
    sending, sending_total = await _listed(
        session,
        to_send,
        most,
        case((sendable, 0), else_=1).asc(),
        case((sendable, Assignment.deadline), else_=None).asc(),
        Assignment.deadline.desc(),
        Assignment.unit_path,
    )
    approving, approving_total = await _listed(session, to_approve, most, Assignment.submitted_at, Assignment.unit_path)
    return Waiting(sending, sending_total, approving, approving_total)
