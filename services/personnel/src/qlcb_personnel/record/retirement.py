"""When a civil servant reaches the normal retirement age (ND 135/2020/NĐ-CP): the age is the
one the schedule sets for the calendar year in which it is reached (a dated catalog,
`retirement_ages`), and retirement is at the end of the last day of that month."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.authz import Delegation, Section
from qlcb_common.days import vietnam_today
from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.persons import status
from qlcb_personnel.persons.messages import ACTIVE
from qlcb_personnel.persons.models import Person
from qlcb_personnel.record import periods
from qlcb_personnel.record.salary import months_after
from qlcb_personnel.units.models import Unit

SEX_CODE = {"SEX_MALE": "MALE", "SEX_FEMALE": "FEMALE"}


def _age_in_months(schedule: dict[str, Any], year: int) -> int:
    by_year: dict[str, int] = schedule["months_by_year"]
    if str(year) in by_year:
        return by_year[str(year)]
    return int(schedule["before"] if year < min(map(int, by_year)) else schedule["after"])


def _months_from(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `day`."""
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def retirement_date(born: date, schedule: dict[str, Any]) -> date:
    """The last day of the month in which the age of that month's year is reached."""
    for year in range(born.year + 50, born.year + 70):
        reached = months_after(date(born.year, born.month, 1), _age_in_months(schedule, year))
        if reached.year == year:
            return date(reached.year, reached.month, calendar.monthrange(reached.year, reached.month)[1])
    raise ValueError(f"no retirement year for {born}")


def born_retiring_between(first: date, last: date, schedule: dict[str, Any]) -> tuple[date, date] | None:
    """The first and last birth days of those whom `schedule` retires between `first` and `last`, or None
    if no birth month does. The retirement day depends on the month of birth alone, and every
    schedule's age lies between 50 and 70 years, so the months of birth between are tried one by one."""
    retiring = [
        born
        for born in (_months_from(first, -70 * 12 + n) for n in range(20 * 12 + _months_between(first, last) + 1))
        if first <= retirement_date(born, schedule) <= last
    ]
    if not retiring:
        return None
    born_last = retiring[-1]
    return retiring[0], date(born_last.year, born_last.month, calendar.monthrange(born_last.year, born_last.month)[1])


def _months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


@dataclass(frozen=True)
class Due:
    person: Person
    retires_on: date


async def schedules(session: AsyncSession, day: date) -> dict[str, dict[str, Any]]:
    """The retirement-age schedule of each sex, as the catalog holds it on `day`."""
    found: dict[str, dict[str, Any]] = {}
    for sex in SEX_CODE:
        if (schedule := await schedule_of(session, sex, day)) is not None:
            found[SEX_CODE[sex]] = schedule
    return found


def schedule_code(sex: str) -> tuple[str, str] | None:
    """The (catalog, code) pair of the retirement-age schedule of one sex, if it has one."""
    code = SEX_CODE.get(sex)
    return ("retirement_ages", code) if code else None


async def schedule_of(session: AsyncSession, sex: str, day: date) -> dict[str, Any] | None:
    """The retirement-age schedule of one sex (a person's `sex`), as the catalog holds it on `day`."""
    pair = schedule_code(sex)
    value = await catalogs.value_on(session, *pair, day) if pair else None
    return value.attributes if value is not None else None


async def due_between(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    unit_id: str,
    include_subtree: bool,
    start: str,
    end: str,
) -> list[Due]:
    """The working civil servants of a unit (or subtree) in the caller's scope who reach the
    retirement age between `start` and `end` (inclusive), soonest first (R-PER-3)."""
    first, last = periods.checked_period(start, end)
    unit = await periods.listed_unit(session, actor, delegations, unit_id)
    ages = await schedules(session, vietnam_today())
    # Only the birth months that retire in the period are read (by the birth-date index), not every
    # person of the subtree over fifty: the list of a whole sector read a third of it and sorted it out here.
    born = {
        sex: window
        for sex, code in SEX_CODE.items()
        if code in ages and (window := born_retiring_between(first, last, ages[code])) is not None
    }
    if not born:
        return []
    query = (
        select(Person)
        .join(Unit, Unit.id == Person.unit_id)
        .where(*periods.listed_people(actor, delegations, unit, include_subtree, Section.IDENTITY))
        .where(or_(*(and_(Person.sex == sex, Person.date_of_birth.between(*window)) for sex, window in born.items())))
    )
    persons = list(await session.scalars(query))
    statuses = await status.current(session, [p.id for p in persons])
    due: list[Due] = []
    for person in persons:
        row = statuses.get(person.id)
        schedule = ages.get(SEX_CODE.get(person.sex, ""))
        if (row is not None and row.status != ACTIVE) or schedule is None:
            continue
        retires_on = retirement_date(person.date_of_birth, schedule)
        if first <= retires_on <= last:
            due.append(Due(person, retires_on))
    return sorted(due, key=lambda d: (d.retires_on, d.person.full_name))
