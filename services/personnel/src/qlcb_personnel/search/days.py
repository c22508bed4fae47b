"""A person's days (ADR 0051): the periods over which everything a search finds people by once a
day stays the same, worked out from their search facts (`days_of`), a pure function the service, its
migrations (`fill_all`) and the benchmark's loader share."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.sequences import batched
from qlcb_personnel.persons.messages import ACTIVE
from qlcb_personnel.persons.models import Person
from qlcb_personnel.search.facts import ENTRY_FACTS, ETHNICITY, RANK, RECRUITED, STATUS, UNIT, Fact
from qlcb_personnel.search.models import OPEN_END, SearchDay, SearchFact

_KINDS = (UNIT, STATUS, RANK, ETHNICITY)
SECTIONS = frozenset(
    s for s, gives in ENTRY_FACTS.items() if any(fact in (RANK, ETHNICITY, RECRUITED) for fact, _ in gives)
)
"""The record's sections whose entries shape a person's days; a write to any other leaves them."""


@dataclass(frozen=True)
class Day:
    """What held from `valid_from` to `valid_to`, both included: the unit, the status (active when
    none is recorded; `NOT_YET_IN_SERVICE` before the first recruitment, when one is recorded), the
    rank and the ethnicity ('' when none)."""

    valid_from: date
    valid_to: date
    unit_id: str
    status: str
    rank: str
    ethnicity: str


@dataclass(frozen=True)
class Days:
    days: list[Day]
    status_now: str
    """The status the record shows: its last status period's, as a search without `as_of` asks."""


NOT_YET_IN_SERVICE = ""
"""The status of the days before the first recruitment recorded: the person was not yet active in
the sector then (ADR 0040), so that "active on a day" is the status alone, one range of one index."""


def days_of(facts: Iterable[Fact]) -> Days:
    """The periods from the first day to `OPEN_END`, each as long as nothing changes in it. A fact
    that held on no day (closed before it began: what a later decision replaced) counts for none.
    Before the first recruitment recorded, a person active is `NOT_YET_IN_SERVICE`."""
    facts = list(facts)
    held = sorted((f for f in facts if f.fact in _KINDS and f.valid_from <= f.valid_to), key=lambda f: f.valid_from)
    recruited = min((f.valid_from for f in facts if f.fact == RECRUITED), default=date.min)
    starts = (
        {date.min, recruited}
        | {f.valid_from for f in held}
        | {f.valid_to + timedelta(days=1) for f in held if f.valid_to < OPEN_END}
    )
    ordered = sorted(starts)
    days: list[Day] = []
    for index, start in enumerate(ordered):
        end = ordered[index + 1] - timedelta(days=1) if index + 1 < len(ordered) else OPEN_END
        values = {kind: "" for kind in _KINDS}
        for fact in held:  # of two that overlap (none should), the later-starting one
            if fact.valid_from <= start <= fact.valid_to:
                values[fact.fact] = fact.value
        status = values[STATUS] or ACTIVE
        if start < recruited and status == ACTIVE:
            status = NOT_YET_IN_SERVICE
        day = Day(start, end, values[UNIT], status, values[RANK], values[ETHNICITY])
        if days and _same(days[-1], day):
            days[-1] = Day(days[-1].valid_from, end, day.unit_id, day.status, day.rank, day.ethnicity)
        else:
            days.append(day)
    return Days(days, days[-1].status)


def _same(a: Day, b: Day) -> bool:
    return (a.unit_id, a.status, a.rank, a.ethnicity) == (b.unit_id, b.status, b.rank, b.ethnicity)


REFRESHED_AT_ONCE = 1000
"""People whose days one statement reads or writes (an import refreshes tens of thousands)."""


_PEOPLE = select(Person.id, Person.unit_id, Person.name_sort, Person.date_of_birth, Person.sex)
_FACTS = select(SearchFact.person_id, SearchFact.fact, SearchFact.value, SearchFact.valid_from, SearchFact.valid_to)


async def refresh(session: AsyncSession, person_ids: Collection[str]) -> None:
    """Works the days of these people out again from their facts as this unit of work leaves them:
    called by every write that changes a person's facts, after it has written them.

    The people's rows are locked first, in the order of their ids: of two writes to one person's
    facts (a step and a status, say), the second waits for the first to commit and then reads its
    facts too, rather than writing days that miss them, or days whose keys clash with the first's."""
    await session.flush()
    for chunk in batched(sorted(set(person_ids)), REFRESHED_AT_ONCE):
        people = (
            await session.execute(_PEOPLE.where(Person.id.in_(chunk)).order_by(Person.id).with_for_update())
        ).all()
        held = await session.execute(_FACTS.where(SearchFact.person_id.in_(chunk)))
        await session.execute(delete(SearchDay).where(SearchDay.person_id.in_(chunk)))
        if rows := _rows(people, held):
            await session.execute(insert(SearchDay), rows)


def fill_all(connection: Connection) -> None:
    """Everyone's days worked out again from the facts stored, a thousand people at a time: what a
    migration that changes how the days are worked out runs, on its own connection."""
    connection.execute(delete(SearchDay))
    for chunk in batched(list(connection.scalars(select(Person.id).order_by(Person.id))), REFRESHED_AT_ONCE):
        people = connection.execute(_PEOPLE.where(Person.id.in_(chunk))).all()
        if rows := _rows(people, connection.execute(_FACTS.where(SearchFact.person_id.in_(chunk)))):
            connection.execute(insert(SearchDay), rows)


def _rows(people: Iterable[Personal], facts: Iterable[Any]) -> list[dict[str, object]]:
    """The rows of the days of `people`, from `facts` (rows of `_FACTS`) of theirs."""
    held: dict[str, list[Fact]] = {}
    for person_id, kind, value, valid_from, valid_to in facts:
        held.setdefault(person_id, []).append(Fact(kind, value, valid_from, valid_to))
    return [row for person in people for row in rows_of(person, days_of(held.get(person.id, ())))]


class Personal(Protocol):
    """What a person's rows of the day carry of the person: a stored person, or a row of `_PEOPLE`."""

    @property
    def id(self) -> str: ...
    @property
    def unit_id(self) -> str: ...
    @property
    def name_sort(self) -> bytes: ...
    @property
    def date_of_birth(self) -> date: ...
    @property
    def sex(self) -> str: ...


def rows_of(person: Personal, days: Days) -> list[dict[str, object]]:
    """The rows of a person's days."""
    return [
        {
            "person_id": person.id,
            "valid_from": day.valid_from,
            "valid_to": day.valid_to,
            "unit_id": day.unit_id or person.unit_id,
            "status": day.status,
            "rank": day.rank,
            "ethnicity": day.ethnicity,
            "unit_now": person.unit_id,
            "status_now": days.status_now,
            "name_sort": person.name_sort,
            "date_of_birth": person.date_of_birth,
            "sex": person.sex,
        }
        for day in days.days
    ]
