"""What a record entry gives the search (ADR 0015): the facts, their values and the days they held."""

from __future__ import annotations

from datetime import date

from qlcb_personnel.search.facts import Fact, entry_facts
from qlcb_personnel.search.models import OPEN_END


def test_a_timeline_entry_holds_over_its_period_and_an_open_one_until_further_notice() -> None:
    salary = {"rank_code": "08.051", "step": 2, "coefficient": "2.67"}
    assert entry_facts("salary", salary, date(2015, 1, 1), date(2017, 12, 31)) == [
        Fact("rank", "08.051", date(2015, 1, 1), date(2017, 12, 31)),
        Fact("salary_step", "2", date(2015, 1, 1), date(2017, 12, 31)),
    ]
    assert entry_facts("salary", salary, date(2018, 1, 1), None) == [
        Fact("rank", "08.051", date(2018, 1, 1), OPEN_END),
        Fact("salary_step", "2", date(2018, 1, 1), OPEN_END),
    ]
    contract = {"contract_type": "KHONG_XAC_DINH", "job": "Lái xe"}
    assert entry_facts("labour_contracts", contract, date(2019, 3, 1), None) == [
        Fact("contract", "KHONG_XAC_DINH", date(2019, 3, 1), OPEN_END)
    ]


def test_one_entry_of_personal_details_gives_its_ethnicity_religion_and_home_province() -> None:
    details = {"birthplace": "Nam Định", "home_town": "Nam Định", "ethnicity": "01", "religion": "PHAT_GIAO"}
    assert entry_facts("personal_details", details | {"home_town_province": "37"}, date(2026, 1, 1), None) == [
        Fact("ethnicity", "01", date(2026, 1, 1), OPEN_END),
        Fact("religion", "PHAT_GIAO", date(2026, 1, 1), OPEN_END),
        Fact("home_province", "37", date(2026, 1, 1), OPEN_END),
    ]
    assert [f.fact for f in entry_facts("personal_details", details, date(2026, 1, 1), None)] == [
        "ethnicity",
        "religion",
    ], "the home province is optional"


def test_a_training_level_is_held_from_the_end_of_the_course_for_good() -> None:
    values = {"kind": "CM", "level": "THS", "institution": "Học viện Tài chính"}
    assert entry_facts("trainings", values, date(2008, 9, 1), date(2010, 6, 30)) == [
        Fact("training", "THS", date(2010, 6, 30), OPEN_END)
    ]


def test_events_hold_from_their_day_and_a_discipline_until_its_effect_ends() -> None:
    assert entry_facts("evaluations", {"year": 2024, "level": "HTTNV"}, date(2024, 12, 31), None) == [
        Fact("evaluation:2024", "HTTNV", date(2024, 12, 31), OPEN_END)
    ]
    assert entry_facts("recruitment", {"body": "Tổng cục Hải quan"}, date(2010, 7, 1), None) == [
        Fact("recruited", "", date(2010, 7, 1), OPEN_END)
    ]
    assert entry_facts("rewards", {"form": "BK_BO"}, date(2022, 5, 1), None) == [
        Fact("reward", "BK_BO", date(2022, 5, 1), OPEN_END)
    ]
    reprimand = {"form": "KHIEN_TRACH", "reason": "Vi phạm quy trình"}
    assert entry_facts("disciplines", reprimand, date(2025, 3, 1), date(2026, 2, 28)) == [
        Fact("discipline", "KHIEN_TRACH", date(2025, 3, 1), date(2026, 2, 28))
    ]


def test_sections_no_search_reads_and_empty_optional_codes_give_nothing() -> None:
    assert entry_facts("family", {"relation": "Bố"}, None, None) == []
    appointment = {"kind": "BO_NHIEM", "post": "Tổ trưởng", "unit_name": "Tổ", "term_months": 60}
    assert entry_facts("appointments", appointment, date(2020, 1, 1), None) == []
