"""The counting forms count each person's profile of the day (ADR 0036): their unit then, sex,
birth date and the catalog groups the forms ask, held then, as the bits of one integer: one row per
person instead of asking the facts once per column.

Stored for a few days (ADR 0037, 0044), each in a slot: today's (the day asked most), and the end
of each half year (30 June, 31 December) of the recent years, 31 December being the day of the yearly
reports. A form of a stored day reads them; of another
day, reads the nearest but works out from the facts the profiles of the people whose facts begin or
end in between, if they are few (`MOVED_SHARE`); else works them all out from the facts.

The consumer refreshes the stored profiles of the people each transaction changed, in that
transaction, in every slot whose day its changes reach; the supervisor moves today's to a new day (the
people whose facts begin or end in between), computes a slot whole when it has none or its bits are
not those the forms ask, and drops the days no longer kept. Both take an advisory lock of the
generation on PostgreSQL (the consumer shared, the supervisor exclusive), so that a transaction
computing a profile for one day never commits it after the move to the next."""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog
from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Delete,
    Insert,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from qlcb_common.db import Database
from qlcb_reports.statistics import forms as layouts
from qlcb_reports.statistics.forms import Column
from qlcb_reports.statistics.models import (
    BEGINNING,
    CURRENT,
    StatCode,
    StatFact,
    StatPerson,
    StatProfile,
    StatProfileDay,
)
from qlcb_reports.statistics.people_then import ACTIVE, first_recruitment, personal
from qlcb_reports.statistics.projection import (
    CATALOG_OF,
    CODES_REGROUPED,
    PEOPLE_TOUCHED,
    REACHED,
    RECRUITED,
    STATUS,
    UNIT,
    write_new,
)

log = structlog.get_logger(__name__)

MAX_BITS = 63
LOCK = 0x51434250
"""The first key of the generation's advisory lock ("QCBP"); the second is the generation."""
CHUNK = 1000
MOVED_SHARE = 0.25
"""A form of a day with no profiles stored counts from the nearest stored day when the facts a profile
depends on that begin or end in between are at most this share of the stored profiles it reads (their
people's profiles worked out again from the facts); with more, working them all out is cheaper.
0.15 from runs over 100,000 and 300,000 people (ADR 0038); 0.25 since a million people's run, where a
quarter from a stored day 20 % had changed and counting from it took 4.6 s against 11.3 worked out
whole, as over 20,000 people (95 ms against 220; ADR 0044)."""
FEW_UNITS = 100
"""A form of at most this many units worked out from the facts finds its people by their unit first
and reads their facts alone; a larger subtree reads every fact of the day, cheaper than finding first
the people of much of the sector (ADR 0038)."""
Profiled = Any
"""The columns of profiles (a query's): `person_id`, `unit_id`, `sex`, `date_of_birth`, `held`."""


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


IN_SERVICE = "in-service-from-recruitment"
"""Who a profile is stored for (people recruited by the day, `people_then`): kept in the fingerprint,
so that the profiles stored under an earlier meaning are computed again."""


def fingerprint() -> str:
    """The bits' meaning, kept with stored profiles: a release whose forms ask other groups, or that
    counts other people in service, has them computed again."""
    bits = ";".join(f"{t.fact}|{t.kind}|{t.group}={bit.bit_length() - 1}" for t, bit in tokens().items())
    return f"{IN_SERVICE};{bits}"


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


async def stored_days(session: AsyncSession, generation: int) -> dict[int, date]:
    """The generation's slots whose profiles hold the bits the forms ask now, with their day."""
    rows = await session.execute(
        select(StatProfileDay.slot, StatProfileDay.day, StatProfileDay.tokens).where(
            StatProfileDay.generation == generation
        )
    )
    mark = fingerprint()
    return {slot: day for slot, day, tokens in rows if tokens == mark}


def nearest(stored: dict[int, date], day: date) -> tuple[int, date] | None:
    """The stored slot nearest `day`, with its day (None when none is stored)."""
    near = sorted((abs((then - day).days), slot, then) for slot, then in stored.items())
    if not near:
        return None
    _, slot, then = near[0]
    return slot, then


