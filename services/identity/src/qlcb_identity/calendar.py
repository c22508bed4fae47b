"""Vietnamese working days, as the `holidays` package's VN calendar defines them: weekends
and public holidays (Tết included) are off, and a Saturday swapped for a bridge day is on.
Deadlines of R-ACC-5 are counted in these."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache

import holidays

from qlcb_common.days import VIETNAM


@lru_cache(maxsize=16)
def _calendar(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=range(year, year + 2))


def is_working_day(day: date) -> bool:
    return bool(_calendar(day.year).is_working_day(day))


def due_after_working_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59 in Vietnam) of the `days`-th working day after `start`'s day."""
    day = start.astimezone(VIETNAM).date()
    due: date = _calendar(day.year).get_nth_working_day(day, days)
    return datetime.combine(due, time(23, 59, 59), tzinfo=VIETNAM)
