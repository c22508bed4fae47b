"""Deadlines in Vietnamese working days (R-ACC-5)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from qlcb_common.days import VIETNAM
from qlcb_common.working_days import WorkingCalendar
from qlcb_identity.calendar import due_after_working_days

VIETNAM_ONLY = WorkingCalendar()


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        (datetime(2026, 11, 16, 9, 0, tzinfo=VIETNAM), date(2026, 11, 19)),  # Mon → Thu
        (datetime(2026, 11, 20, 16, 0, tzinfo=VIETNAM), date(2026, 11, 26)),  # Fri, Tue 24 is Cultural Day
        (datetime(2026, 4, 29, 10, 0, tzinfo=VIETNAM), date(2026, 5, 6)),  # 30/4 and 1/5, then a weekend
        (datetime(2027, 2, 3, 10, 0, tzinfo=VIETNAM), date(2027, 2, 15)),  # Tết 2027: 4–10 February off
        (datetime(2026, 8, 20, 10, 0, tzinfo=VIETNAM), date(2026, 8, 24)),  # Fri 21, Sat 22 (worked for 31/8), Mon 24
    ],
)
def test_three_working_days(submitted: datetime, due: date) -> None:
    deadline = due_after_working_days(submitted, 3, VIETNAM_ONLY)
    assert deadline.date() == due
    assert deadline.tzinfo == VIETNAM
    assert (deadline.hour, deadline.minute) == (23, 59)


def test_a_request_filed_late_at_night_in_utc_counts_from_the_vietnamese_day() -> None:
    from datetime import UTC

    friday_night_in_vietnam = datetime(2026, 11, 13, 18, 30, tzinfo=UTC)  # Sat 01:30 in Hà Nội
    assert due_after_working_days(friday_night_in_vietnam, 1, VIETNAM_ONLY).date() == date(2026, 11, 16)
