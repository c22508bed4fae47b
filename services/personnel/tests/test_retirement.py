"""Phụ lục I of ND 135/2020/NĐ-CP: the birth month gives the age and the month the pension starts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from qlcb_personnel.catalogs.service import data_files
from qlcb_personnel.record.retirement import born_retiring_between, retirement_date


def _schedule(code: str) -> dict[str, Any]:
    (doc,) = [d for d in data_files() if d["catalog"] == "retirement_ages"]
    attributes: dict[str, Any] = next(v for v in doc["values"] if v["code"] == code)["attributes"]
    return attributes


@pytest.mark.parametrize(
    ("sex", "born", "retires"),
    [
        ("MALE", date(1961, 1, 15), date(2021, 4, 30)),  # 60y3m, pension from 5/2021
        ("MALE", date(1961, 10, 2), date(2022, 4, 30)),  # 60y6m, pension from 5/2022
        ("FEMALE", date(1966, 1, 20), date(2021, 5, 31)),  # 55y4m, pension from 6/2021
        ("FEMALE", date(1966, 9, 9), date(2022, 5, 31)),  # 55y8m, pension from 6/2022
        ("MALE", date(1970, 6, 1), date(2032, 6, 30)),  # 62 from 2028 on
        ("FEMALE", date(1980, 2, 29), date(2040, 2, 29)),  # 60 from 2035 on
        ("MALE", date(1955, 3, 3), date(2015, 3, 31)),  # 60 before the schedule
    ],
)
def test_the_date_follows_the_schedule_of_the_year_the_age_is_reached(sex: str, born: date, retires: date) -> None:
    assert retirement_date(born, _schedule(sex)) == retires


@pytest.mark.parametrize("sex", ["MALE", "FEMALE"])
@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2021, 3, 15), date(2023, 8, 10)),  # across the years the schedule steps up
        (date(2014, 6, 1), date(2014, 6, 30)),  # before the schedule
        (date(2026, 12, 5), date(2031, 12, 4)),  # five years
        (date(2035, 2, 1), date(2035, 2, 28)),  # women: 59 years 8 months in 2034, 60 in 2035, none in February
    ],
)
def test_the_birth_window_of_a_period_holds_exactly_the_birth_months_retiring_in_it(
    sex: str, first: date, last: date
) -> None:
    schedule = _schedule(sex)
    born = [date(year, month, 1) for year in range(first.year - 75, last.year - 45) for month in range(1, 13)]
    retiring = [b for b in born if first <= retirement_date(b, schedule) <= last]
    window = born_retiring_between(first, last, schedule)
    if not retiring:
        assert window is None
        return
    assert window is not None
    assert [b for b in born if window[0] <= b <= window[1]] == retiring
    assert window[0] == retiring[0]
    assert window[1].replace(day=1) == retiring[-1], "born any day of the last month"
    assert (window[1] + timedelta(days=1)).day == 1, "born any day of the last month"


def test_a_period_no_birth_month_retires_in_gives_no_window() -> None:
    # Men of 1961 retired at 60 years 3 months from April 2021 on: none in the first three months.
    assert born_retiring_between(date(2021, 1, 1), date(2021, 3, 31), _schedule("MALE")) is None
