"""Periods of a regime (kỳ báo cáo) and their deadlines, without the database.

A periodic regime's period is named by its key: "2026-11" (a month), "2026-Q4", "2026-H2",
"2026". Its data run to the regime's cut-off day (ngày chốt số liệu) of the period's last month,
from the day after the previous period's cut-off (Nghị định 09/2019 Điều 12: a month from the
15th of the month before to the 14th); without a cut-off day, the calendar period. The deadline is
a number of calendar days, or of Vietnamese working days, after the data end.
Other regimes (central-ministry, thematic, ad hoc) are given their dates when a period is opened."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from qlcb_common.days import vietnam_today
from qlcb_common.errors import FieldViolation, InvalidArgument
from qlcb_common.working_days import WorkingCalendar

REGIME_KINDS = ("periodic", "central", "thematic", "ad_hoc")
FREQUENCIES = ("month", "quarter", "half_year", "year")
COUNTINGS = ("calendar_days", "working_days")
FIRST_YEAR = 2000
MAX_DEADLINE_DAYS = 366
MAX_CUTOFF_DAY = 28
AD_HOC_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", re.ASCII)
_KEYS = {
    "month": re.compile(r"(?P<year>[0-9]{4})-(?P<n>0[1-9]|1[0-2])", re.ASCII),
    "quarter": re.compile(r"(?P<year>[0-9]{4})-Q(?P<n>[1-4])", re.ASCII),
    "half_year": re.compile(r"(?P<year>[0-9]{4})-H(?P<n>[12])", re.ASCII),
    "year": re.compile(r"(?P<year>[0-9]{4})", re.ASCII),
}
_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}
_EXAMPLES = {"month": "2026-11", "quarter": "2026-Q4", "half_year": "2026-H2", "year": "2026"}


today = vietnam_today
"""Today in Vietnam, where deadlines fall."""


@dataclass(frozen=True)
class PeriodDates:
    key: str
    starts_on: date
    ends_on: date
    deadline: date


@dataclass(frozen=True)
class DeadlineRule:
    cutoff_day: int
    days: int
    counting: str

    def deadline(self, data_end: date, working: WorkingCalendar) -> date:
        if self.counting == "working_days":
            return working.add_working_days(data_end, self.days)
        return data_end + timedelta(days=self.days)


def _last_day(year: int, month: int, cutoff_day: int) -> date:
    return date(year, month, cutoff_day or calendar.monthrange(year, month)[1])


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) - months
    return index // 12, index % 12 + 1


def periodic(frequency: str, key: str, rule: DeadlineRule, working: WorkingCalendar, *, now: date) -> PeriodDates:
    """The data dates and the deadline of a periodic regime's period; INVALID_ARGUMENT on `period`
    for a key that is not one of the frequency or outside 2000 to next year."""
    match = _KEYS[frequency].fullmatch(key)
    if match is None:
        raise InvalidArgument.single("period", f"Kỳ báo cáo {frequency} viết như {_EXAMPLES[frequency]!r}")
    year = int(match["year"])
    if not FIRST_YEAR <= year <= now.year + 1:
        raise InvalidArgument.single("period", f"Năm của kỳ báo cáo từ {FIRST_YEAR} đến {now.year + 1}")
    span = _MONTHS[frequency]
    number = int(match.groupdict().get("n") or 1)
    last_month = number * span if frequency != "month" else number
    ends_on = _last_day(year, last_month, rule.cutoff_day)
    before_year, before_month = _shift(year, last_month, span)
    starts_on = _last_day(before_year, before_month, rule.cutoff_day) + timedelta(days=1)
    return PeriodDates(key, starts_on, ends_on, rule.deadline(ends_on, working))


def key_on(frequency: str, cutoff_day: int, day: date) -> str:
    """The key of the period of a periodic regime whose data take in `day`: its data end on the
    cut-off day of the period's last month, or at its calendar end."""
    span = _MONTHS[frequency]
    year, last_month = day.year, -(-day.month // span) * span
    if day > _last_day(year, last_month, cutoff_day):
        year, last_month = _shift(year, last_month, -span)
    number = last_month // span
    if frequency == "month":
        return f"{year}-{last_month:02d}"
    if frequency == "quarter":
        return f"{year}-Q{number}"
    if frequency == "half_year":
        return f"{year}-H{number}"
    return f"{year}"


def _date(value: str, field: str, found: list[FieldViolation]) -> date | None:
    if len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    found.append(FieldViolation(field, "Ngày phải theo dạng YYYY-MM-DD"))
    return None


def given(key: str, starts_on: str, ends_on: str, deadline: str, *, now: date) -> PeriodDates:
    """The period of a regime that is not periodic, as its issuer gives it."""
    found: list[FieldViolation] = []
    if not AD_HOC_KEY.fullmatch(key):
        found.append(FieldViolation("period", "Tên kỳ báo cáo: 1–32 ký tự A–Z, a–z, 0–9, '.', '_', '-'"))
    start, end, due = (
        _date(v, f, found) for v, f in ((starts_on, "starts_on"), (ends_on, "ends_on"), (deadline, "deadline"))
    )
    if start and end and end < start:
        found.append(FieldViolation("ends_on", "Ngày kết thúc trước ngày bắt đầu"))
    if end and due and due < end:
        found.append(FieldViolation("deadline", "Hạn gửi trước ngày cuối của số liệu"))
    if start and not FIRST_YEAR <= start.year <= now.year + 1:
        found.append(FieldViolation("starts_on", f"Năm từ {FIRST_YEAR} đến {now.year + 1}"))
    if due and due > now + timedelta(days=2 * MAX_DEADLINE_DAYS):
        found.append(FieldViolation("deadline", "Hạn gửi quá xa (tối đa hai năm)"))
    if found or start is None or end is None or due is None:
        raise InvalidArgument(found)
    return PeriodDates(key, start, end, due)
