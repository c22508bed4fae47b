"""Terms of office (thời hạn giữ chức vụ): an appointment or reappointment to a leadership post, and
a rotation, hold for the months their decision gives (`term_months`; five years is the usual term of
a leadership post), ending the day before the same day of the month that many months later. The
record shows when each term current on the day read ends, so that the unit's HR officer starts the
reappointment in time."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.authz import Delegation, Section
from qlcb_personnel.persons import status
from qlcb_personnel.persons.messages import ACTIVE
from qlcb_personnel.persons.models import Person
from qlcb_personnel.record import periods
from qlcb_personnel.record.models import TERM_END_MONTH, EntryView, RecordEntry
from qlcb_personnel.units.models import Unit

TERMED = ("appointments", "rotations")


@dataclass(frozen=True)
class Term:
    entry: EntryView
    ends_on: date


def term_end(start: date, months: int) -> date:
    """The term's last day, as Bộ luật Dân sự 2015 Điều 148 counts a period of months: the day before
    the same day `months` later (from 1 March 2025 for 60 months, 28 February 2030), or the last day
    of that month when it has no such day (from 31 January for one month, 28 February)."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if start.day > last:
        return date(year, month, last)
    return date(year, month, start.day) - timedelta(days=1)


def current_terms(entries: Iterable[EntryView], day: date) -> list[Term]:
    """The terms of the entries current on `day`, soonest ending first."""
    terms = [
        Term(entry, term_end(entry.valid_from, int(entry.values["term_months"])))
        for entry in entries
        if entry.section in TERMED
        and entry.values.get("term_months")
        and entry.valid_from is not None
        and entry.valid_from <= day
        and (entry.valid_to is None or entry.valid_to >= day)
    ]
    return sorted(terms, key=lambda term: term.ends_on)


@dataclass(frozen=True)
class Ending:
    person: Person
    term: Term


MAX_TERM_YEARS = 10
"""A term is at most 120 months (the sections' `term_months`): one begun earlier ended before any period."""


def _month(day: date) -> int:
    return day.year * 12 + day.month


def ends_within(first: date, last: date) -> ColumnElement[bool]:
    """The entries whose term may end between `first` and `last`, as the query can tell without the
    calendar: a term of m months from a day of month M ends in month M + m, or in the month before
    it when it begins on the 1st. So the rows read are those of the period's months (and of the month
    after, for the terms begun on a 1st), not every term begun in the years before it; `term_end`
    then decides for each. `ix_record_entries_term_ends` holds the same expression."""
    return TERM_END_MONTH.between(_month(first), _month(last) + 1)


async def ending_between(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    unit_id: str,
    include_subtree: bool,
    start: str,
    end: str,
) -> list[Ending]:
    """The working civil servants of a unit (or subtree) whose term of office in a post, or of a
    rotation, ends between `start` and `end` (inclusive), soonest first: the people whose
    reappointment (bổ nhiệm lại) or return the unit's HR officer prepares. Only the entries the
    caller may read of the work history, in its scope; a term cut short by its entry's end is not
    listed."""
    first, last = periods.checked_period(start, end)
    unit = await periods.listed_unit(session, actor, delegations, unit_id)
    query = (
        select(RecordEntry, Person)
        .join(Person, Person.id == RecordEntry.person_id)
        .join(Unit, Unit.id == Person.unit_id)
        .where(
            *periods.listed_people(actor, delegations, unit, include_subtree, Section.WORK_HISTORY),
            RecordEntry.section.in_(TERMED),
            RecordEntry.superseded_at.is_(None),
            RecordEntry.retracted.is_(False),
            RecordEntry.valid_from >= date(first.year - MAX_TERM_YEARS - 1, 1, 1),
            RecordEntry.valid_from <= last,
            or_(RecordEntry.valid_to.is_(None), RecordEntry.valid_to >= first),
            ends_within(first, last),
        )
    )
    rows = (await session.execute(query)).all()
    statuses = await status.current(session, [person.id for _, person in rows])
    found: list[Ending] = []
    for entry, person in rows:
        held = statuses.get(person.id)
        if not entry.values.get("term_months") or entry.valid_from is None or (held and held.status != ACTIVE):
            continue
        ends_on = term_end(entry.valid_from, int(entry.values["term_months"]))
        if first <= ends_on <= last and (entry.valid_to is None or entry.valid_to >= ends_on):
            found.append(Ending(person, Term(entry, ends_on)))
    return sorted(found, key=lambda e: (e.term.ends_on, e.person.full_name))
