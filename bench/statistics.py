"""The statistics read-model at scale (issue 10, Performance).

The people, units and records are the generator's (`qlcb_devstack.demo`, `qlcb_devstack.records`),
as `record_read` makes them. Two copies of the same sector are loaded into the stack's PostgreSQL:

- personnel's own tables (`record_read`'s loader, in a child process): persons, record_entries,
  search_facts, the status rows; the raw baseline is a hand-written group-by over them;
- reports' read-model, filled only from events: for each generated person the envelopes personnel
  would publish (`person.created` in their first unit, a `record.changed` for each version of each
  entry with its catalog codes' groups from personnel's catalog files, `person.transferred`, a
  departure), built by a child process (`sector_events`) as NATS would deliver them and handed to
  reports' own consumer (`DurableConsumer.handle_batch`: the contract check, the inbox,
  `Projection.apply`, one transaction per batch of `generations.BATCH`). That replay is timed
  (events/s) with its peak memory (the resident set's high-water mark of the process applying the
  events, reset before the replay: tracing allocations instead made the replay several times
  slower). The unit tree comes the same way,
  from `unit.established` events through the headcount's projection.

Then BM01 of the whole sector as of today and five years back, through `service.fill` (reports'
own function: the scope check, the queries, the rows added up; no gRPC nor HTTP), beside one raw SQL
group-by over personnel's search facts counting the same people for a few of its columns; and BM03
(a row per person) for a subtree of about `subtree` people.

The run checks itself: every event is applied (the inbox holds as many rows), and BM01's people in
service, women, party members and ethnic minorities equal the raw query's on both days; BM03
lists exactly the people in service in its subtree."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TypeVar

import asyncpg
from sqlalchemy import func, select, text

from bench.record_read import Loaded, load_in_child
from bench.sector_events import Stream, from_child
from qlcb_common.auth import Principal
from qlcb_common.days import vietnam_today
from qlcb_common.db import PLANNED_FOR_VALUES, Database
from qlcb_common.events.consumer import DurableConsumer, note_stream_sequences
from qlcb_common.events.envelope import parse
from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.db_models import Base as PersonnelBase
from qlcb_reports import app as _app  # noqa: F401  (registers every table of reports' store)
from qlcb_reports.db_models import Base, make_inbox
from qlcb_reports.headcount import projection as headcount
from qlcb_reports.headcount.models import UnitNode
from qlcb_reports.statistics import forms as layouts
from qlcb_reports.statistics import generations, profiles, service
from qlcb_reports.statistics.generations import BATCH, consumer_name
from qlcb_reports.statistics.models import StatGeneration, StatProfile

T = TypeVar("T")

ADMIN = Principal("bench", "quantri", frozenset({"system-admin"}), "/TCHQ", token="")
SECTOR_FOUNDED = date(1945, 9, 10)


@dataclass(frozen=True)
class Sizes:
    """`people` over `units`; each BM01 timed `queries` times after one untimed; BM03 for the
    smallest subtree holding at least `subtree` people."""

    people: int = 1_000_000
    units: int = 1_000
    subtree: int = 5_000
    queries: int = 5

    def __post_init__(self) -> None:
        if self.units < 2:
            raise ValueError("at least 2 units: the people work below the root")
        if min(self.people, self.subtree, self.queries) < 1:
            raise ValueError("at least one person, one in the subtree and one query")


SMOKE = Sizes(people=200, units=12, subtree=50, queries=2)


@dataclass(frozen=True)
class Timed:
    median_ms: float
    raw_median_ms: float


@dataclass(frozen=True)
class Between:
    """BM01 of a day between two stored half years' ends (ADR 0044): ours counted from the nearest if
    few people changed in between (`profiles.MOVED_SHARE`), else worked out whole; and worked out from
    the facts before the half years were stored (as `raw_median_ms`)."""

    day: date
    bm01: Timed
    nearest: date
    changed: int
    """The people whose facts begin or end between `nearest` and `day`."""
    facts: int
    """Their facts that begin or end in between (of the kinds a profile depends on)."""
    stored: int
    """The profiles stored for `nearest`."""
    counted_from_ms: float
    """BM01's counts counted from `nearest` whatever the share (`profiles.counts` with no limit), the
    people who changed worked out again: what the choice weighs against working everyone out."""


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    loaded: Loaded
    events: int
    replay_seconds: float
    replay_peak_mb: float
    bm01_today: Timed
    """Over the profiles of today (ADR 0036), computed whole in `profiles_seconds` after the replay."""
    bm01_today_facts_ms: float
    """The same form before today's profiles were stored (worked out from the facts)."""
    profiles_seconds: float
    bm01_past: Timed
    """Five years back, from the stored half year's end nearest it, the people who changed in between
    worked out again (ADR 0037, 0038, 0044)."""
    past: date
    bm01_past_facts_ms: float
    """The same day before the years' profiles were stored (worked out from the facts)."""
    years_seconds: float
    """The stored half years' profiles computed whole, one after the other (the supervisor's first
    steps)."""
    year_end: date
    bm01_year_end_ms: float
    """The stored 31 December five years back, read from its profiles."""
    between: tuple[Between, ...]
    bm03_ms: float
    bm03_people: int
    drill_down: Timed
    """The people of the whole sector's headcount cell of today, their first page of `PAGE` in staff-list
    order with the total (`service.people`: what a click on the cell asks); the raw query finds the same
    page over personnel's search facts."""
    checked: dict[str, int]

    @property
    def events_per_second(self) -> float:
        return self.events / self.replay_seconds


