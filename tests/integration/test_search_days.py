"""Each person's days (ADR 0051) follow every write of what a search finds people by: a step recorded
for next year, corrected or retracted, a status from next month, a move, an import; and in the whole
store, after every test module before this one has written its records, each person's days are
exactly what their search facts give."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest

from qlcb_common.days import vietnam_today
from qlcb_common.db import Database
from qlcb_personnel.persons.messages import ACTIVE
from qlcb_personnel.search import days, facts
from qlcb_personnel.search.days import days_of, rows_of
from qlcb_personnel.search.facts import Fact
from tests.support import System, api_client, eventually, person_body, unique_code

ADMIN = "quantri"
RESIGNED = "PERSON_STATUS_RESIGNED"
DECISION = {"number": "8/QĐ-TCHQ", "date": "2001-01-01", "body": "Tổng cục Hải quan"}

pytestmark = pytest.mark.integration


def _salary(rank: str, coefficient: str, since: str) -> dict[str, Any]:
    return {
        "values": {"rank_code": rank, "step": 1, "coefficient": coefficient},
        "valid_from": since,
        "decision": DECISION,
    }


async def _found(api: httpx.AsyncClient, unit_id: str, **criteria: str) -> list[str]:
    response = await api.get("/v1/persons", params={"unit_id": unit_id, "page_size": "100", **criteria})
    assert response.status_code == 200, response.text
    return [p["full_name"] for p in response.json()["items"]]


async def test_a_step_of_next_year_corrected_or_retracted_and_a_status_of_next_month_are_found_on_their_days(
    system: System,
) -> None:
    today = vietnam_today()
    next_year = f"{today.year + 1}-01-01"
    next_month = date(today.year + (today.month == 12), today.month % 12 + 1, 1).isoformat()
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        body = {"code": unique_code("NG"), "name": "Đội ngày", "kind": "sub_unit", "effective_date": "2000-01-01"}
        made = await api.post("/v1/units", json=body | {"parent_id": system.unit_ids["HQHN"], "decision": "1/QĐ"})
        assert made.status_code == 201, made.text
        unit = made.json()["id"]
        created = await api.post("/v1/persons", json=person_body(unit, "Lý Văn Ngày", born="1980-02-02"))
        assert created.status_code == 201, created.text
        salary = f"/v1/persons/{created.json()['id']}/salary"
        for rank, coefficient, since in (("08.051", "2.34", "2015-01-01"), ("08.050", "4.40", "2020-01-01")):
            recorded = await api.post(salary, json=_salary(rank, coefficient, since))
            assert recorded.status_code == 201, recorded.text
        present = recorded.json()["entry_id"]
        ahead = await api.post(salary, json=_salary("08.049", "6.20", next_year))
        assert ahead.status_code == 201, ahead.text

        assert await _found(api, unit, rank="08.050") == ["Lý Văn Ngày"]
        assert await _found(api, unit, rank="08.049") == [], "next year's rank is not held today"
        assert await _found(api, unit, rank="08.049", as_of=next_year) == ["Lý Văn Ngày"]
        assert await _found(api, unit, rank="08.051", as_of="2019-12-31") == ["Lý Văn Ngày"]

        retracted = await api.delete(f"{salary}/{ahead.json()['entry_id']}", headers={"If-Match": '"1"'})
        assert retracted.status_code == 200, retracted.text
        assert await _found(api, unit, rank="08.049", as_of=next_year) == []
        assert await _found(api, unit, rank="08.050", as_of=next_year) == ["Lý Văn Ngày"], "the step it closed reopens"

        version = next(e["version"] for e in (await api.get(salary)).json() if e["entry_id"] == present)
        corrected = await api.put(
            f"{salary}/{present}",
            json=_salary("08.051", "2.34", "2020-01-01"),
            headers={"If-Match": f'"{version}"'},
        )
        assert corrected.status_code == 200, corrected.text
        assert await _found(api, unit, rank="08.050") == [], "the corrected rank is no longer found"
        assert await _found(api, unit, rank="08.051") == ["Lý Văn Ngày"]

        left = await api.post(
            f"/v1/persons/{created.json()['id']}/status",
            json={"status": "retired", "effective_date": next_month, "decision": "5/QĐ"},
        )
        assert left.status_code == 200, left.text
        # Without a day, the status the record shows; on a day, that day's.
        assert await _found(api, unit, status="retired") == ["Lý Văn Ngày"]
        assert await _found(api, unit, status="active", as_of=today.isoformat()) == ["Lý Văn Ngày"]
        assert await _found(api, unit, status="retired", as_of=next_month) == ["Lý Văn Ngày"]


async def test_every_persons_days_in_the_store_are_what_their_facts_give(system: System) -> None:
    """Over every record the suite has written so far (created, imported, moved, given statuses,
    entries recorded, corrected, retracted, decided and cancelled), the rows of `search_days` are the
    rows `days_of` makes from the person's facts: no write path leaves them behind."""
    connection = await asyncpg.connect(system.postgres_dsn("personnel"))
    try:
        people = await connection.fetch("SELECT id, unit_id, name_sort, date_of_birth, sex FROM persons")
        held: dict[str, list[Fact]] = {}
        for f in await connection.fetch("SELECT person_id, fact, value, valid_from, valid_to FROM search_facts"):
            held.setdefault(f["person_id"], []).append(Fact(f["fact"], f["value"], f["valid_from"], f["valid_to"]))
        stored: dict[str, list[dict[str, Any]]] = {}
        for row in await connection.fetch("SELECT * FROM search_days ORDER BY person_id, valid_from"):
            stored.setdefault(row["person_id"], []).append(dict(row))
    finally:
        await connection.close()
    expected = {p["id"]: rows_of(SimpleNamespace(**dict(p)), days_of(held.get(p["id"], []))) for p in people}
    assert sum(len(rows) > 2 for rows in expected.values()) > 0, "some records changed over their days"
    differing = sorted(person for person in expected if expected[person] != stored.get(person, []))
    assert differing == [], f"{len(differing)} people's days differ from their facts, e.g. {differing[:3]}"


