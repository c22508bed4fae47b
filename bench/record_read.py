"""Whole records at scale (issue 8, Performance): a million people loaded, then read and written
through the gateway beside raw SQL on the same rows.

The people, their units and their records come from the demo's generator (`qlcb_devstack.demo`,
`qlcb_devstack.records`), scaled up and streamed: a child process (`python -m bench.record_read`)
generates them and loads them straight into personnel's PostgreSQL with COPY, into the tables
personnel created at start, their columns taken from its SQLAlchemy tables (a column added since,
if nullable, is left empty). A timeline entry followed by the next is stored as personnel stores
it: the first version superseded, and a `closed` version ending the day before the next begins.
The entries of each block of people are interleaved, so that a person's rows lie on many pages,
as years of recording leave them, not on one. Beside them go the search's facts (`search_facts`,
from personnel's own projection of each current entry, and the units and statuses of the
generator's careers), each person's days worked out from those facts by personnel's own function
(`search_days`, ADR 0051) and the status rows of those who left. Its peak resident memory is the
loader's.

The run checks itself: each COPY must take every row generated, and the people loaded are
counted in the table afterwards; every record read through the gateway must hold the very rows
the raw query read; every salary step written must
be the person's current one afterwards, and every raw row must be there. Figures over wrong
answers would mean nothing."""

from __future__ import annotations

import argparse
import asyncio
import json
import operator
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
from sqlalchemy import Table

from qlcb_common import names
from qlcb_common.db import PLANNED_FOR_VALUES
from qlcb_common.record_sections import BY_NAME, Timing
from qlcb_devstack import demo, records
from qlcb_devstack.state import repo_root
from qlcb_personnel.persons.models import Person, PersonStatusEntry
from qlcb_personnel.record.models import RecordEntry
from qlcb_personnel.search import days, facts
from qlcb_personnel.search.models import OPEN_END, SearchDay, SearchFact
from qlcb_personnel.units.models import Unit

BLOCK = 2048
"""People whose entries are interleaved in the table."""
LOADED_BY = "bench-loader"
ID_SEED, ORDER_SEED = 8, 9
AS_OF = date(2015, 6, 30)
MAINTENANCE_WORK_MEM = "1GB"
"""For the loader's session, which builds the entries' indexes again (the server's default: 64 MB)."""


@dataclass(frozen=True)
class Sizes:
    """`people` loaded over `units`; `reads` of them timed (after `warmup` reads of others), now
    and as of AS_OF; `sequential_writes` salary steps one at a time, then `concurrent_writes` with
    `in_flight` at once, and as many raw INSERTs each. The reads and writes need
    `warmup + reads + 5 × (sequential_writes + concurrent_writes)` people of the load (the steps
    are taken from four times as many as they need, since some are at their rank's last step)."""

    people: int = 1_000_000
    units: int = 1_000
    reads: int = 2000
    warmup: int = 300
    sequential_writes: int = 300
    concurrent_writes: int = 800
    in_flight: int = 8

    def __post_init__(self) -> None:
        if min(self.reads, self.warmup, self.sequential_writes, self.concurrent_writes, self.in_flight) < 1:
            raise ValueError("at least one read, warm-up read, write of each kind and writer")
        if self.units < 2:
            raise ValueError("at least 2 units: the people work below the root")
        if self.people < self.sampled:
            raise ValueError(f"{self.people} people: the reads and writes need {self.sampled}")

    @property
    def sampled(self) -> int:
        """People the reads and writes draw from the load."""
        return self.warmup + self.reads + 5 * (self.sequential_writes + self.concurrent_writes)


SMOKE = Sizes(people=100, units=12, reads=5, warmup=2, sequential_writes=3, concurrent_writes=4, in_flight=2)

RecordRow = dict[str, Any]
_json = json.JSONEncoder().encode
"""How SQLAlchemy's JSON type writes the values (json.dumps' defaults), without its per-call setup."""


@dataclass(frozen=True)
class Loaded:
    people: int
    units: int
    entries: int
    """Rows of record_entries: every version, superseded ones included."""
    people_seconds: float
    entries_seconds: float
    indexes_seconds: float
    analyze_seconds: float
    peak_rss_mb: float


@dataclass(frozen=True)
class Percentiles:
    p50_ms: float
    p95_ms: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Percentiles:
        ordered = sorted(samples)
        return cls(statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000)


