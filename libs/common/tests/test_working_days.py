"""Working days on the Vietnamese calendar (R-PER-4, R-ACC-5): the expected days are written from
the government's holiday notices, not computed by the package the calendar uses."""

from __future__ import annotations

from datetime import date

import pytest

from qlcb_common.working_days import WorkingCalendar

VN = WorkingCalendar()


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 5),  # Saturday
        date(2026, 12, 6),  # Sunday
        date(2026, 1, 1),  # Tết Dương lịch
        *(date(2026, 2, d) for d in range(16, 21)),  # Tết Bính Ngọ: Mon 16 to Fri 20 February 2026
        date(2025, 9, 1),  # Quốc khánh 2025: 2 September and the day before it, Monday 1 September
        date(2025, 9, 2),
        date(2026, 8, 31),  # 2026: Monday 31 August off in exchange for Saturday 22 August
        date(2026, 9, 1),
        date(2026, 9, 2),
        date(2027, 9, 2),  # 2027: Thursday 2 and Friday 3 September
        date(2027, 9, 3),
        date(2026, 4, 27),  # Giỗ Tổ Hùng Vương 2026 (Sunday 26 April) taken on Monday 27
        date(2026, 4, 30),
        date(2026, 5, 1),
        date(2026, 11, 24),  # Ngày Văn hóa Việt Nam, a day off from 2026
    ],
)
def test_days_off(day: date) -> None:
    assert not VN.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 7),  # an ordinary Monday
        date(2026, 8, 22),  # Saturday worked in exchange for Monday 31 August 2026
        date(2026, 2, 23),  # the Monday after Tết 2026
        date(2025, 9, 3),
        date(2027, 9, 1),
    ],
)
def test_working_days(day: date) -> None:
    assert VN.is_working_day(day)


@pytest.mark.parametrize(
    ("event", "third_working_day"),
    [
        (date(2026, 11, 30), date(2026, 12, 3)),  # Monday: Tuesday, Wednesday, Thursday
        (date(2026, 12, 3), date(2026, 12, 8)),  # Thursday: Friday, then over the weekend
        (date(2026, 12, 5), date(2026, 12, 9)),  # an event on a Saturday: counted from Monday
        # The Friday before Quốc khánh 2026: 31 August, 1 and 2 September are off.
        (date(2026, 8, 28), date(2026, 9, 7)),
        # The Friday before Quốc khánh 2025: 1 and 2 September are off.
        (date(2025, 8, 29), date(2025, 9, 5)),
        # The Friday before Tết 2026: 16 to 20 February are off.
        (date(2026, 2, 13), date(2026, 2, 25)),
        # The Wednesday before Tết 2027 (Thursday 4 to Wednesday 10 February off).
        (date(2027, 2, 3), date(2027, 2, 15)),
        # A Thursday whose next Saturday is worked (22 August 2026): it counts.
        (date(2026, 8, 20), date(2026, 8, 24)),
    ],
)
def test_three_working_days(event: date, third_working_day: date) -> None:
    assert VN.add_working_days(event, 3) == third_working_day


def test_zero_working_days_is_the_day_itself() -> None:
    assert VN.add_working_days(date(2026, 12, 5), 0) == date(2026, 12, 5)


def test_a_count_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="working days"):
        VN.add_working_days(date(2026, 12, 1), -1)
    with pytest.raises(ValueError, match="working days"):
        VN.add_working_days(date(2026, 12, 1), 10_000)


def test_the_next_working_day_of_a_day_off() -> None:
    assert VN.working_day_on_or_after(date(2026, 2, 14)) == date(2026, 2, 23)  # Saturday before Tết
    assert VN.working_day_on_or_after(date(2026, 12, 7)) == date(2026, 12, 7)


def test_days_a_setting_adds_off_and_on() -> None:
    """A swap the package does not know: Monday 14 December 2026 given off, Saturday 19 worked for it."""
    swapped = WorkingCalendar(extra_days_off=[date(2026, 12, 14)], extra_working_days=[date(2026, 12, 19)])
    assert not swapped.is_working_day(date(2026, 12, 14))
    assert swapped.is_working_day(date(2026, 12, 19))
    # Friday 11: Tuesday 15, Wednesday 16, Thursday 17.
    assert swapped.add_working_days(date(2026, 12, 11), 3) == date(2026, 12, 17)
    # Thursday 17: Friday 18, the worked Saturday 19, Monday 21.
    assert swapped.add_working_days(date(2026, 12, 17), 3) == date(2026, 12, 21)
    # A listed day wins over the package: a public holiday made a working day.
    assert WorkingCalendar(extra_working_days=[date(2026, 9, 2)]).is_working_day(date(2026, 9, 2))


def test_a_day_cannot_be_both_off_and_on() -> None:
    with pytest.raises(ValueError, match="2026-12-14"):
        WorkingCalendar(extra_days_off=[date(2026, 12, 14)], extra_working_days=[date(2026, 12, 14)])
