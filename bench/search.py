"""Search at scale (issue 9, Performance): five typical searches over the people `record_read`'s
loader generates, each through the gateway (`GET /v1/persons`), in personnel's process as its
service function runs them (its queries and their building, without gRPC and HTTP), and as raw SQL
for the same rows, one after the other on one client, each of the three going first in turn.

The raw SQL is written by hand over the same tables and indexes: the count and the page's rows with
each one's status (and unit, as of a day), which the API answers with (for a name, in one statement,
as the service asks them). So the ratio is what our layers add to the
database's own work, and the database's work is the cost of the design (ADR 0015)."""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import asyncpg
import httpx

from bench.record_read import Loaded, Percentiles
from qlcb_common import names
from qlcb_common.auth import Principal
from qlcb_common.days import vietnam_today
from qlcb_common.db import PLANNED_FOR_VALUES, Database
from qlcb_personnel.search import service

PAGE_SIZE = 50
AS_OF = date(2015, 6, 30)
SEED = 11
ADMIN = Principal("bench", "quantri", frozenset({"system-admin"}), "/TCHQ", token="")
"""The widest scope: the sector's, whose condition is no condition."""


@dataclass(frozen=True)
class Sizes:
    """`queries` of each search timed, after `warmup` of each uncounted."""

    queries: int = 200
    warmup: int = 20

    def __post_init__(self) -> None:
        if min(self.queries, self.warmup) < 1:
            raise ValueError("at least one query and one warm-up query of each search")


SMOKE = Sizes(queries=5, warmup=1)


@dataclass(frozen=True)
class Combination:
    name: str
    label: str
    params: list[dict[str, Any]]
    """The request's query parameters, one set per query, in turn."""
    raw: Callable[[asyncpg.Connection, dict[str, Any]], Awaitable[int]]
    """The same rows by hand-written SQL; returns the total."""


@dataclass
class Measured:
    label: str
    gateway: Percentiles
    service: Percentiles
    raw: Percentiles
    totals: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    loaded: Loaded
    measured: list[Measured]
    load_average: tuple[float, float]


_PAGE = "ORDER BY d.name_sort, d.person_id LIMIT {size} OFFSET {offset}"
_ON_DAY = "d.valid_to >= {day} AND d.valid_from <= {day}"
_ACTIVE = "'PERSON_STATUS_ACTIVE'"
_SUBTREE = "(SELECT u.id FROM units u WHERE u.path = $1 OR u.path LIKE $2)"