class _Delivered:
    """A message as the consumer reads one from JetStream, handed over in process."""

    def __init__(self, subject: str, data: bytes, sequence: int) -> None:
        self.subject = subject
        self.data = data
        self.metadata = SimpleNamespace(num_delivered=1, sequence=SimpleNamespace(stream=sequence))
        self.acked = False

    async def ack(self) -> None:
        self.acked = True

    async def nak(self, delay: float | None = None) -> None:
        raise RuntimeError(f"event {self.metadata.sequence.stream} ({self.subject}) was refused")


def consumer(db: Database, generation: int) -> DurableConsumer:
    """The very consumer reports' supervisor runs for `generation`, fed in process rather than from
    JetStream."""
    return generations.Supervisor(db=db, inbox=make_inbox(), js=None, poll_seconds=1.0).consumer(generation)  # type: ignore[arg-type]


async def replay(db: Database, stream: Stream) -> tuple[int, float, float]:
    """The unit tree, then every person's events, built by a child process (`sector_events`), through
    the consumer of a fresh generation 1; returns (events, seconds, peak MB of this process)."""
    reset_peak_rss()
    began = time.perf_counter()
    count = await replay_events(db, stream, from_child(stream.people, stream.unit_count))
    seconds = time.perf_counter() - began
    return count, seconds, peak_rss_mb()


def reset_peak_rss() -> None:
    """Starts the resident set's high-water mark again from what the process holds now (Linux)."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """The process's resident set high-water mark (VmHWM) since it was last reset."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


async def replay_events(
    db: Database, stream: Stream, person_events: Iterable[tuple[str, bytes]] | AsyncIterable[tuple[str, bytes]]
) -> int:
    """A serving generation 1 and the stream's unit tree, then `person_events` through its consumer
    a batch at a time; returns how many."""
    async with db.unit_of_work() as session:
        session.add(
            StatGeneration(
                id=1,
                state=generations.SERVING,
                consumer=consumer_name(1),
                started_at=datetime.now(UTC),
                requested_by="",
            )
        )
    async with db.unit_of_work() as session:
        units = [parse(data) for _, data in stream.unit_events()]
        note_stream_sequences(session, {unit.event_id: n for n, unit in enumerate(units, start=1)})
        for unit in units:
            await headcount.apply(session, unit)
    applying = consumer(db, 1)
    count = 0
    pending: list[_Delivered] = []
    async for subject, data in _each(person_events):
        count += 1
        pending.append(_Delivered(subject, data, count))
        if len(pending) == BATCH:
            await _apply(applying, pending)
            pending = []
    if pending:
        await _apply(applying, pending)
    return count