HALF_YEAR_ENDS = ((6, 30), (12, 31))


def slot_of(end: date) -> int:
    """The slot of a half year's end: 202512 for 31 December 2025 (never `CURRENT`)."""
    return end.year * 100 + end.month


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def wanted(today: date, years: int) -> dict[int, date]:
    """The slots kept: today's and, unless `years` is 0, the end of each half year before today back to
    the last one on or before the day `years` years ago, so that any day of those years lies between
    two stored days at most half a year apart (ADR 0044)."""
    kept = {CURRENT: today}
    if years == 0:
        return kept
    start = _years_before(today, years)
    ends = [date(year, month, day) for year in range(start.year - 1, today.year + 1) for month, day in HALF_YEAR_ENDS]
    first = max(end for end in ends if end <= start)
    return kept | {slot_of(end): end for end in ends if first <= end < today}


async def missing(session: AsyncSession, generation: int, today: date, years: int) -> int:
    """How many of the days `wanted` keeps have no profiles stored with the bits the forms ask now."""
    stored = await stored_days(session, generation)
    return sum(1 for slot, day in wanted(today, years).items() if stored.get(slot) != day)


def profiled_facts() -> list[str]:
    """The kinds of fact a profile depends on: the unit, status and recruitment (who is in service
    where) and those whose groups the forms ask."""
    return sorted({UNIT, STATUS, RECRUITED} | {token.fact for token in tokens()})


def _begins_or_ends(fact: Any, generation: int, one: date, other: date) -> list[ColumnElement[bool]]:
    """A fact a profile depends on, held on one of the two days and not on the other (`fact`:
    `StatFact` or an alias)."""
    low, high = sorted((one, other))
    return [
        fact.generation == generation,
        fact.fact.in_(profiled_facts()),
        or_(
            and_(fact.valid_from > low, fact.valid_from <= high),
            and_(fact.valid_to >= low, fact.valid_to < high),
        ),
    ]


def differing(generation: int, one: date, other: date) -> Select[str]:
    """The people whose profiles may differ between two days: those with a fact beginning or ending in
    between (found through the facts' indexes by the day they begin and end)."""
    return select(StatFact.person_id).where(*_begins_or_ends(StatFact, generation, one, other))


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


def profiles_of(
    generation: int,
    day: date,
    codes: dict[Token, list[str]],
    *,
    people: Sequence[str] | Select[str] | BindParameter[Any] | None = None,
    units: Sequence[str] | None = None,
    by_unit_first: bool = True,
) -> Select[str, str, str, date, Any]:
    """The profiles as of `day` of the people in service then (of `people`, in `units`, if given),
    worked out in one pass over the facts they hold that day, grouped per person: their unit (none if
    a status took them out of service), and the bits of the groups the forms ask (`codes` as `coded`
    gives them). Reads only `people`'s facts if given (ids, or a query of them), else, if `units` are
    given and `by_unit_first`, only the facts of the people in them that day."""
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
    left = func.max(case((and_(StatFact.fact == STATUS, StatFact.value != ACTIVE), 1), else_=0))
    # The unit is NULL for someone out of service rather than a second column tested for 0: the
    # planner guesses an aggregate's equality at 0.5 % of the people and then joins them row by row.
    held = select(
        StatFact.person_id,
        case((left == 0, func.max(case((StatFact.fact == UNIT, StatFact.value))))).label("unit_id"),
        functools.reduce(operator.add, flags, literal(0, BigInteger)).label("held"),
        func.max(case((StatFact.fact == RECRUITED, 1), else_=0)).label("recruited"),
    ).where(
        StatFact.generation == generation,
        StatFact.fact.in_(profiled_facts()),
        StatFact.valid_from <= day,
        StatFact.valid_to >= day,
    )
    if people is not None:
        held = held.where(StatFact.person_id.in_(people))
    elif units is not None and by_unit_first:
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
    then = held.group_by(StatFact.person_id).subquery("then")
    chosen = [] if units is None else [then.c.unit_id.in_(units)]
    # Not recruited by the day: in service only if no recruitment is recorded at all (`people_then`).
    serving = or_(then.c.recruited == 1, first_recruitment(generation, StatPerson.person_id).is_(None))
    return (
        select(StatPerson.person_id, then.c.unit_id, StatPerson.sex, StatPerson.date_of_birth, then.c.held)
        .join(then, and_(StatPerson.generation == generation, StatPerson.person_id == then.c.person_id))
        .where(then.c.unit_id.is_not(None), serving, *chosen)
    )