@dataclass(frozen=True)
class Writes:
    per_second: float
    latency: Percentiles


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    loaded: Loaded
    entries_per_record: float
    """Current entries of the people read, on average."""
    reads: dict[str, Percentiles]
    """"ours" and "raw", now and "…_as_of", and the person's row alone ("…_person")."""
    writes: dict[str, Writes]
    """"ours" and "raw", "…_sequential" and "…_concurrent"."""
    load_average: tuple[float, float]
    """The machine's 1-minute load average when the reads began and when the writes ended."""
    checked: dict[str, int]
    """What the run found right afterwards: "people loaded" counted in the table, "records read" and
    "records read as of" (the gateway's rows the raw query's), "steps read back" (each the
    person's current step), "raw rows read back"."""


_NOT_VERSION_OR_VARIANT = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)


def _uuid(rng: random.Random) -> str:
    """A random (version 4) UUID from `rng`, as `str(uuid.uuid4())` writes one, in a fifth of its time."""
    h = f"{rng.getrandbits(128) & _NOT_VERSION_OR_VARIANT | _VERSION_4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _day(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _columns(table: Table, provided: Sequence[str]) -> list[str]:
    """The table's columns this loader fills, in the table's order; it fails on a column it cannot
    fill that may not be empty."""
    unfilled = [c.name for c in table.columns if c.name not in provided and not c.nullable and c.server_default is None]
    if unfilled:
        raise RuntimeError(f"{table.name}: the loader does not fill {unfilled}, which may not be empty")
    return [c.name for c in table.columns if c.name in provided]


class _Rows:
    """Rows for one table as tuples in the order of `columns`, from dicts that name them."""

    def __init__(self, table: Table, provided: Sequence[str]) -> None:
        self.table = table.name
        self.columns = _columns(table, provided)
        self._pick = operator.itemgetter(*self.columns)

    def row(self, values: RecordRow) -> tuple[Any, ...]:
        picked: tuple[Any, ...] = self._pick(values)
        return picked


_UNIT_FIELDS = ("id", "code", "name", "kind", "parent_id", "path", "created_at", "created_by")
_PERSON_FIELDS = (
    "id",
    "personal_id",
    "staff_number",
    "full_name",
    "name_folded",
    "name_sort",
    "date_of_birth",
    "sex",
    "unit_id",
    "created_at",
    "created_by",
)
_ENTRY_FIELDS = (
    "id",
    "entry_id",
    "version",
    "person_id",
    "section",
    "valid_from",
    "valid_to",
    "values",
    "decision_number",
    "decision_date",
    "decision_body",
    "decision_signer",
    "decision_signer_post",
    "change",
    "recorded_at",
    "recorded_by",
    "superseded_at",
    "retracted",
)
_FACT_FIELDS = ("source_id", "fact", "person_id", "value", "valid_from", "valid_to")
_DAY_FIELDS = (
    "person_id",
    "valid_from",
    "valid_to",
    "unit_id",
    "status",
    "rank",
    "ethnicity",
    "unit_now",
    "status_now",
    "name_sort",
    "date_of_birth",
    "sex",
)
_STATUS_FIELDS = ("id", "person_id", "status", "valid_from", "decision", "recorded_at", "recorded_by")


def _unit_rows(units: Sequence[demo.DemoUnit], now: datetime) -> tuple[list[RecordRow], dict[str, str]]:
    ids = random.Random(ID_SEED - 1)
    by_code = {u.code: u for u in units}
    unit_ids = {u.code: _uuid(ids) for u in units}
    rows = [
        {
            "id": unit_ids[u.code],
            "code": u.code,
            "name": u.name,
            "kind": f"UNIT_KIND_{u.kind.upper()}",
            "parent_id": unit_ids[u.parent] if u.parent else None,
            "path": u.path(by_code),
            "created_at": now,
            "created_by": LOADED_BY,
        }
        for u in units
    ]
    return rows, unit_ids


