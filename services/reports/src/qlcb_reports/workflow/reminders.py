"""Reminders before a deadline (nhắc hạn): a worker that publishes `qlcb.reports.reminder.due` once
per report not sent when its deadline is within the regime's reminder days (Vietnamese working
days). The event is what a mail or notification service follows; reports only says when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select

from qlcb.reports.v1 import events_pb2
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.shutdown import Stopping
from qlcb_common.working_days import WorkingCalendar
from qlcb_reports.regimes import periods
from qlcb_reports.regimes.models import ReportRegime
from qlcb_reports.workflow.models import Assignment, ReportPeriod
from qlcb_reports.workflow.service import as_proto
from qlcb_reports.workflow.states import NOT_SENT

log = structlog.get_logger(__name__)
BATCH = 500
LOOK_AHEAD_DAYS = 62
"""Calendar days that hold the longest reminder (30 working days) even across Tết."""
REMINDER_ACTOR = "system:reminders"


async def remind_once(db: Database, outbox: Outbox, working: WorkingCalendar) -> int:
    """Publishes the reminders due now, one batch; returns how many. Replicas share the work: each
    claims its rows with SKIP LOCKED."""
    today = periods.today()
    async with db.unit_of_work() as session:
        query = (
            select(Assignment, ReportRegime.code, ReportRegime.reminder_days, ReportPeriod.key)
            .join(ReportRegime, ReportRegime.id == Assignment.regime_id)
            .join(ReportPeriod, ReportPeriod.id == Assignment.period_id)
            .where(
                Assignment.state.in_([s.value for s in NOT_SENT]),
                Assignment.reminded_at.is_(None),
                Assignment.deadline >= today,
                Assignment.deadline <= today + timedelta(days=LOOK_AHEAD_DAYS),
                ReportRegime.reminder_days > 0,
            )
            .order_by(Assignment.deadline)
            .limit(BATCH)
            .with_for_update(of=Assignment, skip_locked=True)
        )
        sent = 0
        now = datetime.now(UTC)
        events: list[tuple[str, events_pb2.ReminderDue]] = []
        for assignment, code, reminder_days, key in (await session.execute(query)).all():
            left = working.working_days_between(today, assignment.deadline)
            if left > reminder_days:
                continue
            assignment.reminded_at = now
            events.append(
                (
                    subjects.REPORTS_REMINDER_DUE,
                    events_pb2.ReminderDue(
                        regime_code=code, assignment=as_proto(assignment, key, today), working_days_left=left
                    ),
                )
            )
            sent += 1
        await outbox.add_many(session, events, actor=REMINDER_ACTOR)
    return sent


async def run(db: Database, outbox: Outbox, working: WorkingCalendar, interval: float, stopping: Stopping) -> None:
    while not stopping.is_set():
        try:
            while await remind_once(db, outbox, working) == BATCH and not stopping.is_set():
                continue
        except Exception:
            log.exception("reminder round failed")
        if await stopping.sleep(interval):
            return
