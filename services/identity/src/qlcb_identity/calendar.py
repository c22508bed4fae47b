"""Deadlines of R-ACC-5 in working days: Vietnam's, as `qlcb_common.working_days` counts them with
the days the settings add off or on, the same as personnel's and reports'."""

from __future__ import annotations

from datetime import datetime, time

from qlcb_common.days import VIETNAM
from qlcb_common.working_days import WorkingCalendar


def due_after_working_days(start: datetime, days: int, calendar: WorkingCalendar) -> datetime:
    """The end (23:59:59 in Vietnam) of the `days`-th working day after `start`'s day."""
    due = calendar.add_working_days(start.astimezone(VIETNAM).date(), days)
    return datetime.combine(due, time(23, 59, 59), tzinfo=VIETNAM)
