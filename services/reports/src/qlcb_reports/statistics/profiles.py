"""The counting forms count each person's profile of the day (ADR 0036): their unit then, sex,
birth date and the catalog groups the forms ask, held then, as the bits of one integer: one row per
person instead of asking the facts once per column. Stored for one day, today (the one asked most);
worked out from the facts inside the form's query for any other.

The consumer refreshes the stored profiles of the people each transaction changed, in that
transaction; the supervisor moves them to a new day (the people whose facts begin or end in between)
and computes them whole for a generation that has none, or whose bits the forms no longer match. Both
take an advisory lock of the generation on PostgreSQL (the consumer shared, the supervisor
exclusive), so that a transaction computing a profile for one day never commits it after the move to
the next."""

from __future__ import annotations

import functools
import operator
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Select,
    Subquery,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from qlcb_common.db import Database
from qlcb_reports.statistics import forms as layouts
from qlcb_reports.statistics.forms import Column
from qlcb_reports.statistics.models import StatCode, StatFact, StatPerson, StatProfile, StatProfileDay
from qlcb_reports.statistics.people_then import UNIT_THEN, in_service, personal
from qlcb_reports.statistics.projection import CATALOG_OF, CODES_REGROUPED, PEOPLE_TOUCHED, UNIT

log = structlog.get_logger(__name__)

MAX_BITS = 63
LOCK = 0x51434250
"""The first key of the generation's advisory lock ("QCBP"); the second is the generation."""
CHUNK = 1000
Profiled = Any
"""The columns of profiles (`StatProfile`'s table's, or a query's giving the same): `person_id`,
`unit_id`, `sex`, `date_of_birth`, `held`."""


@dataclass(frozen=True, order=True)
class Token:
    """A group of a fact's catalog a counting form asks, of one kind ("" for any)."""

    fact: str
    kind: str
    group: str


@functools.cache
def tokens() -> dict[Token, int]:
    """Every group the counting forms' columns ask, with its bit."""
    found = {
        Token(column.fact, column.kind or "", group)
        for form in layouts.forms().values()
        if form.kind == "counts"
        for column in form.columns
        if column.fact is not None
        for group in (*column.groups, *column.unless)
    }
    if len(found) > MAX_BITS:
        raise ValueError(f"the counting forms ask {len(found)} catalog groups; a profile holds {MAX_BITS}")
    return {token: 1 << i for i, token in enumerate(sorted(found))}


def fingerprint() -> str:
    """The bits' meaning, kept with stored profiles: a release whose forms ask other groups has
    them computed again."""
    return ";".join(f"{t.fact}|{t.kind}|{t.group}={bit.bit_length() - 1}" for t, bit in tokens().items())


def condition(column: Column, day: date, profile: Profiled) -> ColumnElement[bool]:
    """Who the column counts among the profiles of `day` (every one for the headcount)."""
    where = personal(column, day, profile.sex, profile.date_of_birth)
    if column.fact is not None:
        bits = tokens()
        kind = column.kind or ""
        asked = sum(bits[Token(column.fact, kind, group)] for group in column.groups)
        where.append(profile.held.op("&")(literal(asked, BigInteger)) != 0)
        if column.unless:
            unless = sum(bits[Token(column.fact, kind, group)] for group in column.unless)
            where.append(profile.held.op("&")(literal(unless, BigInteger)) == 0)
    return and_(*where) if where else profile.person_id.is_not(None)


async def lock(session: AsyncSession, generation: int, *, exclusive: bool) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: one writer at a time already
    taken = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.execute(text(f"SELECT {taken}(:key, :generation)"), {"key": LOCK, "generation": generation})


async def day_held(session: AsyncSession, generation: int) -> date | None:
    """The day the generation's profiles hold, if they hold the bits the forms ask now."""
    found = (
        await session.execute(
            select(StatProfileDay.day, StatProfileDay.tokens).where(StatProfileDay.generation == generation)
        )
    ).first()
    return found.day if found is not None and found.tokens == fingerprint() else None


