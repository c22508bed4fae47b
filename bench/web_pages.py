"""The web pages' server time to first byte (issue 14, Performance), on people of the whole-record
benchmark's load: a unit's staff list (its first page at the page's largest size: 100 people) and a
person's record page, asked as a logged-in browser asks them (the session's cookie; the page asks
Keycloak whether the session stands, then the backends, then renders), beside the REST call each
page makes for its data with the same account's token (the unit's people searched, a page of 100;
the whole record), one after the other, in the same run.

The login is the web pages' own: the gateway's login sends to Keycloak's login form, which is
filled and sent, and Keycloak's answer comes back to the gateway's callback, which sets the
session's cookies.

The run checks itself: every staff page lists people of its unit, every record page names its
person, and every REST call answers 200 with the same people or person."""

from __future__ import annotations

import html
import os
import random
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx

from bench.record_read import Loaded, Percentiles

SAMPLE_SEED = 13
STAFF_PAGE = 100
"""People on the first page of a staff list (the web pages' page size)."""


@dataclass(frozen=True)
class Sizes:
    """`pages` of each kind timed each way, after `warmup` of others."""

    pages: int = 300
    warmup: int = 20

    def __post_init__(self) -> None:
        if min(self.pages, self.warmup) < 1:
            raise ValueError("at least one page and one warm-up")


SMOKE = Sizes(pages=3, warmup=1)


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    loaded: Loaded
    staff_page: Percentiles
    staff_rest: Percentiles
    record_page: Percentiles
    record_rest: Percentiles
    session_check: Percentiles
    """Keycloak's userinfo asked with the account's token, as each page asks it whether its session stands."""
    staff_kilobytes: float
    record_kilobytes: float
    load_average: tuple[float, float]
    checked: dict[str, int]
    """"staff pages" listing people of their unit; "record pages" naming their person."""


@asynccontextmanager
async def logged_in(gateway_url: str, username: str, password: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding the web session's cookies, logged in through Keycloak's own form. It keeps
    Keycloak's cookies as a browser does on http://localhost (Keycloak marks them Secure; browsers
    still send them there, httpx would not)."""

    async def like_a_browser(_response: httpx.Response) -> None:
        for cookie in browser.cookies.jar:
            cookie.secure = False

    async with httpx.AsyncClient(
        base_url=gateway_url, timeout=60, follow_redirects=True, event_hooks={"response": [like_a_browser]}
    ) as browser:
        # Back to the unit tree, which needs personnel alone (the smoke test's stack runs no other).
        form_page = await browser.get("/web/login", params={"next": "/web/units"})
        form = re.search(r'<form[^>]*action="([^"]+)"', form_page.text)
        if form_page.status_code != 200 or form is None:
            raise RuntimeError(f"no login form at {form_page.url}: {form_page.status_code}")
        home = await browser.post(html.unescape(form.group(1)), data={"username": username, "password": password})
        if home.status_code != 200 or not str(home.url).startswith(f"{gateway_url}/web/"):
            raise RuntimeError(f"the login did not come back to the pages: {home.status_code} {home.url}")
        yield browser


async def _first_byte(client: httpx.AsyncClient, url: str, **sent: object) -> tuple[float, int, bytes]:
    """Seconds to the response's first body byte, its status and its whole body."""
    started = time.perf_counter()
    first: float | None = None
    body = bytearray()
    async with client.stream("GET", url, **sent) as response:  # type: ignore[arg-type]
        async for chunk in response.aiter_bytes():
            if first is None:
                first = time.perf_counter()
            body += chunk
    return (first or time.perf_counter()) - started, response.status_code, bytes(body)


