from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import structlog
from prometheus_client import Gauge

from qlcb_backup.catalog.service import BackupSets
from qlcb_backup.schedule.cron import Schedule
from qlcb_backup.stores.registry import StoreRegistry
from qlcb_common.shutdown import Stopping

log = structlog.get_logger(__name__)

SCHEDULER: Final = "qlcb-backup-schedule"
"""Who took a scheduled set (`created_by`) and pruned after it."""
SCHEDULE_INTERVAL = Gauge(
    "qlcb_backup_schedule_interval_seconds",
    "Time between two scheduled sets; alert when time() - qlcb_backup_last_success_timestamp_seconds exceeds it "
    "by a margin",
)


class ScheduledSets:
    """A worker: at each time the schedule gives, one set of every store, then pruning. A set that
    fails is already recorded failed with its reason; the worker waits for the next time."""

    def __init__(self, sets: BackupSets, stores: StoreRegistry, schedule: Schedule) -> None:
        self._sets = sets
        self._stores = stores
        self._schedule = schedule

    async def run(self, stopping: Stopping) -> None:
        while True:
            now = datetime.now(UTC)
            due = self._schedule.next_after(now)
            SCHEDULE_INTERVAL.set(self._schedule.interval_seconds(now))
            if await stopping.sleep(max((due - now).total_seconds(), 0.0)):
                return
            stores = {name: self._stores.get(name) for name in self._stores.names}
            try:
                await self._sets.take(stores, created_by=SCHEDULER)
            except Exception as error:  # recorded on the set; the schedule goes on
                log.warning("scheduled set failed", schedule=self._schedule.expression, error=str(error))
            try:
                await self._sets.prune(actor=SCHEDULER)
            except Exception as error:  # the next run prunes again
                log.warning("pruning after a scheduled set failed", error=str(error))
