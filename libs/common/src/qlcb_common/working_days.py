"""Working days on the Vietnamese calendar, for the deadlines of R-PER-4 (personnel) and of the
report regimes (reports).

Saturdays and Sundays are off; so are the public holidays of the Labour Code (Điều 112, Bộ luật
Lao động 2019) as the `holidays` package's VN calendar knows them: New Year, Tết (the days the
government announces, including the days before and after the new year), the Hùng Kings, 30 April
and 1 May, Quốc khánh (2 September and the day next to it), and from 2026 Vietnam Cultural Day
(24 November); and a Saturday the government swapped for a bridge day is a working day (the
package's `weekend_workdays`, e.g. 22 August 2026 worked for 31 August).

What the package does not know, and settings add (`DeadlineSettings`): a swap or an extra day off
decided by the government after the package's release (each year's Tết and bridge-day notices are
published a few months ahead), and days a sector's own calendar differs on. Those are listed as
extra days off and extra working days; a listed day wins over the package."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays

MAX_WORKING_DAYS = 366
"""The longest count `add_working_days` takes: a deadline, never a schedule."""


@lru_cache(maxsize=64)
def _vietnam(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


class WorkingCalendar:
    """Vietnam's working days, with the days a setting adds off or on."""

    def __init__(self, extra_days_off: Iterable[date] = (), extra_working_days: Iterable[date] = ()) -> None:
        self.extra_days_off = frozenset(extra_days_off)
        self.extra_working_days = frozenset(extra_working_days)
        both = self.extra_days_off & self.extra_working_days
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"a day cannot be both an extra day off and an extra working day: {listed}")

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off:
            return False
        return bool(_vietnam(day.year).is_working_day(day))

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (which itself is not counted, working or not):
        "within 3 working days from the day of the decision" ends on this day."""
        if not 0 <= count <= MAX_WORKING_DAYS:
            raise ValueError(f"a count of working days from 0 to {MAX_WORKING_DAYS}, not {count}")
        day = start
        while count:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days come after `start` up to `end` included: what is left on `start`
        before a deadline on `end` (0 when `end` is not after `start`)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def working_day_on_or_after(self, day: date) -> date:
        """`day` if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day