def _stored(generation: int, slot: int, units: Sequence[str]) -> Select[str, str, str, date, int]:
    return select(
        StatProfile.person_id, StatProfile.unit_id, StatProfile.sex, StatProfile.date_of_birth, StatProfile.held
    ).where(StatProfile.generation == generation, StatProfile.slot == slot, StatProfile.unit_id.in_(units))


def _moved(
    generation: int, slot: int, then: date, day: date, codes: dict[Token, list[str]], units: Sequence[str]
) -> Subquery:
    """The profiles of `day` from those stored for `then`: the stored ones of the people with no fact
    beginning or ending in between, and the others' worked out from the facts. The people who changed
    are found once, as a common table both parts read: given as a subquery to each, the planner
    misjudged how many they are and probed the facts once per fact of the day (2.4 s against 0.6 over
    100,000 people, half a year from the stored day). The stored part leaves them out by a hashed list
    (`NOT IN`), not an anti-join, which the planner made a merge sorting every stored profile."""
    changed = differing(generation, then, day).distinct().cte("changed")
    unchanged = _stored(generation, slot, units).where(StatProfile.person_id.not_in(select(changed.c.person_id)))
    worked = profiles_of(generation, day, codes, people=select(changed.c.person_id), units=units)
    return union_all(unchanged, worked).subquery("profile")


async def counts(
    session: AsyncSession,
    generation: int,
    day: date,
    units: Sequence[str],
    columns: Sequence[Column],
    *,
    moved_share: float = MOVED_SHARE,
    few_units: int = FEW_UNITS,
) -> dict[str, list[int]]:
    """Per unit, the people in service on `day` each column counts: from the stored profiles of the
    day or of the nearest stored day if nothing changed in between, or from the nearest with the
    profiles of the people who changed worked out again (when their facts that changed are at most
    `moved_share` of the profiles read), or else from profiles worked out from the facts for the
    question (found by unit first for at most `few_units` units). Stored
    ones are taken only if their slot held the same day both before and after they were read: a move
    to the next day committed in between (each statement sees what was committed when it began) is
    read again."""
    if not units:
        return {}
    units = list(units)
    near = nearest(await stored_days(session, generation), day)
    if near is not None:
        slot, then = near
        source = None
        way = "stored" if then == day else await _way_from(session, generation, slot, then, day, units, moved_share)
        if way == "stored":
            source = _stored(generation, slot, units).subquery("profile")
        elif way == "moved":
            source = _moved(generation, slot, then, day, await coded(session, generation), units)
        if source is not None:
            found = await _counted(session, source, day, columns)
            if (await stored_days(session, generation)).get(slot) == then:
                return found
    worked = profiles_of(
        generation, day, await coded(session, generation), units=units, by_unit_first=len(units) <= few_units
    )
    return await _counted(session, worked.subquery("profile"), day, columns)


async def _way_from(
    session: AsyncSession,
    generation: int,
    slot: int,
    then: date,
    day: date,
    units: Sequence[str],
    share: float,
) -> str:
    """How a form of `day` may count from the slot stored for `then`: "stored" as it is, if no fact a
    profile depends on begins or ends between the two days (in any unit); "moved", if those that do
    are at most `share` of the slot's profiles in `units`; else "facts". The facts are looked for, then
    counted, through their indexes by day, no further than the share: a day years away does not count
    them all, and a day with none does not count the stored profiles."""
    changes = select(StatFact.person_id).where(*_begins_or_ends(StatFact, generation, then, day))
    if not await session.scalar(select(changes.exists())):
        return "stored"
    read = await session.scalar(
        select(func.count()).where(
            StatProfile.generation == generation, StatProfile.slot == slot, StatProfile.unit_id.in_(units)
        )
    )
    most = share * (read or 0)
    if math.isfinite(most):
        changes = changes.limit(math.floor(most) + 1)
    changed = await session.scalar(select(func.count()).select_from(changes.subquery()))
    return "moved" if changed is not None and changed <= most else "facts"