def _person_rows(
    count: int, units: Sequence[demo.DemoUnit], unit_ids: dict[str, str], now: datetime
) -> Iterator[tuple[str, demo.DemoPerson, RecordRow]]:
    ids = random.Random(ID_SEED)
    for person in demo.people(count, among=units):
        person_id = _uuid(ids)
        yield (
            person_id,
            person,
            {
                "id": person_id,
                "personal_id": person.personal_id,
                "staff_number": person.staff_number,
                "full_name": person.full_name,
                "name_folded": names.fold(person.full_name),
                "name_sort": names.sort_key(person.full_name),
                "date_of_birth": person.date_of_birth,
                "sex": f"SEX_{person.sex.upper()}",
                "unit_id": unit_ids[person.unit_code],
                "created_at": now,
                "created_by": LOADED_BY,
            },
        )


def record_rows(person_id: str, person: demo.DemoPerson, ids: random.Random, now: datetime) -> list[RecordRow]:
    """The rows personnel stores for the person's generated entries, recorded in their order."""
    rows: list[RecordRow] = []
    open_entry: dict[str, RecordRow] = {}
    for entry in records.sections(person):
        section = BY_NAME[entry.section]
        body = entry.body
        decision = body.get("decision", {})
        row: RecordRow = {
            "id": _uuid(ids),
            "entry_id": _uuid(ids),
            "version": 1,
            "person_id": person_id,
            "section": section.name,
            "valid_from": _day(body.get("valid_from")),
            "valid_to": _day(body.get("valid_to")),
            "values": _json(body["values"]),
            "values_checked": body["values"],
            "decision_number": decision.get("number"),
            "decision_date": _day(decision.get("date")),
            "decision_body": decision.get("body"),
            "decision_signer": None,
            "decision_signer_post": None,
            "change": "recorded",
            "recorded_at": now,
            "recorded_by": LOADED_BY,
            "superseded_at": None,
            "retracted": False,
        }
        if section.timing is Timing.TIMELINE:
            before = open_entry.get(section.name)
            start = row["valid_from"]
            if before is not None and start is not None and before["valid_from"] < start:
                before["superseded_at"] = now
                rows.append(
                    before
                    | {
                        "id": _uuid(ids),
                        "version": 2,
                        "valid_to": start - timedelta(days=1),
                        "change": "closed",
                        "superseded_at": None,
                    }
                )
            if row["valid_to"] is None:
                open_entry[section.name] = row
        rows.append(row)
    return rows


def career_rows(
    person_id: str, person: demo.DemoPerson, unit_ids: dict[str, str], ids: random.Random, now: datetime
) -> tuple[list[RecordRow], list[RecordRow]]:
    """The search facts of the person's units and status, and the status row of a departure, as
    personnel writes them when it creates a person, moves one and records a status."""
    career = records.career(person, list(unit_ids))
    stays = [(person.unit_code, career.moved_on)]
    if career.earlier_unit is not None:
        stays.insert(0, (career.earlier_unit, None))
    found: list[RecordRow] = []
    for index, (code, since) in enumerate(stays):
        until = stays[index + 1][1] if index + 1 < len(stays) else None
        end = until - timedelta(days=1) if until is not None else OPEN_END
        found.append(_fact(_uuid(ids), person_id, facts.Fact(facts.UNIT, unit_ids[code], since or date.min, end)))
    statuses: list[RecordRow] = []
    if career.departure is not None:
        status, since = career.departure
        row_id = _uuid(ids)
        value = f"PERSON_STATUS_{status.upper()}"
        found.append(_fact(row_id, person_id, facts.Fact(facts.STATUS, value, since, OPEN_END)))
        statuses.append(
            {
                "id": row_id,
                "person_id": person_id,
                "status": value,
                "valid_from": since,
                "decision": "1/QĐ-BENCH",
                "recorded_at": now,
                "recorded_by": LOADED_BY,
            }
        )
    return found, statuses


def fact_rows(person_id: str, entries: Sequence[RecordRow]) -> list[RecordRow]:
    """The search facts of the person's current entries, as personnel's projection makes them."""
    found = []
    for row in entries:
        if row["superseded_at"] is not None or row["retracted"]:
            continue
        for fact in facts.entry_facts(row["section"], row["values_checked"], row["valid_from"], row["valid_to"]):
            found.append(_fact(row["entry_id"], person_id, fact))
    return found


def day_rows(person: RecordRow, found: Sequence[RecordRow]) -> list[RecordRow]:
    """The person's days as personnel works them out from the same facts (`search.days`)."""
    held = [facts.Fact(f["fact"], f["value"], f["valid_from"], f["valid_to"]) for f in found]
    return days.rows_of(SimpleNamespace(**person), days.days_of(held))


