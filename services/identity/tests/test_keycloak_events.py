"""Copying Keycloak's admin events into the audit log: every page, once, refusals as refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from keycloak import KeycloakAdmin
from sqlalchemy import func, select

from qlcb_common.db import Database
from qlcb_identity.audit import keycloak_events
from qlcb_identity.audit.models import AuditEntry
from qlcb_identity.db_models import Base

DAY_START_MS = 1_795_000_000_000


class FakeKeycloak:
    """Keycloak's admin-events listing: newest first, paged by `first` and `max`."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.queries: list[dict[str, Any]] = []

    def get_admin_events(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        self.queries.append(query)
        newest_first = sorted(self.events, key=lambda e: e["time"], reverse=True)
        first = int(query.get("first", 0))
        return newest_first[first : first + int(query["max"])]


def _event(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "time": DAY_START_MS + n * 1000,
        "operationType": "UPDATE",
        "resourceType": "USER",
        "resourcePath": f"users/u{n}",
        "authDetails": {"realmId": "r", "clientId": "c", "userId": f"admin{n % 3}"},
        **extra,
    }


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'identity.sqlite3'}")
    await database.create_schema(Base.metadata)
    yield database
    await database.dispose()


async def _entries(db: Database) -> int:
    async with db.unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_every_page_is_copied_once(db: Database) -> None:
    keycloak = FakeKeycloak([_event(n) for n in range(2 * keycloak_events.BATCH + 7)])
    admin = cast("KeycloakAdmin", keycloak)

    assert await keycloak_events.ingest_once(db, lambda: admin) == 2 * keycloak_events.BATCH + 7
    assert [q["first"] for q in keycloak.queries] == [0, keycloak_events.BATCH, 2 * keycloak_events.BATCH]
    keycloak.events.append(_event(10_000))
    assert await keycloak_events.ingest_once(db, lambda: admin) == 1
    assert await _entries(db) == 2 * keycloak_events.BATCH + 8
    assert keycloak.queries[-1]["dateFrom"]  # later rounds read from the last day copied


async def test_a_refused_call_names_its_caller_and_method(db: Database) -> None:
    refused = _event(1, error="forbidden", details={"method": "POST", "username": "qthanoi"})
    failed = _event(2, error="some-other-error")
    keycloak = FakeKeycloak([refused, failed, _event(3, representation='{"enabled": false}')])
    admin = cast("KeycloakAdmin", keycloak)
    await keycloak_events.ingest_once(db, lambda: admin)
    async with db.unit_of_work() as session:
        rows = {e.target: e for e in await session.scalars(select(AuditEntry))}
    assert (rows["users/u1"].outcome, rows["users/u1"].actor_username) == ("refused", "qthanoi")
    assert rows["users/u1"].after == {"method": "POST"}
    assert (rows["users/u2"].outcome, rows["users/u2"].actor_username) == ("error", "keycloak:r/c")
    assert (rows["users/u3"].outcome, rows["users/u3"].after) == ("done", {"representation": '{"enabled": false}'})
