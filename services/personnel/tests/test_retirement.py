"""Phụ lục I of ND 135/2020/NĐ-CP: the birth month gives the age and the month the pension starts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from qlcb_personnel.catalogs.service import data_files
from qlcb_personnel.record.retirement import retirement_date


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
