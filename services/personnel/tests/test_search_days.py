"""A person's days worked out from their search facts (ADR 0051): one period for as long as the unit,
the status, the rank and the ethnicity stay the same, from the first day to the open end."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from personnel_store import person_row, sqlite_store, unit_row
from sqlalchemy import select

from qlcb_personnel.audit import trail
from qlcb_personnel.search import days, facts
from qlcb_personnel.search.days import Day, days_of
from qlcb_personnel.search.facts import Fact
from qlcb_personnel.search.models import OPEN_END, SearchDay

ACTIVE, RETIRED = "PERSON_STATUS_ACTIVE", "PERSON_STATUS_RETIRED"


def test_a_record_with_only_its_unit_has_one_day_from_the_first_to_the_open_end() -> None:
    found = days_of([Fact("unit", "U1", date.min, OPEN_END)])
    assert found.days == [Day(date.min, OPEN_END, "U1", ACTIVE, "", "")]
    assert found.status_now == ACTIVE


def test_each_change_starts_a_day_and_steps_of_one_rank_make_none() -> None:
    found = days_of(
        [
            Fact("unit", "U1", date.min, date(2019, 5, 31)),
            Fact("unit", "U2", date(2019, 6, 1), OPEN_END),
            Fact("rank", "08.051", date(2012, 1, 1), date(2014, 12, 31)),
            Fact("rank", "08.051", date(2015, 1, 1), date(2020, 12, 31)),  # a step of the same rank
            Fact("rank", "08.050", date(2021, 1, 1), OPEN_END),
            Fact("ethnicity", "KINH", date(1985, 3, 14), OPEN_END),
            Fact("organisation", "DANG", date(2010, 1, 1), OPEN_END),  # many a day: not a day's own
        ]
    )
    assert found.days == [
        Day(date.min, date(1985, 3, 13), "U1", ACTIVE, "", ""),
        Day(date(1985, 3, 14), date(2011, 12, 31), "U1", ACTIVE, "", "KINH"),
        Day(date(2012, 1, 1), date(2019, 5, 31), "U1", ACTIVE, "08.051", "KINH"),
        Day(date(2019, 6, 1), date(2020, 12, 31), "U2", ACTIVE, "08.051", "KINH"),
        Day(date(2021, 1, 1), OPEN_END, "U2", ACTIVE, "08.050", "KINH"),
    ]


def test_only_the_sections_whose_facts_shape_the_days_make_a_write_refresh_them() -> None:
    """A record's write refreshes the days only for `days.SECTIONS`: the salary (the rank of the
    day), the personal details (the ethnicity) and the recruitment (active from it, ADR 0052). A fact
    of any other section leaves what `days_of` gives unchanged, and one of each of those changes it."""
    assert {"salary", "personal_details", "recruitment"} == days.SECTIONS
    base = [Fact("unit", "U1", date.min, OPEN_END)]
    for section, gives in facts.ENTRY_FACTS.items():
        written = [
            Fact(kind + "2020" if kind.endswith(":") else kind, "X1", date(2020, 1, 1), OPEN_END) for kind, _ in gives
        ]
        changed = days_of([*base, *written]) != days_of(base)
        assert changed == (section in days.SECTIONS), section


def test_a_gap_between_two_periods_is_a_day_without_the_fact() -> None:
    found = days_of(
        [
            Fact("unit", "U1", date.min, OPEN_END),
            Fact("rank", "08.051", date(2010, 1, 1), date(2012, 12, 31)),
            Fact("rank", "08.050", date(2014, 1, 1), OPEN_END),
        ]
    )
    assert [(d.valid_from, d.valid_to, d.rank) for d in found.days] == [
        (date.min, date(2009, 12, 31), ""),
        (date(2010, 1, 1), date(2012, 12, 31), "08.051"),
        (date(2013, 1, 1), date(2013, 12, 31), ""),
        (date(2014, 1, 1), OPEN_END, "08.050"),
    ]


def test_the_status_of_a_day_and_the_one_the_record_shows_even_when_it_begins_later() -> None:
    found = days_of(
        [
            Fact("unit", "U1", date.min, OPEN_END),
            Fact("status", RETIRED, date(2030, 7, 1), OPEN_END),
        ]
    )
    assert [(d.valid_to, d.status) for d in found.days] == [(date(2030, 6, 30), ACTIVE), (OPEN_END, RETIRED)]
    assert found.status_now == RETIRED


def test_what_held_on_no_day_counts_for_none_and_before_the_first_recruitment_one_is_not_yet_in_service() -> None:
    found = days_of(
        [
            Fact("unit", "U1", date.min, date(2020, 2, 29)),
            Fact("unit", "U3", date(2020, 3, 1), date(2020, 2, 29)),  # replaced by a later decision
            Fact("unit", "U2", date(2020, 3, 1), OPEN_END),
            Fact("recruited", "", date(2012, 4, 1), OPEN_END),
            Fact("recruited", "", date(2008, 9, 1), OPEN_END),
        ]
    )
    assert [(d.valid_from, d.unit_id, d.status) for d in found.days] == [
        (date.min, "U1", days.NOT_YET_IN_SERVICE),
        (date(2008, 9, 1), "U1", ACTIVE),
        (date(2020, 3, 1), "U2", ACTIVE),
    ]
    assert found.status_now == ACTIVE


def test_a_status_recorded_before_the_recruitment_other_than_active_stays() -> None:
    found = days_of(
        [
            Fact("unit", "U1", date.min, OPEN_END),
            Fact("status", RETIRED, date.min, date(2009, 12, 31)),
            Fact("status", ACTIVE, date(2010, 1, 1), OPEN_END),
            Fact("recruited", "", date(2012, 4, 1), OPEN_END),
        ]
    )
    assert [(d.valid_to, d.status) for d in found.days] == [
        (date(2009, 12, 31), RETIRED),
        (date(2012, 3, 31), days.NOT_YET_IN_SERVICE),
        (OPEN_END, ACTIVE),
    ]


async def test_refresh_replaces_a_persons_days_with_what_their_facts_now_give(tmp_path: Path) -> None:
    async with sqlite_store(tmp_path) as db:
        unit = unit_row("HQ")
        person = person_row(unit, "001085000009", "N9", "Lê Thị Ngày")
        with trail.acting_as_system("test"):
            async with db.unit_of_work() as session:
                session.add(unit)
                await session.flush()
                session.add(person)
                await session.flush()
                await facts.placed(session, person_id=person.id, unit_id=unit.id, since=None)
                await days.refresh(session, [person.id])
            async with db.unit_of_work() as session:
                await facts.status_changed(
                    session, row_id="s1", person_id=person.id, status=RETIRED, since=date(2031, 1, 1)
                )
                await days.refresh(session, [person.id])
        async with db.unit_of_work() as session:
            stored = (await session.scalars(select(SearchDay).order_by(SearchDay.valid_from))).all()
            assert [(d.valid_from, d.valid_to, d.unit_id, d.status, d.status_now) for d in stored] == [
                (date.min, date(2030, 12, 31), unit.id, ACTIVE, RETIRED),
                (date(2031, 1, 1), OPEN_END, unit.id, RETIRED, RETIRED),
            ]
            assert {(d.unit_now, d.name_sort, d.date_of_birth, d.sex) for d in stored} == {
                (unit.id, person.name_sort, person.date_of_birth, person.sex)
            }
