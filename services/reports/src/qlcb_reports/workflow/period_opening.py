"""Periods that open by themselves (R-REP-2: "assignments are created automatically per period for
the units concerned"): a worker that opens, for each periodic regime that asks for it, the period
whose data take in today, with its assignments, as the issuer's own opening would. A period the
issuer opened already (early, or by hand) is left as it is."""

from __future__ import annotations

import structlog
from sqlalchemy import select

from qlcb_common.db import Database
from qlcb_common.events.outbox import Outbox
from qlcb_common.shutdown import Stopping
from qlcb_common.working_days import WorkingCalendar
from qlcb_reports.regimes import periods
from qlcb_reports.regimes import service as regimes
from qlcb_reports.regimes.models import ReportRegime
from qlcb_reports.workflow import service as workflow
from qlcb_reports.workflow.models import ReportPeriod

log = structlog.get_logger(__name__)
OPENER = "system:periods"
"""Who opened a period that opened by itself, as its `opened_by` and its event's actor say."""


async def open_due_once(db: Database, outbox: Outbox, working: WorkingCalendar) -> list[str]:
    """Opens today's period of every regime that opens its periods and has not got it; returns
    "CODE KEY" of each opened. Each regime in a transaction of its own, its row locked (SKIP LOCKED:
    a replica opening it meanwhile is left to finish), so one that fails holds up no other."""
    async with db.unit_of_work() as session:
        due = list(
            await session.scalars(
                select(ReportRegime.id)
                .where(ReportRegime.kind == "periodic", ReportRegime.opens_periods.is_(True))
                .order_by(ReportRegime.code)
            )
        )
    opened: list[str] = []
    for regime_id in due:
        try:
            if found := await _open_today(db, outbox, working, regime_id):
                opened.append(found)
        except Exception:
            log.exception("a period did not open by itself", regime_id=regime_id)
    return opened


async def _open_today(db: Database, outbox: Outbox, working: WorkingCalendar, regime_id: str) -> str | None:
    today = periods.today()
    async with db.unit_of_work() as session:
        regime = await session.scalar(
            select(ReportRegime).where(ReportRegime.id == regime_id).with_for_update(skip_locked=True)
        )
        if regime is None:
            return None
        key = periods.key_on(regime.frequency, regime.cutoff_day, today)
        if await session.scalar(
            select(ReportPeriod.id).where(ReportPeriod.regime_id == regime.id, ReportPeriod.key == key)
        ):
            return None
        issuer = await regimes.issuer_of(session, regime)
        if issuer.dissolved_on is not None:
            return None
        rule = periods.DeadlineRule(regime.cutoff_day, regime.deadline_days, regime.deadline_counting)
        dates = periods.periodic(regime.frequency, key, rule, working, now=today)
        period, assigned = await workflow.open_dates(
            session, regime=regime, issuer=issuer, dates=dates, outbox=outbox, opened_by=OPENER, actor=OPENER
        )
    log.info("period opened by itself", regime=regime.code, period=period.key, assignments=assigned)
    return f"{regime.code} {period.key}"


async def run(db: Database, outbox: Outbox, working: WorkingCalendar, interval: float, stopping: Stopping) -> None:
    while not stopping.is_set():
        try:
            await open_due_once(db, outbox, working)
        except Exception:
            log.exception("opening the periods due failed")
        if await stopping.sleep(interval):
            return