def _fact(source_id: str, person_id: str, fact: facts.Fact) -> RecordRow:
    return {
        "source_id": source_id,
        "fact": fact.fact,
        "person_id": person_id,
        "value": fact.value,
        "valid_from": fact.valid_from,
        "valid_to": fact.valid_to,
    }


async def _copy(
    connection: asyncpg.Connection, rows: _Rows, source: AsyncIterator[tuple[Any, ...]], expected: Callable[[], int]
) -> None:
    """COPYs the rows in; fails unless PostgreSQL took as many as `expected()` says were generated."""
    status: str = await connection.copy_records_to_table(rows.table, records=source, columns=rows.columns)
    if status != f"COPY {expected()}":
        raise RuntimeError(f"{rows.table}: generated {expected()} rows, PostgreSQL answered {status!r}")


async def _drain(queue: asyncio.Queue[list[tuple[Any, ...]] | None]) -> AsyncIterator[tuple[Any, ...]]:
    while (rows := await queue.get()) is not None:
        for row in rows:
            yield row


@dataclass(frozen=True)
class _Definitions:
    """A table's constraints and indexes as PostgreSQL holds them (whatever personnel created)."""

    table: str
    constraints: list[tuple[str, str, str]]  # (name, kind: p, u, f…, definition)
    indexes: list[tuple[str, str]]  # (name, CREATE INDEX …), those no constraint owns

    @classmethod
    async def of(cls, connection: asyncpg.Connection, table: str) -> _Definitions:
        constraints = await connection.fetch(
            "SELECT conname, contype::text AS kind, pg_get_constraintdef(oid) AS definition FROM pg_constraint"
            " WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'f', 'x')",
            table,
        )
        indexes = await connection.fetch(
            "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS definition FROM pg_index"
            " WHERE indrelid = $1::regclass AND indexrelid NOT IN (SELECT conindid FROM pg_constraint)",
            table,
        )
        return cls(
            table,
            [(r["conname"], r["kind"], r["definition"]) for r in constraints],
            [(r["name"], r["definition"]) for r in indexes],
        )

    async def drop(self, connection: asyncpg.Connection) -> None:
        foreign_keys_first = sorted(self.constraints, key=lambda c: c[1] != "f")
        for name, _, _ in foreign_keys_first:
            await connection.execute(f'ALTER TABLE {self.table} DROP CONSTRAINT "{name}"')
        for name, _ in self.indexes:
            await connection.execute(f"DROP INDEX {name}")

    async def create(self, connection: asyncpg.Connection) -> None:
        for name, kind, definition in self.constraints:
            if kind != "f":
                await connection.execute(f'ALTER TABLE {self.table} ADD CONSTRAINT "{name}" {definition}')
        for _, definition in self.indexes:
            await connection.execute(definition)
        for name, kind, definition in self.constraints:
            if kind == "f":
                await connection.execute(f'ALTER TABLE {self.table} ADD CONSTRAINT "{name}" {definition}')


