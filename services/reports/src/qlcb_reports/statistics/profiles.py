"""Each person's profile as of one day (ADR 0036): their unit then, sex, birth date and the catalog
groups the counting forms ask, held then, as the bits of one integer. A counting form of that day,
today's (the one asked most), reads one row per person instead of asking the facts once per column.

The consumer refreshes the profiles of the people each transaction changed, in that transaction;
the supervisor moves them to a new day (the people whose facts begin or end in between) and computes
them whole for a generation that has none, or whose bits the forms no longer match. Both take an
advisory lock of the generation on PostgreSQL (the consumer shared, the supervisor exclusive), so that
a transaction computing a profile for one day never commits it after the move to the next."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import structlog
from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.db import Database
from qlcb_reports.statistics import forms as layouts
from qlcb_reports.statistics.forms import Column
from qlcb_reports.statistics.models import StatCode, StatFact, StatPerson, StatProfile, StatProfileDay, StatToken
from qlcb_reports.statistics.people_then import UNIT_THEN, in_service, personal
from qlcb_reports.statistics.projection import CATALOG_OF, CODES_REGROUPED, PEOPLE_TOUCHED

log = structlog.get_logger(__name__)

MAX_BITS = 63
LOCK = 0x51434250
"""The first key of the generation's advisory lock ("QCBP"); the second is the generation."""
CHUNK = 1000


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


def condition(column: Column, day: date, bits: dict[Token, int]) -> ColumnElement[bool]:
    """Who the column counts among the profiles of `day` (every one for the headcount)."""
    where = personal(column, day, StatProfile.sex, StatProfile.date_of_birth)
    if column.fact is not None:
        kind = column.kind or ""
        asked = sum(bits[Token(column.fact, kind, group)] for group in column.groups)
        where.append(StatProfile.held.op("&")(asked) != 0)
        if column.unless:
            unless = sum(bits[Token(column.fact, kind, group)] for group in column.unless)
            where.append(StatProfile.held.op("&")(unless) == 0)
    return and_(*where) if where else StatProfile.person_id.is_not(None)


async def lock(session: AsyncSession, generation: int, *, exclusive: bool) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: one writer at a time already
    taken = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.execute(text(f"SELECT {taken}(:key, :generation)"), {"key": LOCK, "generation": generation})


async def day_held(session: AsyncSession, generation: int) -> date | None:
    """The day the generation's profiles hold, if they hold the bits the forms ask now."""
    day = await session.scalar(select(StatProfileDay.day).where(StatProfileDay.generation == generation))
    if day is None:
        return None
    stored = await session.execute(
        select(StatToken.bit, StatToken.fact, StatToken.kind, StatToken.stat_group).where(
            StatToken.generation == generation
        )
    )
    current = {bit: token for token, bit in tokens().items()}
    if {bit: Token(fact, kind, group) for bit, fact, kind, group in stored} != current:
        return None
    return day


async def counts(
    session: AsyncSession, generation: int, day: date, units: Sequence[str], columns: Sequence[Column]
) -> dict[str, list[int]]:
    """Per unit, the people in service on the profiles' `day` each column counts."""
    if not units:
        return {}
    bits = tokens()
    query = (
        select(StatProfile.unit_id, *(func.count().filter(condition(c, day, bits)) for c in columns))
        .where(StatProfile.generation == generation, StatProfile.unit_id.in_(list(units)))
        .group_by(StatProfile.unit_id)
    )
    return {unit_id: [int(n) for n in found] for unit_id, *found in await session.execute(query)}


async def _compute(session: AsyncSession, generation: int, day: date, people: Sequence[str] | None) -> None:
    """Writes the profiles of `people` (None: everyone) as of `day` in place of those they had."""
    gone = delete(StatProfile).where(StatProfile.generation == generation)
    held = select(StatFact.person_id, func.sum(StatToken.bit.distinct()).label("bits"))
    held = held.join(StatToken, and_(StatToken.generation == StatFact.generation, StatToken.fact == StatFact.fact))
    held = held.join(
        StatCode,
        and_(
            StatCode.generation == StatFact.generation,
            StatCode.catalog == StatToken.catalog,
            StatCode.code == StatFact.value,
            StatCode.stat_group == StatToken.stat_group,
            or_(StatToken.kind == "", StatCode.kind == StatToken.kind),
        ),
    )
    held = held.where(StatFact.generation == generation, StatFact.valid_from <= day, StatFact.valid_to >= day)
    chosen = StatPerson.person_id.is_not(None)
    if people is not None:
        gone = gone.where(StatProfile.person_id.in_(people))
        held = held.where(StatFact.person_id.in_(people))
        chosen = StatPerson.person_id.in_(people)
    bits = held.group_by(StatFact.person_id).subquery("bits")
    rows = (
        select(
            StatPerson.generation,
            StatPerson.person_id,
            UNIT_THEN.value,
            StatPerson.sex,
            StatPerson.date_of_birth,
            func.coalesce(bits.c.bits, 0),
        )
        .select_from(StatPerson)
        .join(UNIT_THEN, UNIT_THEN.person_id == StatPerson.person_id)
        .outerjoin(bits, bits.c.person_id == StatPerson.person_id)
        .where(*in_service(generation, day), chosen)
    )
    await session.execute(gone)
    await session.execute(
        insert(StatProfile).from_select(["generation", "person_id", "unit_id", "sex", "date_of_birth", "held"], rows)
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
        if state is not None and await day_held(session, generation) is not None:
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
        await session.execute(delete(StatToken).where(StatToken.generation == generation))
        for token, bit in tokens().items():
            catalog = CATALOG_OF[token.fact]
            session.add(
                StatToken(
                    generation=generation,
                    bit=bit,
                    fact=token.fact,
                    catalog=catalog,
                    kind=token.kind,
                    stat_group=token.group,
                )
            )
        await session.flush()
        await refresh(session, generation, today, None)
        if state is None:
            session.add(StatProfileDay(generation=generation, day=today))
        else:
            state.day = today
        log.info("statistics profiles computed", generation=generation, day=today.isoformat())
