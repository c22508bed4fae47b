from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter


class Schedule:
    """A cron expression read in a time zone: five fields, or six with the seconds last."""

    def __init__(self, expression: str, zone: ZoneInfo) -> None:
        self.expression = expression
        self._zone = zone

    def next_after(self, moment: datetime) -> datetime:
        following: datetime = croniter(self.expression, moment.astimezone(self._zone)).get_next(datetime)
        return following

    def interval_seconds(self, moment: datetime) -> float:
        """The time between the next two runs: how old the newest set may be before it is late."""
        first = self.next_after(moment)
        return (self.next_after(first) - first).total_seconds()