async def load(dsn: str, people: int, unit_count: int) -> Loaded:
    """Generates `unit_count` units and `people` people with their records and COPYs them in."""
    now = datetime.now(UTC)
    units = demo.units(unit_count)
    unit_rows, unit_ids = _unit_rows(units, now)
    unit_table = _Rows(Unit.__table__, _UNIT_FIELDS)  # type: ignore[arg-type]
    person_table = _Rows(Person.__table__, _PERSON_FIELDS)  # type: ignore[arg-type]
    entry_table = _Rows(RecordEntry.__table__, _ENTRY_FIELDS)  # type: ignore[arg-type]
    fact_table = _Rows(SearchFact.__table__, _FACT_FIELDS)  # type: ignore[arg-type]
    day_table = _Rows(SearchDay.__table__, _DAY_FIELDS)  # type: ignore[arg-type]
    status_table = _Rows(PersonStatusEntry.__table__, _STATUS_FIELDS)  # type: ignore[arg-type]
    connection = await asyncpg.connect(dsn)
    beside = await asyncpg.connect(dsn)  # the search facts' COPY, which runs beside the entries'
    days_beside = await asyncpg.connect(dsn)  # and the days'
    try:
        began = time.monotonic()

        async def unit_source() -> AsyncIterator[tuple[Any, ...]]:
            for row in unit_rows:
                yield unit_table.row(row)

        async def person_source() -> AsyncIterator[tuple[Any, ...]]:
            for _, _, row in _person_rows(people, units, unit_ids, now):
                yield person_table.row(row)

        # Bulk loads go in without the tables' indexes, which are built again afterwards: sorting
        # once beats millions of random inserts. The people keep their keys, which the entries'
        # foreign keys need; the entries and the facts lose everything.
        person_indexes = await _Definitions.of(connection, person_table.table)
        person_indexes = _Definitions(person_indexes.table, [], person_indexes.indexes)
        await person_indexes.drop(connection)
        await _copy(connection, unit_table, unit_source(), lambda: len(unit_rows))
        await _copy(connection, person_table, person_source(), lambda: people)
        people_seconds = time.monotonic() - began

        definitions = [await _Definitions.of(connection, t.table) for t in (entry_table, fact_table, day_table)]
        for definition in definitions:
            await definition.drop(connection)
        began = time.monotonic()
        entries = facts_loaded = days_loaded = 0
        fact_queue: asyncio.Queue[list[tuple[Any, ...]] | None] = asyncio.Queue(maxsize=4)
        day_queue: asyncio.Queue[list[tuple[Any, ...]] | None] = asyncio.Queue(maxsize=4)
        statuses: list[tuple[Any, ...]] = []

        async def entry_source() -> AsyncIterator[tuple[Any, ...]]:
            nonlocal entries, facts_loaded, days_loaded
            ids, order = random.Random(ID_SEED + 1), random.Random(ORDER_SEED)
            block: list[tuple[Any, ...]] = []
            found: list[tuple[Any, ...]] = []
            spans: list[tuple[Any, ...]] = []
            for index, (person_id, person, made) in enumerate(_person_rows(people, units, unit_ids, now), 1):
                rows = record_rows(person_id, person, ids, now)
                block += [entry_table.row(row) for row in rows]
                career, left = career_rows(person_id, person, unit_ids, ids, now)
                held = fact_rows(person_id, rows) + career
                found += [fact_table.row(row) for row in held]
                spans += [day_table.row(row) for row in day_rows(made, held)]
                statuses.extend(status_table.row(row) for row in left)
                if index % BLOCK == 0 or index == people:
                    order.shuffle(block)
                    entries += len(block)
                    facts_loaded += len(found)
                    days_loaded += len(spans)
                    await fact_queue.put(found)
                    await day_queue.put(spans)
                    for row in block:
                        yield row
                    block, found, spans = [], [], []
            await fact_queue.put(None)
            await day_queue.put(None)

        await asyncio.gather(
            _copy(connection, entry_table, entry_source(), lambda: entries),
            _copy(beside, fact_table, _drain(fact_queue), lambda: facts_loaded),
            _copy(days_beside, day_table, _drain(day_queue), lambda: days_loaded),
        )

        async def status_source() -> AsyncIterator[tuple[Any, ...]]:
            for row in statuses:
                yield row

        await _copy(connection, status_table, status_source(), lambda: len(statuses))
        entries_seconds = time.monotonic() - began
        began = time.monotonic()
        await connection.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
        for definition in (person_indexes, *definitions):
            await definition.create(connection)
        indexes_seconds = time.monotonic() - began
        began = time.monotonic()
        # The tables a search reads are vacuumed as a running store's are, so that its index-only
        # scans need not visit the rows; the others are analysed.
        for table in (person_table, fact_table, day_table, status_table):
            await connection.execute(f"VACUUM (ANALYZE) {table.table}")
        await connection.execute(f"ANALYZE {unit_table.table}, {entry_table.table}")
        analyze_seconds = time.monotonic() - began
    finally:
        await beside.close()
        await days_beside.close()
        await connection.close()
    return Loaded(
        people=people,
        units=len(units),
        entries=entries,
        people_seconds=people_seconds,
        entries_seconds=entries_seconds,
        indexes_seconds=indexes_seconds,
        analyze_seconds=analyze_seconds,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


async def start_module(module: str, **options: object) -> asyncio.subprocess.Process:
    """`python -m module --option value …` with this interpreter, from the repository, its standard
    output piped to this process."""
    arguments = [part for name, value in options.items() for part in (f"--{name}", str(value))]
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *arguments, stdout=asyncio.subprocess.PIPE, cwd=repo_root()
    )