async def test_a_second_writer_of_a_persons_facts_waits_for_the_first_and_works_its_days_out_from_both(
    system: System,
) -> None:
    """Two units of work change one person's facts: a status (which takes no lock on the person of its
    own) and a move. The second works the days out while the first has not committed: it waits for
    the first, then reads the first's facts too. Without waiting it would write days without the new
    status, or clash with the first's rows."""
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Lò Văn Chờ"))
        assert created.status_code == 201, created.text
    person, home, elsewhere = created.json()["id"], system.unit_ids["HQHN-NB"], system.unit_ids["HQHCM"]
    assert system.infra.postgres is not None
    db = Database(system.infra.postgres.dsn("personnel"))
    watcher = await asyncpg.connect(system.postgres_dsn("personnel"))

    async def second() -> None:
        async with db.unit_of_work() as session:
            await facts.placed(session, person_id=person, unit_id=elsewhere, since=date(2025, 1, 1))
            await days.refresh(session, [person])

    async def waiting() -> int:
        found: int = await watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return found

    try:
        async with db.unit_of_work() as first:
            await facts.status_changed(
                first, row_id=str(uuid.uuid4()), person_id=person, status=RESIGNED, since=date(2026, 3, 1)
            )
            await days.refresh(first, [person])
            moving = asyncio.create_task(second())
            await eventually(waiting, lambda count: count >= 1, timeout=30, what="the second writer waiting")
        await asyncio.wait_for(moving, timeout=30)
        stored = await watcher.fetch(
            "SELECT valid_from, unit_id, status FROM search_days WHERE person_id = $1 ORDER BY valid_from", person
        )
    finally:
        await watcher.close()
        await db.engine.dispose()
    assert [(r["valid_from"], r["unit_id"], r["status"]) for r in stored] == [
        (date.min, home, ACTIVE),
        (date(2025, 1, 1), elsewhere, ACTIVE),
        (date(2026, 3, 1), elsewhere, RESIGNED),
    ]
