"""Periods of a regime and their deadlines: keys per frequency, the data cut-off day, calendar and
Vietnamese working days (Tết, public holidays, weekends)."""

from __future__ import annotations

from datetime import date

import pytest

from qlcb_common.errors import InvalidArgument
from qlcb_common.working_days import WorkingCalendar
from qlcb_reports.regimes.periods import DeadlineRule, given, key_on, periodic

NOW = date(2026, 12, 2)
WORKING = WorkingCalendar()


@pytest.mark.parametrize(
    ("frequency", "key", "cutoff", "starts", "ends"),
    [
        ("month", "2026-11", 0, date(2026, 11, 1), date(2026, 11, 30)),
        ("month", "2026-11", 14, date(2026, 10, 15), date(2026, 11, 14)),
        ("month", "2026-01", 14, date(2025, 12, 15), date(2026, 1, 14)),
        ("month", "2024-02", 0, date(2024, 2, 1), date(2024, 2, 29)),
        ("quarter", "2026-Q1", 0, date(2026, 1, 1), date(2026, 3, 31)),
        ("quarter", "2026-Q4", 14, date(2026, 9, 15), date(2026, 12, 14)),
        ("half_year", "2026-H1", 0, date(2026, 1, 1), date(2026, 6, 30)),
        ("half_year", "2026-H2", 14, date(2026, 6, 15), date(2026, 12, 14)),
        ("year", "2026", 0, date(2026, 1, 1), date(2026, 12, 31)),
        ("year", "2026", 14, date(2025, 12, 15), date(2026, 12, 14)),
    ],
)
def test_a_period_runs_from_the_day_after_the_last_cut_off_to_its_own(
    frequency: str, key: str, cutoff: int, starts: date, ends: date
) -> None:
    found = periodic(frequency, key, DeadlineRule(cutoff, 0, "calendar_days"), WORKING, now=NOW)
    assert (found.key, found.starts_on, found.ends_on, found.deadline) == (key, starts, ends, ends)


def test_the_annual_report_is_due_before_15_january() -> None:
    """R-REP-1 (003 Điều 12): the year's data to 31 December, due 14 calendar days later."""
    found = periodic("year", "2026", DeadlineRule(0, 14, "calendar_days"), WORKING, now=NOW)
    assert found.deadline == date(2027, 1, 14)


def test_a_deadline_in_working_days_skips_weekends_and_tet() -> None:
    # The month of January 2026, due 5 working days after the 31st (a Saturday): 2–6 February.
    january = periodic("month", "2026-01", DeadlineRule(0, 5, "working_days"), WORKING, now=NOW)
    assert january.deadline == date(2026, 2, 6)
    # Tết Bính Ngọ: 14–22 February 2026 are off (the government's notice, as the package knows it).
    tet = periodic("month", "2026-02", DeadlineRule(10, 3, "working_days"), WORKING, now=NOW)
    assert tet.ends_on == date(2026, 2, 10)
    assert tet.deadline == date(2026, 2, 13)
    # Cut on Thursday 12 February: Friday 13, then Tết, then Monday 23 and Tuesday 24.
    after_tet = periodic("month", "2026-02", DeadlineRule(12, 3, "working_days"), WORKING, now=NOW)
    assert after_tet.deadline == date(2026, 2, 24)


def test_a_day_the_settings_add_off_moves_the_deadline() -> None:
    rule = DeadlineRule(0, 1, "working_days")
    assert periodic("month", "2026-06", rule, WORKING, now=NOW).deadline == date(2026, 7, 1)
    extra = WorkingCalendar(extra_days_off=[date(2026, 7, 1)])
    assert periodic("month", "2026-06", rule, extra, now=NOW).deadline == date(2026, 7, 2)


@pytest.mark.parametrize(
    ("frequency", "key", "message"),
    [
        ("month", "2026-13", "Kỳ báo cáo month viết như '2026-11'"),
        ("month", "2026-Q1", "Kỳ báo cáo month viết như '2026-11'"),
        ("quarter", "2026-Q5", "Kỳ báo cáo quarter viết như '2026-Q4'"),
        ("half_year", "2026-H3", "Kỳ báo cáo half_year viết như '2026-H2'"),
        ("year", "٢٠٢٦", "Kỳ báo cáo year viết như '2026'"),
        ("year", "1999", "Năm của kỳ báo cáo từ 2000 đến 2027"),
        ("year", "2028", "Năm của kỳ báo cáo từ 2000 đến 2027"),
    ],
)
def test_a_wrong_period_is_refused_naming_it(frequency: str, key: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        periodic(frequency, key, DeadlineRule(0, 5, "working_days"), WORKING, now=NOW)
    assert [(v.field, v.description) for v in refused.value.violations] == [("period", message)]


def test_a_period_given_by_its_issuer_holds_together() -> None:
    found = given("DX-2026.1", "2026-03-01", "2026-03-31", "2026-04-10", now=NOW)
    assert (found.starts_on, found.ends_on, found.deadline) == (date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 10))
    with pytest.raises(InvalidArgument) as refused:
        given("đợt 1", "2026-03-31", "2026-03-01", "20260401", now=NOW)
    assert {v.field for v in refused.value.violations} == {"period", "ends_on", "deadline"}


def test_working_days_left_before_a_deadline() -> None:
    # From Thursday 30 April 2026 (a holiday) to Monday 4 May: 1 and 2–3 May are off, 4 May is on.
    assert WORKING.working_days_between(date(2026, 4, 29), date(2026, 5, 4)) == 1
    assert WORKING.working_days_between(date(2026, 5, 4), date(2026, 5, 4)) == 0
    assert WORKING.working_days_between(date(2026, 5, 5), date(2026, 5, 4)) == 0


@pytest.mark.parametrize(
    ("frequency", "cutoff_day", "day", "key"),
    [
        ("month", 0, date(2026, 12, 7), "2026-12"),
        ("month", 14, date(2026, 12, 14), "2026-12"),  # the cut-off day is the period's last
        ("month", 14, date(2026, 12, 15), "2027-01"),  # the day after belongs to the next
        ("quarter", 0, date(2026, 12, 31), "2026-Q4"),
        ("quarter", 0, date(2027, 1, 1), "2027-Q1"),
        ("quarter", 20, date(2026, 9, 21), "2026-Q4"),
        ("half_year", 0, date(2026, 6, 30), "2026-H1"),
        ("half_year", 25, date(2026, 12, 26), "2027-H1"),
        ("year", 0, date(2026, 12, 7), "2026"),
        ("year", 15, date(2026, 12, 16), "2027"),
    ],
)
def test_the_period_a_day_falls_in_is_the_one_whose_data_take_it_in(
    frequency: str, cutoff_day: int, day: date, key: str
) -> None:
    assert key_on(frequency, cutoff_day, day) == key
    dates = periodic(frequency, key, DeadlineRule(cutoff_day, 5, "calendar_days"), WorkingCalendar(), now=day)
    assert dates.starts_on <= day <= dates.ends_on