async def _each(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def _apply(applying: DurableConsumer, batch: Sequence[_Delivered]) -> None:
    await applying.handle_batch(batch)  # type: ignore[arg-type]
    if not all(m.acked for m in batch):
        raise RuntimeError("an event of the batch was not applied")


_RAW_IN_SERVICE = """
WITH placed AS (
    SELECT person_id FROM search_facts WHERE fact = 'unit' AND valid_to >= $1 AND valid_from <= $1
), out_of_service AS (
    SELECT person_id FROM search_facts
    WHERE fact = 'status' AND value <> 'PERSON_STATUS_ACTIVE' AND valid_to >= $1 AND valid_from <= $1
), recruited_later AS (
    SELECT person_id FROM search_facts WHERE fact = 'recruited' GROUP BY person_id HAVING min(valid_from) > $1
), here AS (
    SELECT p.id, p.sex, p.name_sort FROM persons p JOIN placed u ON u.person_id = p.id
    WHERE NOT EXISTS (SELECT 1 FROM out_of_service o WHERE o.person_id = p.id)
    AND NOT EXISTS (SELECT 1 FROM recruited_later r WHERE r.person_id = p.id)
)
"""
"""The people in service on the day $1 in the whole sector, over personnel's search facts (the raw
queries' common part): in a unit then, no status out of service then, recruited by then (or never).
Each condition is one pass over the facts of its kind, joined by hash: asking each person's facts
in turn (a probe per person and condition) read them in random order, which over a million people
took minutes a query."""
_RAW_BM01 = (
    _RAW_IN_SERVICE
    + """
, party AS (
    SELECT DISTINCT o.person_id FROM search_facts o
    JOIN catalog_values c ON c.catalog = 'organisations' AND c.code = o.value AND c.stat_group = 'DANG_VIEN'
    WHERE o.fact = 'organisation' AND o.valid_to >= $1 AND o.valid_from <= $1
), ethnic_minority AS (
    SELECT DISTINCT e.person_id FROM search_facts e
    JOIN catalog_values c ON c.catalog = 'ethnicities' AND c.code = e.value AND c.stat_group = 'DTTS'
    WHERE e.fact = 'ethnicity' AND e.valid_to >= $1 AND e.valid_from <= $1
)
SELECT count(*) AS headcount,
       count(*) FILTER (WHERE here.sex = 'SEX_FEMALE') AS women,
       count(party.person_id) AS party,
       count(ethnic_minority.person_id) AS ethnic_minority
FROM here
LEFT JOIN party ON party.person_id = here.id
LEFT JOIN ethnic_minority ON ethnic_minority.person_id = here.id
"""
)
"""The baseline: the people in service on the day in the whole sector and three of BM01's columns,
by one hand-written query over personnel's search facts and catalog."""
CHECKED = ("headcount", "women", "party", "ethnic_minority")


async def _median_ms(rounds: int, call: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    """The median of `rounds` runs of `call` after one untimed, in ms, and what the last run gave."""
    samples = []
    for _ in range(rounds + 1):
        began = time.perf_counter()
        given = await call()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples[1:]) * 1000, given


async def _timed_fill(db: Database, form: str, unit_id: str, day: date, rounds: int) -> tuple[float, service.Filled]:
    async def fill() -> service.Filled:
        async with db.unit_of_work() as session:
            return await service.fill(
                session,
                actor=ADMIN,
                form_code=form,
                unit_id=unit_id,
                as_of=day.isoformat(),
                founded=SECTOR_FOUNDED,
                today=vietnam_today(),
            )

    return await _median_ms(rounds, fill)


async def _timed_raw(connection: asyncpg.Connection, day: date, rounds: int) -> tuple[float, asyncpg.Record]:
    ms, row = await _median_ms(rounds, lambda: connection.fetchrow(_RAW_BM01, day))
    assert row is not None
    return ms, row


_RAW_DRILL_DOWN = (
    _RAW_IN_SERVICE
    + "SELECT (SELECT count(*) FROM here) AS total, id, name_sort FROM here ORDER BY name_sort, id LIMIT $2"
)
"""The baseline of the drill-down: the people in service on the day in the whole sector, counted, and
the first page of them in name order."""
PAGE = 50


async def _timed_drill_down(db: Database, unit_id: str, day: date, rounds: int) -> tuple[float, service.PeoplePage]:
    async def people() -> service.PeoplePage:
        async with db.unit_of_work() as session:
            return await service.people(
                session,
                actor=ADMIN,
                form_code="BM01",
                unit_id=unit_id,
                as_of=day.isoformat(),
                row=service.TOTAL,
                column="headcount",
                page=1,
                page_size=PAGE,
                founded=SECTOR_FOUNDED,
                today=vietnam_today(),
            )

    return await _median_ms(rounds, people)


async def _timed_raw_drill_down(
    connection: asyncpg.Connection, day: date, rounds: int
) -> tuple[float, list[asyncpg.Record]]:
    return await _median_ms(rounds, lambda: connection.fetch(_RAW_DRILL_DOWN, day, PAGE))


YEARS = 5


async def _years_stored(db: Database, today: date) -> float:
    """Seconds the supervisor's steps take to store the profiles of the half years' ends of the last
    `YEARS` years."""
    wanted = profiles.wanted(today, YEARS)
    began = time.perf_counter()
    for _ in range(len(wanted) - 1):
        await profiles.keep_current(db, 1, today, years=YEARS)
    seconds = time.perf_counter() - began
    async with db.unit_of_work() as session:
        stored = await profiles.stored_days(session, 1)
    if stored != wanted:
        raise RuntimeError(f"the profiles stored are of {sorted(stored.values())}")
    async with db.engine.begin() as analyzing:
        await analyzing.execute(text(f"ANALYZE {StatProfile.__tablename__}"))
    return seconds


async def _changed_since_stored(db: Database, day: date) -> tuple[date, int, int, int]:
    """The stored day nearest `day`; how many people, and how many of the facts a profile depends on,
    begin or end between the two; and how many profiles that day stores."""
    async with db.unit_of_work() as session:
        near = profiles.nearest(await profiles.stored_days(session, 1), day)
        if near is None:
            raise RuntimeError("no profiles are stored")
        slot, then = near
        differing = profiles.differing(1, then, day)
        people = select(func.count()).select_from(differing.distinct().subquery())
        facts = select(func.count()).select_from(differing.subquery())
        stored = select(func.count()).where(StatProfile.generation == 1, StatProfile.slot == slot)
        return (
            then,
            int(await session.scalar(people) or 0),
            int(await session.scalar(facts) or 0),
            int(await session.scalar(stored) or 0),
        )


async def _timed_counts_from_stored(db: Database, day: date, rounds: int) -> float:
    """BM01's counts of the whole sector on `day` counted from the nearest stored day however many
    people changed in between; they must equal those worked out whole."""
    columns = [c for c in layouts.forms()["BM01"].columns if c.count == "people"]

    async def counted(share: float) -> dict[str, list[int]]:
        async with db.unit_of_work() as session:
            units = list(await session.scalars(select(UnitNode.unit_id)))
            return await profiles.counts(session, 1, day, units, columns, moved_share=share)

    ms, found = await _median_ms(rounds, lambda: counted(math.inf))
    if found != await counted(0.0):
        raise RuntimeError(f"BM01 as of {day}: counted from the stored day, the cells differ from the facts'")
    return ms


async def _subtree(db: Database, people: int) -> tuple[str, int]:
    """The unit whose subtree holds the fewest people in service today but at least `people` (the
    largest subtree if none holds as many)."""
    query = text(
        """
        SELECT n.unit_id, count(*) AS people FROM unit_nodes n
        JOIN unit_nodes d ON d.path = n.path OR d.path LIKE n.path || '/%'
        JOIN stat_facts f ON f.generation = 1 AND f.fact = 'unit' AND f.value = d.unit_id
            AND f.valid_from <= CURRENT_DATE AND f.valid_to >= CURRENT_DATE
        WHERE NOT EXISTS (
            SELECT 1 FROM stat_facts s WHERE s.generation = 1 AND s.person_id = f.person_id AND s.fact = 'status'
            AND s.valid_from <= CURRENT_DATE AND s.valid_to >= CURRENT_DATE AND s.value <> 'PERSON_STATUS_ACTIVE')
        GROUP BY n.unit_id
        ORDER BY count(*) >= :people DESC, CASE WHEN count(*) >= :people THEN count(*) ELSE -count(*) END
        LIMIT 1
        """
    )
    async with db.unit_of_work() as session:
        found = (await session.execute(query, {"people": people})).one()
    return str(found[0]), int(found[1])


def _cells(filled: service.Filled) -> dict[str, int]:
    total = filled.rows[0].cells
    return {c.key: int(total[i] or 0) for i, c in enumerate(filled.form.columns) if c.key in CHECKED}


async def measure(reports_dsn: str, personnel_dsn: str, sizes: Sizes = Sizes()) -> Result:
    """`reports_dsn` (SQLAlchemy, asyncpg) and `personnel_dsn` (libpq) name empty databases."""
    reports = Database(reports_dsn)
    personnel = Database(personnel_dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        make_inbox()
        await reports.create_schema(Base.metadata)
        await personnel.create_schema(PersonnelBase.metadata)
        async with personnel.unit_of_work() as session:
            await catalogs.seed(session)
        loaded = await load_in_child(personnel_dsn, sizes.people, sizes.units)
        stream = Stream(sizes.people, sizes.units)
        events, seconds, peak = await replay(reports, stream)
        async with reports.engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
            applied = await connection.scalar(select(func.count()).select_from(make_inbox().table))
        if applied != events:
            raise RuntimeError(f"{events} events replayed, the inbox holds {applied}")
        root = stream.unit_ids[stream.units[0].code]
        today = vietnam_today()
        past = date(today.year - 5, today.month, min(today.day, 28))
        connection = await asyncpg.connect(personnel_dsn, server_settings=PLANNED_FOR_VALUES)
        try:
            over_facts, filled_facts = await _timed_fill(reports, "BM01", root, today, sizes.queries)
            began = time.perf_counter()
            await profiles.keep_current(reports, 1, today, years=0)
            profiles_seconds = time.perf_counter() - began
            async with reports.engine.begin() as analyzing:
                await analyzing.execute(text(f"ANALYZE {StatProfile.__tablename__}"))
            ours_today, filled_today = await _timed_fill(reports, "BM01", root, today, sizes.queries)
            if filled_today.rows != filled_facts.rows:
                raise RuntimeError(f"BM01 as of {today}: the stored profiles' cells differ from the facts'")
            raw_today, row_today = await _timed_raw(connection, today, sizes.queries)
            past_facts, filled_past_facts = await _timed_fill(reports, "BM01", root, past, sizes.queries)
            # A quarter from the stored half years' ends on each side, after a June and after a December.
            between_days = (date(past.year, 9, 30), date(past.year + 1, 3, 31))
            between_facts = [await _timed_fill(reports, "BM01", root, day, sizes.queries) for day in between_days]
            years_seconds = await _years_stored(reports, today)
            ours_past, filled_past = await _timed_fill(reports, "BM01", root, past, sizes.queries)
            between = []
            for day, (facts_ms, filled_facts_between) in zip(between_days, between_facts, strict=True):
                ours_ms, filled_between = await _timed_fill(reports, "BM01", root, day, sizes.queries)
                if filled_between.rows != filled_facts_between.rows:
                    raise RuntimeError(f"BM01 as of {day}: the cells from the stored days differ from the facts'")
                nearest, changed, facts, stored = await _changed_since_stored(reports, day)
                from_ms = await _timed_counts_from_stored(reports, day, sizes.queries)
                between.append(Between(day, Timed(ours_ms, facts_ms), nearest, changed, facts, stored, from_ms))
            if filled_past.rows != filled_past_facts.rows:
                raise RuntimeError(f"BM01 as of {past}: the cells from the stored days differ from the facts'")
            year_end = date(past.year, 12, 31)
            year_end_ms, _ = await _timed_fill(reports, "BM01", root, year_end, sizes.queries)
            raw_past, row_past = await _timed_raw(connection, past, sizes.queries)
            drill_ms, drilled = await _timed_drill_down(reports, root, today, sizes.queries)
            raw_drill_ms, raw_drilled = await _timed_raw_drill_down(connection, today, sizes.queries)
        finally:
            await connection.close()
        checked = {"events applied": int(applied)}
        for day, filled, row in ((today, filled_today, row_today), (past, filled_past, row_past)):
            ours = _cells(filled)
            if ours != {key: row[key] for key in CHECKED}:
                raise RuntimeError(f"BM01 as of {day}: ours {ours}, the raw query {dict(row)}")
            checked[f"people in service {day}"] = ours["headcount"]
        # The two stores give the generated people ids of their own: the pages are compared by their
        # names' keys (people of one name come in the order of their ids, which differ).
        first_page = [p.person.name_sort for p in drilled.people]
        raw_page = [r["name_sort"] for r in raw_drilled]
        if drilled.total != checked[f"people in service {today}"] or first_page != raw_page:
            names = [p.person.full_name for p in drilled.people[:3]]
            raise RuntimeError(
                f"the headcount cell's people: {drilled.total}, first {names}; the raw query "
                f"{raw_drilled[0]['total'] if raw_drilled else 0}, {len(raw_page)} on its page"
            )
        subtree, in_subtree = await _subtree(reports, sizes.subtree)
        bm03_ms, listed = await _timed_fill(reports, "BM03", subtree, today, sizes.queries)
        if len(listed.rows) != in_subtree:
            raise RuntimeError(f"BM03 listed {len(listed.rows)} people; {in_subtree} are in service there")
    finally:
        await reports.dispose()
        await personnel.dispose()
    return Result(
        sizes=sizes,
        loaded=loaded,
        events=events,
        replay_seconds=seconds,
        replay_peak_mb=peak,
        bm01_today=Timed(ours_today, raw_today),
        bm01_today_facts_ms=over_facts,
        profiles_seconds=profiles_seconds,
        bm01_past=Timed(ours_past, raw_past),
        past=past,
        bm01_past_facts_ms=past_facts,
        years_seconds=years_seconds,
        year_end=year_end,
        bm01_year_end_ms=year_end_ms,
        between=tuple(between),
        bm03_ms=bm03_ms,
        drill_down=Timed(drill_ms, raw_drill_ms),
        bm03_people=in_subtree,
        checked=checked,
    )