async def load_in_child(dsn: str, people: int, units: int) -> Loaded:
    """The loader in a process of its own, whose peak memory is the loading's alone."""
    child = await start_module("bench.record_read", dsn=dsn, people=people, units=units)
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"the loader failed ({child.returncode})")
    return Loaded(**json.loads(out.decode().strip().splitlines()[-1]))


_RAW_PERSON = "SELECT * FROM persons WHERE id = $1"
_RAW_ENTRIES = (
    "SELECT * FROM record_entries WHERE person_id = $1 AND superseded_at IS NULL AND NOT retracted"
    " ORDER BY section, valid_from, recorded_at"
)
_RAW_ENTRIES_AS_OF = (
    "SELECT * FROM record_entries WHERE person_id = $1 AND superseded_at IS NULL AND NOT retracted"
    " AND (valid_from IS NULL OR valid_from <= $2) ORDER BY section, valid_from, recorded_at"
)


async def _raw_read(connection: asyncpg.Connection, person_id: str, as_of: date | None) -> list[asyncpg.Record]:
    await connection.fetchrow(_RAW_PERSON, person_id)
    rows: list[asyncpg.Record]
    if as_of is None:
        rows = await connection.fetch(_RAW_ENTRIES, person_id)
    else:
        rows = await connection.fetch(_RAW_ENTRIES_AS_OF, person_id, as_of)
    return rows