async def _counted(
    session: AsyncSession, profile: Subquery, day: date, columns: Sequence[Column]
) -> dict[str, list[int]]:
    query = select(profile.c.unit_id, *(func.count().filter(condition(c, day, profile.c)) for c in columns)).group_by(
        profile.c.unit_id
    )
    return {unit_id: [int(n) for n in found] for unit_id, *found in await session.execute(query)}


async def _compute(
    session: AsyncSession,
    generation: int,
    slots: dict[int, date],
    codes: dict[Token, list[str]],
    people: Sequence[str] | None,
) -> None:
    """Writes the profiles of `people` (None: everyone) in each of `slots` as of its day in place of
    those they had: one statement to delete, one to insert, whatever the number of slots (a consumer's
    transaction paid two per slot, 37 ms for ten people in six slots against 9 in one)."""
    if people is not None:
        gone, put = _written_for(
            generation, tuple(slots.items()), tuple((t, tuple(sorted(c))) for t, c in codes.items())
        )
        # Run on the session's connection as plain SQL: the session would take parameters given to an
        # entity's insert for rows of a bulk insert.
        connection = await session.connection()
        await connection.execute(gone, {"people": list(people)})
        await connection.execute(put, {"people": list(people)})
        return
    gone = delete(StatProfile).where(StatProfile.generation == generation, StatProfile.slot.in_(list(slots)))
    await session.execute(gone)
    await session.execute(_written(generation, slots, codes, None))


@functools.lru_cache(maxsize=32)
def _written_for(
    generation: int, slots: tuple[tuple[int, date], ...], codes: tuple[tuple[Token, tuple[str, ...]], ...]
) -> tuple[Delete, Insert]:
    """The two statements that write the profiles of the people bound to `people`, built once for the
    generation's stored days and codes and then kept: building the union of six days' passes, a case
    per group, cost a consumer's transaction more than running it (the reports service's CPU per salary
    step over 20,000 people went from 10.7–11.9 ms to 6.8–6.9 when kept)."""
    people: BindParameter[Any] = bindparam("people", expanding=True)
    gone = delete(StatProfile).where(
        StatProfile.generation == generation,
        StatProfile.slot.in_([slot for slot, _ in slots]),
        StatProfile.person_id.in_(people),
    )
    return gone, _written(generation, dict(slots), {t: list(c) for t, c in codes}, people)


def _written(
    generation: int,
    slots: dict[int, date],
    codes: dict[Token, list[str]],
    people: BindParameter[Any] | None,
) -> Insert:
    each = []
    for slot, day in slots.items():
        worked = profiles_of(generation, day, codes, people=people).subquery(f"worked_{slot}")
        each.append(
            select(
                literal(generation),
                literal(slot),
                worked.c.person_id,
                worked.c.unit_id,
                worked.c.sex,
                worked.c.date_of_birth,
                worked.c.held,
            )
        )
    return insert(StatProfile).from_select(
        ["generation", "slot", "person_id", "unit_id", "sex", "date_of_birth", "held"],
        union_all(*each) if len(each) > 1 else each[0],
    )


async def refresh(
    session: AsyncSession,
    generation: int,
    slots: dict[int, date],
    people: Collection[str] | None,
) -> None:
    """Computes again, in each of `slots` as of its day, the profiles of `people` (None: everyone, one
    slot at a time)."""
    if not slots:
        return
    codes = await coded(session, generation)
    if people is None:
        for slot, day in slots.items():
            await _compute(session, generation, {slot: day}, codes, None)
        return
    chosen = sorted(people)
    for start in range(0, len(chosen), CHUNK):
        await _compute(session, generation, slots, codes, chosen[start : start + CHUNK])


