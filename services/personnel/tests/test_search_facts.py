"""What a record entry gives the search (ADR 0015): the fact, its value and the days it held."""

from __future__ import annotations

from datetime import date

from qlcb_personnel.search.facts import Fact, entry_fact
from qlcb_personnel.search.models import OPEN_END


def test_a_timeline_entry_holds_over_its_period_and_an_open_one_until_further_notice() -> None:
    salary = {"rank_code": "08.051", "step": 2, "coefficient": "2.67"}
    assert entry_fact("salary", salary, date(2015, 1, 1), date(2017, 12, 31)) == Fact(
        "rank", "08.051", date(2015, 1, 1), date(2017, 12, 31)
    )
    assert entry_fact("salary", salary, date(2018, 1, 1), None) == Fact("rank", "08.051", date(2018, 1, 1), OPEN_END)


def test_a_training_level_is_held_from_the_end_of_the_course_for_good() -> None:
    values = {"kind": "CM", "level": "THS", "institution": "Học viện Tài chính"}
    assert entry_fact("trainings", values, date(2008, 9, 1), date(2010, 6, 30)) == Fact(
        "training", "THS", date(2010, 6, 30), OPEN_END
    )


def test_events_hold_from_their_day_and_an_evaluation_is_a_fact_of_its_year() -> None:
    assert entry_fact("evaluations", {"year": 2024, "level": "HTTNV"}, date(2024, 12, 31), None) == Fact(
        "evaluation:2024", "HTTNV", date(2024, 12, 31), OPEN_END
    )
    assert entry_fact("recruitment", {"body": "Tổng cục Hải quan"}, date(2010, 7, 1), None) == Fact(
        "recruited", "", date(2010, 7, 1), OPEN_END
    )


def test_sections_no_search_reads_and_empty_optional_codes_give_nothing() -> None:
    assert entry_fact("family", {"relation": "Bố"}, None, None) is None
    appointment = {"kind": "BO_NHIEM", "post": "Tổ trưởng", "unit_name": "Tổ", "term_months": 60}
    assert entry_fact("appointments", appointment, date(2020, 1, 1), None) is None
