from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import structlog
from prometheus_client import Gauge

from qlcb_backup.drills.service import Drills
from qlcb_backup.schedule.cron import Schedule
from qlcb_common.shutdown import Stopping

log = structlog.get_logger(__name__)

DRILL_SCHEDULER: Final = "qlcb-backup-drill"
"""Who started a scheduled drill."""
DRILL_INTERVAL = Gauge(
    "qlcb_backup_drill_interval_seconds",
    "Time between two scheduled restore drills; alert when the newest drill is older than that by a margin",
)


class ScheduledDrills:
    """A worker: a restore drill at each time the schedule gives. A drill's failure is its result
    (recorded, published, exported); only an error outside the drill is logged here."""

    def __init__(self, drills: Drills, schedule: Schedule) -> None:
        self._drills = drills
        self._schedule = schedule

    async def run(self, stopping: Stopping) -> None:
        while True:
            now = datetime.now(UTC)
            due = self._schedule.next_after(now)
            DRILL_INTERVAL.set(self._schedule.interval_seconds(now))
            if await stopping.sleep(max((due - now).total_seconds(), 0.0)):
                return
            try:
                await self._drills.run(started_by=DRILL_SCHEDULER)
            except Exception as error:  # the next time drills again
                log.warning(
                    "scheduled restore drill could not run", schedule=self._schedule.expression, error=str(error)
                )
