"""Who is counted on a day: the conditions of a person in service in a unit then, and of a form's
column on what a person is (sex, age band, nearness to the retirement age of the dated schedule),
shared by the forms' two ways of counting (over the facts, or over the profiles of the day).

In service on a day: in a unit then, with no status taking them out of service then, and recruited
by then. A record's recruitment entry says when its service began: a record taken in years later
(every paper record at go-live), or one whose recruitment is dated ahead, does not count before that
day. A record with no recruitment entry counts from its start, as before."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, ScalarSelect, SQLColumnExpression, and_, func, not_, or_, select
from sqlalchemy.orm import aliased

from qlcb_reports.statistics import forms as layouts
from qlcb_reports.statistics.forms import Column
from qlcb_reports.statistics.models import StatFact, StatPerson
from qlcb_reports.statistics.projection import RECRUITED, STATUS, UNIT

ACTIVE = "PERSON_STATUS_ACTIVE"
UNIT_THEN = aliased(StatFact, name="unit_then")


def first_recruitment(generation: int, person_id: SQLColumnExpression[str]) -> ScalarSelect[date]:
    """The day of the person's first recruitment; NULL for a record that has none."""
    fact = aliased(StatFact, name="recruitment")
    return (
        select(func.min(fact.valid_from))
        .where(fact.generation == generation, fact.person_id == person_id, fact.fact == RECRUITED)
        .scalar_subquery()
    )


def recruited_after(generation: int, day: date, person_id: SQLColumnExpression[str]) -> ColumnElement[bool]:
    """The person has a recruitment recorded, every one of them after `day`. Asked as an anti-join
    (one pass over the recruitments), not as each person's first recruitment compared with the day,
    which PostgreSQL ran as a subquery per person: over 20,000 people the drill-down of a cell
    spent most of its 170 ms there."""
    later = aliased(StatFact, name="recruited_later")
    by_then = aliased(StatFact, name="recruited_by_then")
    return (
        select(later.person_id)
        .where(
            later.generation == generation,
            later.person_id == person_id,
            later.fact == RECRUITED,
            later.valid_from > day,
            ~select(by_then.person_id)
            .where(
                by_then.generation == generation,
                by_then.person_id == later.person_id,
                by_then.fact == RECRUITED,
                by_then.valid_from <= day,
            )
            .exists(),
        )
        .exists()
    )


def in_service(
    generation: int, day: date, units: Sequence[str] | ColumnElement[bool] | None = None
) -> list[ColumnElement[bool]]:
    """The conditions of a person (`StatPerson`) in a unit (`UNIT_THEN.value`; one of `units` unless
    None) on `day` and in service then."""
    status = aliased(StatFact, name="status_then")
    left = (
        select(status.person_id)
        .where(
            status.generation == generation,
            status.person_id == StatPerson.person_id,
            status.fact == STATUS,
            status.valid_from <= day,
            status.valid_to >= day,
            status.value != ACTIVE,
        )
        .exists()
    )
    where = [
        StatPerson.generation == generation,
        UNIT_THEN.generation == generation,
        UNIT_THEN.person_id == StatPerson.person_id,
        UNIT_THEN.fact == UNIT,
        UNIT_THEN.valid_from <= day,
        UNIT_THEN.valid_to >= day,
        not_(left),
        not_(recruited_after(generation, day, StatPerson.person_id)),
    ]
    if units is not None:
        where.append(UNIT_THEN.value.in_(units))
    return where


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def months_before(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, last)
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


def personal(
    column: Column, day: date, sex: SQLColumnExpression[str], born: SQLColumnExpression[date]
) -> list[ColumnElement[bool]]:
    """The column's conditions on the person's `sex` and birth date (`born`) as of `day`."""
    where: list[ColumnElement[bool]] = []
    if column.sex is not None:
        where.append(sex == column.sex)
    if column.age_min is not None:
        where.append(born <= years_before(day, column.age_min))
    if column.age_max is not None:
        where.append(born > years_before(day, column.age_max + 1))
    if column.retirement_reached or column.retirement_within_years is not None:
        ages = layouts.retirement_ages()
        by_sex = []
        for one in [column.sex] if column.sex is not None else list(layouts.SEXES.values()):
            reached = months_before(day, ages.months(one, day))
            if column.retirement_reached:
                band = born <= reached
            else:
                years = column.retirement_within_years or 0
                band = and_(born > reached, born <= months_before(day, ages.months(one, day) - 12 * years))
            by_sex.append(and_(sex == one, band))
        where.append(or_(*by_sex))
    return where