async def _raw(
    connection: asyncpg.Connection,
    where: str,
    args: Sequence[Any],
    *,
    page: int = 1,
    as_of: date | None = None,
) -> int:
    """Over each person's row of the day (ADR 0051), as the service reads them: the count, then the
    page's rows of the day in name order with each person's unit and status of the day, joined to their
    people, what the API answers with. Every statement is run to its end (`fetch`), as the service's
    driver runs it: PostgreSQL plans no parallel workers for a statement fetched a row at a time
    (`fetchval`)."""
    on_day = _ON_DAY.format(day=f"DATE '{(as_of or vietnam_today()).isoformat()}'")
    counted = await connection.fetch(f"SELECT count(*) FROM search_days d WHERE {on_day} AND {where}", *args)
    then = "d.unit_id AS unit, d.status" if as_of else "d.unit_now AS unit, d.status_now AS status"
    await connection.fetch(
        f"WITH page AS (SELECT d.person_id, d.name_sort, {then} FROM search_days d WHERE {on_day} AND {where} "
        + _PAGE.format(size=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        + ") SELECT p.*, page.unit, page.status FROM page JOIN persons p ON p.id = page.person_id"
        " ORDER BY page.name_sort, page.person_id",
        *args,
    )
    return int(counted[0][0])


async def _raw_name(connection: asyncpg.Connection, params: dict[str, Any]) -> int:
    """As the service does it: the matches found once among the people (a name asks nothing of the
    day), counted, and the page's ids taken from them in order, in one statement (else the planner
    may walk the whole name order looking for a few late names, after a count that finds them
    again); the page's rows with their unit and status of the day."""
    words = "name_prefixes(p.name_folded) @> $1::text[]"
    rows = await connection.fetch(
        f"WITH m AS MATERIALIZED (SELECT p.id, p.name_sort FROM persons p WHERE {words}),"
        f" page AS (SELECT id FROM m ORDER BY name_sort, id LIMIT {PAGE_SIZE})"
        f" SELECT p.*, d.unit_now, d.status_now, (SELECT count(*) FROM m) AS total FROM search_days d"
        f" JOIN persons p ON p.id = d.person_id JOIN page ON page.id = d.person_id"
        f" WHERE {_ON_DAY.format(day='CURRENT_DATE')} ORDER BY d.name_sort, d.person_id",
        names.words(params["q"]),
    )
    return int(rows[0]["total"]) if rows else 0


async def _raw_unit_status(connection: asyncpg.Connection, params: dict[str, Any]) -> int:
    where = f"d.unit_now IN {_SUBTREE} AND d.status_now = {_ACTIVE}"
    return await _raw(connection, where, [params["path"], params["path"] + "/%"])


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


async def _raw_rank_age(connection: asyncpg.Connection, params: dict[str, Any]) -> int:
    today = vietnam_today()
    where = "d.rank = ANY($3::varchar[]) AND d.date_of_birth > $1 AND d.date_of_birth <= $2"
    born_after, born_by = _years_before(today, params["age_max"] + 1), _years_before(today, params["age_min"])
    return await _raw(connection, where, [born_after, born_by, params["codes"]])


async def _raw_as_of(connection: asyncpg.Connection, params: dict[str, Any]) -> int:
    """In the subtree that day, and active: recruited by then or never (ADR 0040, 0052)."""
    where = f"d.unit_id IN {_SUBTREE} AND d.status = {_ACTIVE}"
    return await _raw(connection, where, [params["path"], params["path"] + "/%"], as_of=AS_OF)


async def _raw_widest(connection: asyncpg.Connection, params: dict[str, Any]) -> int:
    return await _raw(connection, "TRUE", [], page=int(params["page"]))


async def _combinations(connection: asyncpg.Connection, rng: random.Random) -> list[Combination]:
    sample = await connection.fetch(
        "SELECT full_name FROM persons TABLESAMPLE SYSTEM (1) REPEATABLE (7) ORDER BY random() LIMIT 50"
    )
    if len(sample) < 50:  # a few thousand people fill few pages: a one per cent sample of them may be empty
        sample = await connection.fetch("SELECT full_name FROM persons ORDER BY random() LIMIT 50")
    typed = [_as_typed(r["full_name"], i) for i, r in enumerate(sample)]
    provinces = await connection.fetch(
        "SELECT id, path FROM units WHERE kind = 'UNIT_KIND_PROVINCIAL_DEPARTMENT' ORDER BY code"
    )
    groups = {
        g: [r["code"] for r in rows]
        for g in ("CV", "CVC")
        for rows in [
            await connection.fetch(
                "SELECT DISTINCT code FROM catalog_values WHERE catalog = 'ranks' AND stat_group = $1", g
            )
        ]
    }
    bands = [(30, 39), (40, 49), (50, 59)]
    rank_age = [
        {"rank_group": g, "age_min": low, "age_max": high, "codes": groups[g]} for g in groups for low, high in bands
    ]
    unit_status = [{"unit_id": r["id"], "path": r["path"], "include_subtree": "true"} for r in provinces]
    rng.shuffle(typed)
    return [
        Combination("name", "name only (`q`)", [{"q": q} for q in typed], _raw_name),
        Combination(
            "unit_status",
            "unit subtree + status (a Cục Hải quan tỉnh and its Chi cục, active)",
            [p | {"status": "active"} for p in unit_status],
            _raw_unit_status,
        ),
        Combination("rank_age", "rank group + age band (CV or CVC; 30–39, 40–49, 50–59)", rank_age, _raw_rank_age),
        Combination(
            "as_of",
            f"as of {AS_OF.isoformat()}: unit subtree + status that day",
            [p | {"status": "active", "as_of": AS_OF.isoformat()} for p in unit_status],
            _raw_as_of,
        ),
        Combination(
            "widest", "the widest scope, sorted by name (pages 1–10)", [{"page": n} for n in range(1, 11)], _raw_widest
        ),
    ]


def _as_typed(full_name: str, index: int) -> str:
    """A name as officers type it, in turn: with its marks, without, in capitals, its last two words."""
    return [full_name, names.fold(full_name), full_name.upper(), " ".join(full_name.split()[-2:])][index % 4]


_NOT_CRITERIA = ("path", "codes")
"""Parameters the raw queries need that are not the API's."""


def _query(params: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in params.items() if k not in _NOT_CRITERIA} | {"page_size": str(PAGE_SIZE)}


def _request(params: dict[str, Any]) -> service.SearchRequest:
    query = _query(params)
    typed: dict[str, Any] = {k: v for k, v in query.items() if k not in ("include_subtree", "page", "page_size")}
    for number in ("age_min", "age_max"):
        if number in typed:
            typed[number] = int(typed[number])
    return service.SearchRequest(
        **typed,
        include_subtree=query.get("include_subtree") == "true",
        page=int(query.get("page", "1")),
        page_size=PAGE_SIZE,
    )


TOKEN_LIFETIME = 120.0
"""Seconds a token is used before a fresh one is asked for (the realm's live five minutes)."""


class _Token:
    def __init__(self, api: httpx.AsyncClient, token: Callable[[], str]) -> None:
        self._api, self._token, self._taken = api, token, 0.0

    def fresh(self) -> None:
        if time.monotonic() - self._taken > TOKEN_LIFETIME:
            self._api.headers["Authorization"] = f"Bearer {self._token()}"
            self._taken = time.monotonic()


async def _through_gateway(api: httpx.AsyncClient, params: dict[str, Any]) -> int:
    response = await api.get("/v1/persons", params=_query(params))
    if response.status_code != 200:
        raise RuntimeError(f"GET /v1/persons {params}: {response.status_code} {response.text[:300]}")
    return int(response.json()["total"])


async def _in_process(db: Database, params: dict[str, Any]) -> int:
    async with db.unit_of_work() as session:
        return (await service.search(session, actor=ADMIN, request=_request(params))).total


async def _run(
    combination: Combination,
    api: httpx.AsyncClient,
    token: _Token,
    db: Database,
    connection: asyncpg.Connection,
    count: int,
) -> Measured:
    gateway: list[float] = []
    in_service: list[float] = []
    raw: list[float] = []
    totals: list[int] = []
    for index in range(count):
        params = combination.params[index % len(combination.params)]
        token.fresh()
        asks: dict[str, Callable[[], Awaitable[int]]] = {
            "gateway": partial(_through_gateway, api, params),
            "service": partial(_in_process, db, params),
            "raw": partial(combination.raw, connection, params),
        }
        # Each path goes first in turn: the first to ask with a set of parameters reads its pages
        # from disk, the others then find them in memory.
        order = list(asks)[index % 3 :] + list(asks)[: index % 3]
        answers: dict[str, tuple[float, int]] = {}
        for name in order:
            started = time.perf_counter()
            found = await asks[name]()
            answers[name] = (time.perf_counter() - started, found)
        if not answers["gateway"][1] == answers["service"][1] == answers["raw"][1]:
            raise RuntimeError(f"{combination.name} {params}: { {k: v[1] for k, v in answers.items()} }")
        gateway.append(answers["gateway"][0])
        in_service.append(answers["service"][0])
        raw.append(answers["raw"][0])
        totals.append(answers["raw"][1])
    return Measured(combination.label, Percentiles.of(gateway), Percentiles.of(in_service), Percentiles.of(raw), totals)


async def measure(
    gateway_url: str, token: Callable[[], str], dsn: str, loaded: Loaded, sizes: Sizes = Sizes()
) -> Result:
    """Runs the searches over the people `loaded` put in personnel's database at `dsn`."""
    db = Database(dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    connection = await asyncpg.connect(dsn, server_settings=PLANNED_FOR_VALUES)  # as the service's are
    try:
        combinations = await _combinations(connection, random.Random(SEED))
        if empty := [c.name for c in combinations if not c.params]:
            raise RuntimeError(f"the people loaded give no parameters for {', '.join(empty)}")
        async with httpx.AsyncClient(base_url=gateway_url, timeout=60) as api:
            fresh = _Token(api, token)
            for combination in combinations:
                await _run(combination, api, fresh, db, connection, sizes.warmup)
            load_before = os.getloadavg()[0]
            measured = []
            for combination in combinations:
                measured.append(await _run(combination, api, fresh, db, connection, sizes.queries))
                done = measured[-1]
                print(  # noqa: T201
                    f"[bench] {combination.name}: gateway {done.gateway.p50_ms:.1f}/{done.gateway.p95_ms:.1f}, "
                    f"service {done.service.p50_ms:.1f}/{done.service.p95_ms:.1f}, "
                    f"raw {done.raw.p50_ms:.1f}/{done.raw.p95_ms:.1f} ms",
                    file=sys.stderr,
                    flush=True,
                )
            load_after = os.getloadavg()[0]
    finally:
        await connection.close()
        await db.dispose()
    return Result(sizes, loaded, measured, (load_before, load_after))
