"""Completeness and timeliness of a period (DHIS2's reporting rates), over a unit's subtree within
the caller's scope: expected, submitted, submitted on time, approved, their rates, and the units
whose report is overdue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.authz import Action, Section
from qlcb_reports.regimes import periods
from qlcb_reports.regimes.models import ReportRegime
from qlcb_reports.workflow import service
from qlcb_reports.workflow.models import Assignment, ReportPeriod
from qlcb_reports.workflow.states import NOT_SENT, State

SENT = (State.SUBMITTED.value, State.APPROVED.value)
MAX_OVERDUE = 1000


@dataclass(frozen=True)
class Figures:
    expected: int
    submitted: int
    on_time: int
    approved: int

    def rate(self, part: int) -> float:
        return part / self.expected if self.expected else 0.0


async def completeness(
    session: AsyncSession, *, caller: service.Caller, period_id: str, unit_id: str
) -> tuple[ReportPeriod, str, Figures, list[Assignment]]:
    period = await service.period_of(session, period_id)
    if not unit_id:
        regime = await session.get(ReportRegime, period.regime_id)
        assert regime is not None
        unit_id = regime.issuer_unit_id
    unit = await service.visible_unit(session, caller, unit_id)
    within = (
        (Assignment.period_id == period.id)
        & ((Assignment.unit_path == unit.path) | Assignment.unit_path.startswith(unit.path + "/", autoescape=True))
        & authz.sql_scope(
            caller.actor, Section.REPORTS, Action.READ, Assignment.unit_path, delegations=caller.delegations
        )
    )
    sent = Assignment.state.in_(SENT)
    row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(sent),
                func.count().filter(sent & Assignment.on_time.is_(True)),
                func.count().filter(Assignment.state == State.APPROVED.value),
            ).where(within)
        )
    ).one()
    overdue = await session.scalars(
        select(Assignment)
        .where(within, Assignment.state.in_([s.value for s in NOT_SENT]), Assignment.deadline < periods.today())
        .order_by(Assignment.unit_path)
        .limit(MAX_OVERDUE)
    )
    return period, unit.unit_id, Figures(*(int(n) for n in row)), list(overdue)