async def follow(session: AsyncSession, generation: int) -> None:
    """After a transaction of the consumer applied its events: the profiles of the people they changed
    as of each stored slot's day their changes reach (a step raise of today's leaves the past half
    years' ends as they are, ADR 0044), and of everyone holding a code whose group or kind changed as
    of every one. The facts the transaction added are written first, whatever else follows."""
    await write_new(session)
    people: set[str] = session.info.get(PEOPLE_TOUCHED, {}).get(generation, set())
    codes: set[tuple[str, str]] = session.info.get(CODES_REGROUPED, {}).get(generation, set())
    if not people and not codes:
        return
    await session.flush()
    await lock(session, generation, exclusive=False)
    slots = (
        await session.execute(
            select(StatProfileDay.slot, StatProfileDay.day).where(StatProfileDay.generation == generation)
        )
    ).all()
    if not slots:
        return
    facts_of = {catalog: [f for f, c in CATALOG_OF.items() if c == catalog] for catalog, _ in codes}
    holders: set[str] = set()
    for catalog, code in codes:
        holders.update(
            await session.scalars(
                select(StatFact.person_id)
                .distinct()
                .where(StatFact.generation == generation, StatFact.fact.in_(facts_of[catalog]), StatFact.value == code)
            )
        )
    reached: date = session.info.get(REACHED, {}).get(generation, BEGINNING)
    await refresh(session, generation, {slot: day for slot, day in slots}, holders)
    await refresh(session, generation, {slot: day for slot, day in slots if day >= reached}, people - holders)


async def keep_current(db: Database, generation: int, today: date, *, years: int) -> None:
    """Brings the generation's stored profiles to what `wanted` keeps: today's moved on from their day
    (the people whose facts begin or end in between) or computed whole when there are none or the
    forms ask other groups, the days no longer kept dropped; then one missing day computed whole (one
    per call, each holding the generation's lock for a whole computation)."""
    kept = wanted(today, years)
    async with db.unit_of_work() as session:
        if await stored_days(session, generation) == kept:
            return  # the usual case, asked at each step without holding up the consumer
    async with db.unit_of_work() as session:
        await lock(session, generation, exclusive=True)
        states = {
            state.slot: state
            for state in await session.scalars(select(StatProfileDay).where(StatProfileDay.generation == generation))
        }
        if dropped := sorted(set(states) - set(kept)):
            await session.execute(
                delete(StatProfile).where(StatProfile.generation == generation, StatProfile.slot.in_(dropped))
            )
            await session.execute(
                delete(StatProfileDay).where(StatProfileDay.generation == generation, StatProfileDay.slot.in_(dropped))
            )
        await _keep_today(session, generation, states.get(CURRENT), today)
    for slot, day in sorted(kept.items(), reverse=True):
        if slot == CURRENT:
            continue
        async with db.unit_of_work() as session:
            await lock(session, generation, exclusive=True)
            state = await session.get(StatProfileDay, (generation, slot))
            if state is not None and state.tokens == fingerprint():
                continue
            await refresh(session, generation, {slot: day}, None)
            await session.merge(StatProfileDay(generation=generation, slot=slot, day=day, tokens=fingerprint()))
            log.info("statistics profiles computed", generation=generation, day=day.isoformat())
            return


async def _keep_today(session: AsyncSession, generation: int, state: StatProfileDay | None, today: date) -> None:
    if state is not None and state.tokens == fingerprint():
        if state.day == today:
            return
        people = set(await session.scalars(differing(generation, state.day, today).distinct()))
        await refresh(session, generation, {CURRENT: today}, people)
        log.info("statistics profiles moved on", generation=generation, day=today.isoformat(), people=len(people))
        state.day = today
        return
    await refresh(session, generation, {CURRENT: today}, None)
    if state is None:
        session.add(StatProfileDay(generation=generation, slot=CURRENT, day=today, tokens=fingerprint()))
    else:
        state.day, state.tokens = today, fingerprint()
    log.info("statistics profiles computed", generation=generation, day=today.isoformat())