async def coded(session: AsyncSession, generation: int) -> dict[Token, list[str]]:
    """Each group a form asks, with the codes of the generation in it (of its kind, if it has one):
    read once per question from the model's few hundred codes, so that the facts are read alone."""
    found: dict[Token, list[str]] = {token: [] for token in tokens()}
    rows = await session.execute(
        select(StatCode.catalog, StatCode.code, StatCode.stat_group, StatCode.kind).where(
            StatCode.generation == generation
        )
    )
    for catalog, code, group, kind in rows:
        for token, codes in found.items():
            if CATALOG_OF[token.fact] == catalog and token.group == group and token.kind in ("", kind):
                codes.append(code)
    return found


def _bits(
    generation: int,
    day: date,
    codes: dict[Token, list[str]],
    people: Sequence[str] | None,
    units: Sequence[str] | None,
) -> Subquery:
    """Per person with a fact held on `day` whose code's group a form asks: the bits of those groups.
    Only `people`, or those in `units` that day, if given: a small unit's form reads its people's
    facts alone."""
    bits = tokens()
    flags = [
        func.max(
            case(
                (and_(StatFact.fact == token.fact, StatFact.value.in_(found)), literal(bits[token], BigInteger)),
                else_=literal(0, BigInteger),
            )
        )
        for token, found in codes.items()
        if found
    ]
    held = select(StatFact.person_id, functools.reduce(operator.add, flags, literal(0, BigInteger)).label("bits"))
    held = held.where(
        StatFact.generation == generation,
        StatFact.fact.in_(sorted({token.fact for token in tokens()})),
        StatFact.valid_from <= day,
        StatFact.valid_to >= day,
    )
    if people is not None:
        held = held.where(StatFact.person_id.in_(people))
    if units is not None:
        placed = aliased(StatFact, name="placed")
        held = held.where(
            StatFact.person_id.in_(
                select(placed.person_id).where(
                    placed.generation == generation,
                    placed.fact == UNIT,
                    placed.valid_from <= day,
                    placed.valid_to >= day,
                    placed.value.in_(units),
                )
            )
        )
    return held.group_by(StatFact.person_id).subquery("bits")


def profiles_of(
    generation: int,
    day: date,
    codes: dict[Token, list[str]],
    *,
    people: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
) -> Select[int, str, str, str, date, Any]:
    """The profiles as of `day` of the people in service then (of `people`, in `units`, if given),
    worked out from the facts; `codes` as `coded` gives them."""
    bits = _bits(generation, day, codes, people, units)
    chosen = [] if people is None else [StatPerson.person_id.in_(people)]
    return (
        select(
            StatPerson.generation,
            StatPerson.person_id,
            UNIT_THEN.value.label("unit_id"),
            StatPerson.sex,
            StatPerson.date_of_birth,
            func.coalesce(bits.c.bits, 0).label("held"),
        )
        .select_from(StatPerson)
        .join(UNIT_THEN, UNIT_THEN.person_id == StatPerson.person_id)
        .outerjoin(bits, bits.c.person_id == StatPerson.person_id)
        .where(*in_service(generation, day, units), *chosen)
    )


async def counts(
    session: AsyncSession, generation: int, day: date, units: Sequence[str], columns: Sequence[Column]
) -> dict[str, list[int]]:
    """Per unit, the people in service on `day` each column counts: from the stored profiles if they
    hold the day, else from profiles worked out from the facts for the question. The stored ones are
    taken only if they held the day both before and after they were read: a move to the next day
    committed in between (each statement sees what was committed when it began) is read again."""
    if not units:
        return {}
    if await day_held(session, generation) == day:
        stored = StatProfile.__table__
        where = [StatProfile.generation == generation, StatProfile.unit_id.in_(list(units))]
        found = await _counted(session, stored, stored.c, where, day, columns)
        if await day_held(session, generation) == day:
            return found
    codes = await coded(session, generation)
    worked_out = profiles_of(generation, day, codes, units=list(units)).subquery("profile")
    return await _counted(session, worked_out, worked_out.c, [], day, columns)