async def _reads(
    api: httpx.AsyncClient, connection: asyncpg.Connection, people: Sequence[str], as_of: date | None
) -> tuple[Percentiles, Percentiles, list[int]]:
    """Each person read through the gateway, then by raw SQL, one after the other; then each
    record's rows compared: the gateway's must be the raw query's. Returns the entries per record."""
    params = {"as_of": as_of.isoformat()} if as_of else {}
    ours: list[float] = []
    raw: list[float] = []
    pairs: list[tuple[httpx.Response, list[asyncpg.Record]]] = []
    for person_id in people:
        started = time.perf_counter()
        response = await api.get(f"/v1/persons/{person_id}/record", params=params)
        read = time.perf_counter()
        rows = await _raw_read(connection, person_id, as_of)
        raw.append(time.perf_counter() - read)
        ours.append(read - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET record: {response.status_code} {response.text[:300]}")
        pairs.append((response, rows))
    for person_id, (response, rows) in zip(people, pairs, strict=True):
        record = response.json()
        served = sorted(entry["id"] for entries in record["sections"].values() for entry in entries or [])
        if record["person"]["id"] != person_id or served != sorted(row["id"] for row in rows):
            raise RuntimeError(f"the record of {person_id} read through the gateway is not the rows the raw query read")
    return Percentiles.of(ours), Percentiles.of(raw), [len(rows) for _, rows in pairs]


async def _person_reads(
    api: httpx.AsyncClient, connection: asyncpg.Connection, people: Sequence[str]
) -> tuple[Percentiles, Percentiles]:
    """Each person's row alone, through the gateway (`GET /v1/persons/{id}`), then by raw SQL: the
    least a read through the gateway and personnel costs, whatever it reads."""
    ours: list[float] = []
    raw: list[float] = []
    for person_id in people:
        started = time.perf_counter()
        response = await api.get(f"/v1/persons/{person_id}")
        read = time.perf_counter()
        row = await connection.fetchrow(_RAW_PERSON, person_id)
        raw.append(time.perf_counter() - read)
        ours.append(read - started)
        if response.status_code != 200 or row is None or response.json()["id"] != row["id"]:
            raise RuntimeError(f"GET person {person_id}: {response.status_code} {response.text[:300]}")
    return Percentiles.of(ours), Percentiles.of(raw)


@dataclass(frozen=True)
class _Step:
    person_id: str
    body: dict[str, Any]


async def _next_steps(connection: asyncpg.Connection, people: Sequence[str]) -> list[_Step]:
    """For people below the last step of their rank: the next regular step, due when their
    current one has served its months."""
    grids = {
        row["code"]: json.loads(row["attributes"])
        for row in await connection.fetch(
            "SELECT code, attributes FROM catalog_values WHERE catalog = 'ranks' AND valid_to IS NULL"
        )
    }
    current = await connection.fetch(
        "SELECT person_id, values, valid_from FROM record_entries WHERE person_id = ANY($1::varchar[])"
        " AND section = 'salary' AND superseded_at IS NULL AND valid_to IS NULL",
        list(people),
    )
    steps = []
    for row in current:
        values = json.loads(row["values"])
        grid = grids[values["rank_code"]]
        coefficients, step = grid["coefficients"], values["step"]
        if step >= len(coefficients):
            continue
        months = row["valid_from"].month - 1 + grid["months_per_step"]
        since = date(row["valid_from"].year + months // 12, months % 12 + 1, 1).isoformat()
        body = {
            "values": {"rank_code": values["rank_code"], "step": step + 1, "coefficient": coefficients[step]},
            "valid_from": since,
            "decision": {"number": "1/QĐ-BENCH", "date": since, "body": "Tổng cục Hải quan"},
        }
        steps.append(_Step(row["person_id"], body))
    return steps


async def _steps_read_back(connection: asyncpg.Connection, steps: Sequence[_Step]) -> int:
    """How many of the steps are now their person's current, open salary step; fails on any other."""
    current = {
        row["person_id"]: (json.loads(row["values"])["step"], row["valid_from"].isoformat())
        for row in await connection.fetch(
            "SELECT person_id, values, valid_from FROM record_entries WHERE person_id = ANY($1::varchar[])"
            " AND section = 'salary' AND superseded_at IS NULL AND NOT retracted AND valid_to IS NULL",
            [step.person_id for step in steps],
        )
    }
    for step in steps:
        if current.get(step.person_id) != (step.body["values"]["step"], step.body["valid_from"]):
            found = current.get(step.person_id)
            raise RuntimeError(f"{step.person_id}: the current salary step is {found}; wrote {step.body}")
    return len(steps)


async def _timed(calls: Sequence[Callable[[], Awaitable[None]]], in_flight: int) -> Writes:
    latencies: list[float] = []
    pending = iter(calls)

    async def worker() -> None:
        for call in pending:
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return Writes(len(latencies) / (time.perf_counter() - began), Percentiles.of(latencies))


def _our_write(api: httpx.AsyncClient, step: _Step) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        response = await api.post(f"/v1/persons/{step.person_id}/salary", json=step.body)
        if response.status_code != 201:
            raise RuntimeError(f"POST salary: {response.status_code} {response.text[:300]}")

    return call


_RAW_VALID_FROM = date(2029, 1, 1)


def _raw_write(pool: asyncpg.Pool, table: _Rows, person_id: str) -> Callable[[], Awaitable[None]]:
    statement = (
        f"INSERT INTO {table.table} ({', '.join(table.columns)}) "
        f"VALUES ({', '.join(f'${i}' for i in range(1, len(table.columns) + 1))})"
    )
    now = datetime.now(UTC)
    ids = random.Random(person_id)

    async def call() -> None:
        row = {
            "id": _uuid(ids),
            "entry_id": _uuid(ids),
            "version": 1,
            "person_id": person_id,
            "section": "salary",
            "valid_from": _RAW_VALID_FROM,
            "valid_to": None,
            "values": json.dumps({"rank_code": "08.051", "step": 9, "coefficient": "4.98"}),
            "decision_number": "1/QĐ-BENCH",
            "decision_date": _RAW_VALID_FROM,
            "decision_body": "Tổng cục Hải quan",
            "decision_signer": None,
            "decision_signer_post": None,
            "change": "recorded",
            "recorded_at": now,
            "recorded_by": LOADED_BY,
            "superseded_at": None,
            "retracted": False,
        }
        async with pool.acquire() as connection:
            await connection.execute(statement, *table.row(row))

    return call


async def _loaded_people(connection: asyncpg.Connection, loaded: Loaded) -> int:
    """The people the loader said it loaded, counted in the table (the loader has checked each
    COPY's count against the rows it generated); fails if they differ."""
    counted: int = await connection.fetchval("SELECT count(*) FROM persons WHERE created_by = $1", LOADED_BY)
    if counted != loaded.people:
        raise RuntimeError(f"the loader loaded {loaded.people} people; the table holds {counted}")
    return counted


async def measure(gateway_url: str, token: Callable[[], str], dsn: str, sizes: Sizes = Sizes()) -> Result:
    loaded = await load_in_child(dsn, sizes.people, sizes.units)
    entry_table = _Rows(RecordEntry.__table__, _ENTRY_FIELDS)  # type: ignore[arg-type]
    pool = await asyncpg.create_pool(
        dsn, min_size=sizes.in_flight, max_size=sizes.in_flight, server_settings=PLANNED_FOR_VALUES
    )
    try:
        async with pool.acquire() as connection:
            checked = {"people loaded": await _loaded_people(connection, loaded)}
            sample = [
                row["id"]
                for row in await connection.fetch(
                    "SELECT id FROM persons WHERE created_by = $1 ORDER BY random() LIMIT $2",
                    LOADED_BY,
                    sizes.sampled,
                )
            ]
        warm, read = sample[: sizes.warmup], sample[sizes.warmup : sizes.warmup + sizes.reads]
        writers = sample[sizes.warmup + sizes.reads :]
        limits = httpx.Limits(max_connections=sizes.in_flight)
        async with (
            httpx.AsyncClient(base_url=gateway_url, timeout=60, limits=limits) as api,
            pool.acquire() as connection,
        ):
            api.headers["Authorization"] = f"Bearer {token()}"
            await _reads(api, connection, warm, None)
            load_before = os.getloadavg()[0]
            ours_now, raw_now, counts = await _reads(api, connection, read, None)
            checked["records read"] = len(counts)
            api.headers["Authorization"] = f"Bearer {token()}"
            ours_then, raw_then, counts_then = await _reads(api, connection, read, AS_OF)
            checked["records read as of"] = len(counts_then)
            ours_person, raw_person = await _person_reads(api, connection, read)
            # Raw rows go to other people than ours: they would clash with the steps ours record.
            sequential, writes_each = sizes.sequential_writes, sizes.sequential_writes + sizes.concurrent_writes
            steps = (await _next_steps(connection, writers[writes_each:]))[:writes_each]
            if len(steps) < writes_each:
                raise RuntimeError(f"only {len(steps)} of the people sampled can take a next step")
            raw_people = writers[:writes_each]
            api.headers["Authorization"] = f"Bearer {token()}"
            writes = {
                "ours_sequential": await _timed([_our_write(api, s) for s in steps[:sequential]], 1),
                "raw_sequential": await _timed([_raw_write(pool, entry_table, p) for p in raw_people[:sequential]], 1),
                "ours_concurrent": await _timed([_our_write(api, s) for s in steps[sequential:]], sizes.in_flight),
                "raw_concurrent": await _timed(
                    [_raw_write(pool, entry_table, p) for p in raw_people[sequential:]], sizes.in_flight
                ),
            }
            load_after = os.getloadavg()[0]
            checked["steps read back"] = await _steps_read_back(connection, steps)
            checked["raw rows read back"] = await connection.fetchval(
                "SELECT count(*) FROM record_entries WHERE person_id = ANY($1::varchar[]) AND valid_from = $2"
                " AND recorded_by = $3",
                raw_people,
                _RAW_VALID_FROM,
                LOADED_BY,
            )
            if checked["raw rows read back"] != writes_each:
                raise RuntimeError(f"{checked['raw rows read back']} of {writes_each} raw rows are in the table")
    finally:
        await pool.close()
    return Result(
        sizes=sizes,
        loaded=loaded,
        entries_per_record=statistics.mean(counts),
        reads={
            "ours": ours_now,
            "raw": raw_now,
            "ours_as_of": ours_then,
            "raw_as_of": raw_then,
            "ours_person": ours_person,
            "raw_person": raw_person,
        },
        writes=writes,
        load_average=(load_before, load_after),
        checked=checked,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.record_read", description="the loader alone")
    parser.add_argument("--dsn", required=True, help="personnel's database, postgresql://…")
    parser.add_argument("--people", type=int, default=Sizes.people)
    parser.add_argument("--units", type=int, default=Sizes.units)
    args = parser.parse_args()
    loaded = asyncio.run(load(args.dsn, args.people, args.units))
    print(json.dumps(asdict(loaded)))  # noqa: T201


if __name__ == "__main__":
    main()