async def _samples(dsn: str, count: int) -> tuple[list[tuple[str, list[str]]], list[tuple[str, str]]]:
    """Units with a full first page (each with the names of its people) and people, drawn at random."""
    connection = await asyncpg.connect(dsn)
    try:
        counted = await connection.fetch("SELECT unit_id, count(*) AS n FROM persons GROUP BY unit_id ORDER BY unit_id")
        # Units with a full first page; at the smoke test's sizes, the fullest there are.
        fullest = min(STAFF_PAGE, max(r["n"] for r in counted))
        units = [r["unit_id"] for r in counted if r["n"] >= fullest]
        people = [
            (r["id"], r["full_name"]) for r in await connection.fetch("SELECT id, full_name FROM persons ORDER BY id")
        ]
        rng = random.Random(SAMPLE_SEED)
        chosen_units = [rng.choice(units) for _ in range(count)]
        names = {
            u: {r["full_name"] for r in await connection.fetch("SELECT full_name FROM persons WHERE unit_id = $1", u)}
            for u in set(chosen_units)
        }
    finally:
        await connection.close()
    return [(u, sorted(names[u])) for u in chosen_units], rng.sample(people, count)


async def measure(
    gateway_url: str,
    userinfo_url: str,
    credentials: tuple[str, str],
    token: Callable[[], str],
    dsn: str,
    loaded: Loaded,
    sizes: Sizes,
) -> Result:
    units, people = await _samples(dsn, sizes.warmup + sizes.pages)
    timed: dict[str, list[float]] = {
        "staff_page": [],
        "staff_rest": [],
        "record_page": [],
        "record_rest": [],
        "session_check": [],
    }
    sizes_kb: dict[str, list[float]] = {"staff": [], "record": []}
    checked = {"staff pages": 0, "record pages": 0}
    load_before = os.getloadavg()[0]
    async with (
        logged_in(gateway_url, *credentials) as browser,
        httpx.AsyncClient(base_url=gateway_url, timeout=60) as api,
    ):
        for n, ((unit_id, names), (person_id, full_name)) in enumerate(zip(units, people, strict=True)):
            headers = {"Authorization": f"Bearer {token()}"}
            page_s, page_status, page = await _first_byte(browser, f"/web/units/{unit_id}?per={STAFF_PAGE}")
            rest_s, rest_status, _ = await _first_byte(
                api, "/v1/persons", params={"unit_id": unit_id, "page_size": STAFF_PAGE}, headers=headers
            )
            if (page_status, rest_status) != (200, 200):
                raise RuntimeError(f"staff list of {unit_id}: page {page_status}, REST {rest_status}")
            listed = html.unescape(page.decode())
            if not any(name in listed for name in names):
                raise RuntimeError(f"the staff page of {unit_id} lists none of its people")
            record_s, record_status, record = await _first_byte(browser, f"/web/persons/{person_id}")
            whole_s, whole_status, _ = await _first_byte(api, f"/v1/persons/{person_id}/record", headers=headers)
            if (record_status, whole_status) != (200, 200):
                raise RuntimeError(f"record of {person_id}: page {record_status}, REST {whole_status}")
            if full_name not in html.unescape(record.decode()):
                raise RuntimeError(f"the record page of {person_id} does not name {full_name}")
            check_s, check_status, _ = await _first_byte(api, userinfo_url, headers=headers)
            if check_status != 200:
                raise RuntimeError(f"Keycloak's userinfo answered {check_status}")
            if n < sizes.warmup:
                continue
            for name, seconds in zip(timed, (page_s, rest_s, record_s, whole_s, check_s), strict=True):
                timed[name].append(seconds)
            sizes_kb["staff"].append(len(page) / 1024)
            sizes_kb["record"].append(len(record) / 1024)
            checked["staff pages"] += 1
            checked["record pages"] += 1
    load_after = os.getloadavg()[0]
    return Result(
        sizes=sizes,
        loaded=loaded,
        staff_page=Percentiles.of(timed["staff_page"]),
        staff_rest=Percentiles.of(timed["staff_rest"]),
        record_page=Percentiles.of(timed["record_page"]),
        record_rest=Percentiles.of(timed["record_rest"]),
        session_check=Percentiles.of(timed["session_check"]),
        staff_kilobytes=sum(sizes_kb["staff"]) / len(sizes_kb["staff"]),
        record_kilobytes=sum(sizes_kb["record"]) / len(sizes_kb["record"]),
        load_average=(load_before, load_after),
        checked=checked,
    )