async def _counted(
    session: AsyncSession,
    source: FromClause,
    profile: Profiled,
    where: Sequence[ColumnElement[bool]],
    day: date,
    columns: Sequence[Column],
) -> dict[str, list[int]]:
    query = (
        select(profile.unit_id, *(func.count().filter(condition(c, day, profile)) for c in columns))
        .select_from(source)
        .where(*where)
        .group_by(profile.unit_id)
    )
    return {unit_id: [int(n) for n in found] for unit_id, *found in await session.execute(query)}


async def _compute(session: AsyncSession, generation: int, day: date, people: Sequence[str] | None) -> None:
    """Writes the profiles of `people` (None: everyone) as of `day` in place of those they had."""
    gone = delete(StatProfile).where(StatProfile.generation == generation)
    if people is not None:
        gone = gone.where(StatProfile.person_id.in_(people))
    await session.execute(gone)
    await session.execute(
        insert(StatProfile).from_select(
            ["generation", "person_id", "unit_id", "sex", "date_of_birth", "held"],
            profiles_of(generation, day, await coded(session, generation), people=people),
        )
    )


async def refresh(session: AsyncSession, generation: int, day: date, people: Collection[str] | None) -> None:
    if people is None:
        await _compute(session, generation, day, None)
        return
    chosen = sorted(people)
    for start in range(0, len(chosen), CHUNK):
        await _compute(session, generation, day, chosen[start : start + CHUNK])


async def follow(session: AsyncSession, generation: int) -> None:
    """After a transaction of the consumer applied its events: the profiles of the people they changed,
    and of everyone holding a code whose group or kind changed, as of the profiles' day."""
    people: set[str] = session.info.get(PEOPLE_TOUCHED, {}).get(generation, set())
    codes: set[tuple[str, str]] = session.info.get(CODES_REGROUPED, {}).get(generation, set())
    if not people and not codes:
        return
    await session.flush()
    await lock(session, generation, exclusive=False)
    day = await session.scalar(select(StatProfileDay.day).where(StatProfileDay.generation == generation))
    if day is None:
        return
    facts_of = {catalog: [f for f, c in CATALOG_OF.items() if c == catalog] for catalog, _ in codes}
    for catalog, code in codes:
        holders = await session.scalars(
            select(StatFact.person_id)
            .distinct()
            .where(StatFact.generation == generation, StatFact.fact.in_(facts_of[catalog]), StatFact.value == code)
        )
        people = people | set(holders)
    await refresh(session, generation, day, people)


async def keep_current(db: Database, generation: int, today: date) -> None:
    """Brings the generation's profiles to `today`: moved on from their day (the people whose facts
    begin or end in between), or computed whole when it has none or the forms ask other groups."""
    async with db.unit_of_work() as session:
        if await day_held(session, generation) == today:
            return  # the usual case, asked at each step without holding up the consumer
    async with db.unit_of_work() as session:
        await lock(session, generation, exclusive=True)
        state = await session.get(StatProfileDay, generation)
        if state is not None and state.tokens == fingerprint():
            if state.day == today:
                return
            low, high = sorted((state.day, today))
            moved = await session.scalars(
                select(StatFact.person_id)
                .distinct()
                .where(
                    StatFact.generation == generation,
                    or_(
                        and_(StatFact.valid_from > low, StatFact.valid_from <= high),
                        and_(StatFact.valid_to >= low, StatFact.valid_to < high),
                    ),
                )
            )
            people = set(moved)
            await refresh(session, generation, today, people)
            log.info("statistics profiles moved on", generation=generation, day=today.isoformat(), people=len(people))
            state.day = today
            return
        await refresh(session, generation, today, None)
        if state is None:
            session.add(StatProfileDay(generation=generation, day=today, tokens=fingerprint()))
        else:
            state.day, state.tokens = today, fingerprint()
        log.info("statistics profiles computed", generation=generation, day=today.isoformat())
