"""Copying Keycloak's admin events into the audit log: every event once, from a cursor, with the
caller as the actor and refusals as refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, cast

import pytest
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakGetError
from sqlalchemy import func, select

from qlcb_common.db import Database
from qlcb_identity.audit import keycloak_events
from qlcb_identity.audit.models import AuditEntry
from qlcb_identity.db_models import Base

DAY_START_MS = 1_795_000_000_000


class FakeKeycloak:
    """Keycloak's admin-events listing (`dateFrom` in epoch ms, `direction`, paged by `first` and
    `max`) and its user lookup, in which only the realm's own accounts are found."""

    def __init__(self, events: list[dict[str, Any]], users: dict[str, str] | None = None) -> None:
        self.events = events
        self.users = users if users is not None else {f"admin{n}": f"quantri{n}" for n in range(3)}
        self.queries: list[dict[str, Any]] = []
        self.lookups = 0

    def get_admin_events(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        self.queries.append(query)
        since = int(query.get("dateFrom", 0))
        found = sorted((e for e in self.events if e["time"] >= since), key=lambda e: e["time"])
        if query.get("direction") != "asc":
            found.reverse()
        first = int(query.get("first", 0))
        return found[first : first + int(query["max"])]

    def get_user(self, user_id: str) -> dict[str, Any]:
        self.lookups += 1
        if user_id not in self.users:
            raise KeycloakGetError(error_message="User not found", response_code=404)
        return {"id": user_id, "username": self.users[user_id]}


def _event(n: int, *, at: int | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"event-{n}",
        "time": DAY_START_MS + (n * 1000 if at is None else at),
        "operationType": "UPDATE",
        "resourceType": "USER",
        "resourcePath": f"users/u{n}",
        "authDetails": {"realmId": "r", "realmName": "qlcb", "clientId": "c", "userId": f"admin{n % 3}"},
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


def _ingest(db: Database, keycloak: FakeKeycloak) -> Awaitable[int]:
    admin = cast("KeycloakAdmin", keycloak)
    return keycloak_events.ingest_once(db, lambda: admin, keycloak_events.ActorNames(lambda: admin))


async def test_every_event_is_copied_once_and_later_rounds_read_from_the_cursor(db: Database) -> None:
    keycloak = FakeKeycloak([_event(n) for n in range(2 * keycloak_events.BATCH + 7)])

    assert await _ingest(db, keycloak) == 2 * keycloak_events.BATCH + 7
    assert len(keycloak.queries) == 3
    keycloak.events.append(_event(10_000))
    keycloak.queries.clear()
    assert await _ingest(db, keycloak) == 1
    assert await _entries(db) == 2 * keycloak_events.BATCH + 8
    assert len(keycloak.queries) == 1, "the copied day is not read again"
    assert int(keycloak.queries[0]["dateFrom"]) == DAY_START_MS + (2 * keycloak_events.BATCH + 6) * 1000


async def test_a_flood_within_one_millisecond_neither_stalls_nor_hides_an_event(db: Database) -> None:
    flood = [_event(n, at=5) for n in range(2 * keycloak_events.BATCH + 3)]
    keycloak = FakeKeycloak([*flood, _event(99_999, at=6)])
    assert await _ingest(db, keycloak) == 2 * keycloak_events.BATCH + 4
    assert await _entries(db) == 2 * keycloak_events.BATCH + 4


async def test_the_actor_is_the_account_whose_token_made_the_call(db: Database) -> None:
    """Keycloak's details name the user the call changed: the seed once showed the local admin
    adding itself to its unit, when the master admin had done it."""
    changed = _event(1, details={"username": "qthanoi"}, resourceType="GROUP_MEMBERSHIP")
    by_master = _event(4, authDetails={"realmId": "m1", "realmName": "master", "clientId": "c", "userId": "root"})
    again = _event(7)
    keycloak = FakeKeycloak([changed, by_master, again])
    await _ingest(db, keycloak)
    async with db.unit_of_work() as session:
        rows = {e.target: e for e in await session.scalars(select(AuditEntry))}
    assert rows["users/u1"].actor_username == "quantri1"
    assert rows["users/u4"].actor_username == "keycloak:master/root"
    assert rows["users/u7"].actor_username == "quantri1"
    assert keycloak.lookups == 2, "each account is looked up once"


async def test_a_refused_call_names_its_caller_and_method(db: Database) -> None:
    refused = _event(1, error="forbidden", details={"method": "POST", "username": "qthanoi", "suppressed": "12"})
    failed = _event(2, error="some-other-error", authDetails={"realmId": "r", "clientId": "c"})
    keycloak = FakeKeycloak([refused, failed, _event(3, representation='{"enabled": false}')], {"admin1": "qthanoi"})
    await _ingest(db, keycloak)
    async with db.unit_of_work() as session:
        rows = {e.target: e for e in await session.scalars(select(AuditEntry))}
    assert (rows["users/u1"].outcome, rows["users/u1"].actor_username) == ("refused", "qthanoi")
    assert rows["users/u1"].after == {"method": "POST", "suppressed": "12"}
    assert (rows["users/u2"].outcome, rows["users/u2"].actor_username) == ("error", "keycloak:r/c")
    assert (rows["users/u3"].outcome, rows["users/u3"].after) == ("done", {"representation": '{"enabled": false}'})


async def test_entries_another_replica_committed_meanwhile_are_skipped_not_an_error(db: Database) -> None:
    """Each identity replica copies the same events; one may store an entry between another's
    check and its insert. The later insert skips it and stores the rest of its page."""
    names = keycloak_events.ActorNames(lambda: cast("KeycloakAdmin", FakeKeycloak([])))
    page = [keycloak_events._entry(_event(n), names.name({})) for n in range(3)]
    already = keycloak_events._entry(_event(1, error="forbidden"), "quantri1")
    async with db.unit_of_work() as session:
        await keycloak_events.insert_absent(session, [already])
    async with db.unit_of_work() as session:
        stored = await keycloak_events.insert_absent(session, page)
    assert sorted(stored) == sorted(e.id for e in page if e.id != already.id)
    assert await _entries(db) == 3
