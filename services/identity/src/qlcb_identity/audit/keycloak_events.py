"""Ingests Keycloak's admin events into the audit log, so changes made on Keycloak's own
console or API are queryable beside those made through identity (R-AUD-1).

Keycloak itself records only operations that succeed. QLCB's `admin-refusal-audit` extension
(deploy/keycloak/extensions) adds an event with error "forbidden", the caller's username and the
HTTP method for every admin API call Keycloak refuses; those become "refused" entries here, like
the refusals of identity's own API (R-TIER-3). The actor of every entry is the account whose token
made the call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakGetError
from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.db import Database
from qlcb_common.shutdown import Stopping
from qlcb_identity.audit.models import AuditEntry
from qlcb_identity.audit.service import REFUSALS

log = structlog.get_logger(__name__)
_NAMESPACE = uuid.UUID("6f1c3c2e-5a7b-4d1e-9a51-2b1f0e6c7d80")
BATCH = 500
REFUSED = "forbidden"
COPIED = Gauge(
    "qlcb_identity_admin_audit_copied_timestamp_seconds",
    "When the copy of Keycloak's admin events last caught up; Keycloak deletes them after the "
    "realm's adminEventsExpiration, so a copy stalled that long loses them",
)


def _outcome(event: dict[str, Any]) -> str:
    error = event.get("error")
    if error == REFUSED:
        return "refused"
    return "error" if error else "done"


class ActorNames:
    """The username of the account whose token made each admin call, looked up once per account.

    An admin event's own `details.username` names the user the call changed, not the caller; the
    caller is `authDetails.userId`. An account of another realm (Keycloak's master admin) cannot be
    looked up here and is named by its realm and id.
    """

    def __init__(self, admin: Callable[[], KeycloakAdmin], limit: int = 4096) -> None:
        self._admin = admin
        self._limit = limit
        self._known: dict[str, str] = {}

    def name(self, auth: dict[str, Any]) -> str:
        realm = auth.get("realmName") or auth.get("realmId", "")
        user_id = auth.get("userId")
        if not user_id:
            return f"keycloak:{realm}/{auth.get('clientId', '')}"
        if user_id not in self._known:
            try:
                found = str(self._admin().get_user(user_id)["username"])
            except KeycloakGetError:
                found = f"keycloak:{realm}/{user_id}"
            if len(self._known) >= self._limit:
                self._known.pop(next(iter(self._known)))
            self._known[user_id] = found
        return self._known[user_id]


def _entry(event: dict[str, Any], actor: str) -> AuditEntry:
    auth = event.get("authDetails") or {}
    details = event.get("details") or {}
    key = event.get("id") or "|".join(
        str(event.get(k, "")) for k in ("time", "operationType", "resourceType", "resourcePath")
    ) + "|" + str(auth.get("userId", ""))
    if event.get("representation"):
        after: dict[str, Any] | None = {"representation": event["representation"]}
    elif "method" in details:
        after = {k: details[k] for k in ("method", "suppressed") if k in details}
    else:
        after = None
    return AuditEntry(
        # Keycloak's own id where it gives one, else one derived from the content: ingestion is idempotent.
        id=str(uuid.uuid5(_NAMESPACE, str(key))),
        at=datetime.fromtimestamp(event["time"] / 1000, tz=UTC),
        actor_subject=str(auth.get("userId", "")),
        actor_username=actor,
        action=f"keycloak.{event.get('operationType', '')}.{event.get('resourceType', '')}",
        target=str(event.get("resourcePath", "")),
        outcome=_outcome(event),
        before=None,
        after=after,
    )


async def _store(db: Database, entries: list[AuditEntry]) -> int:
    async with db.unit_of_work() as session:
        known = set(await session.scalars(select(AuditEntry.id).where(AuditEntry.id.in_([e.id for e in entries]))))
        stored = await insert_absent(session, [e for e in entries if e.id not in known])
    REFUSALS.labels(source="keycloak").inc(sum(outcome == "refused" for outcome in stored.values()))
    return len(stored)


async def insert_absent(session: AsyncSession, entries: list[AuditEntry]) -> dict[str, str]:
    """Inserts the entries whose id is not stored yet; returns the id and outcome of those inserted.

    Every identity replica copies the same events: one may commit an entry between another's
    check and its insert, which then skips it (ON CONFLICT DO NOTHING) rather than failing and
    losing the whole page until the next round."""
    if not entries:
        return {}
    columns = [column.key for column in AuditEntry.__table__.columns]
    rows = [{key: getattr(entry, key) for key in columns} for entry in entries]
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(AuditEntry)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(AuditEntry.id, AuditEntry.outcome)
    )
    return {row.id: row.outcome for row in await session.execute(statement)}


def _page(admin: Callable[[], KeycloakAdmin], names: ActorNames, query: dict[str, Any]) -> list[AuditEntry]:
    return [_entry(e, names.name(e.get("authDetails") or {})) for e in admin().get_admin_events(query)]


async def ingest_once(db: Database, admin: Callable[[], KeycloakAdmin], names: ActorNames) -> int:
    """Copies admin events from the last one ingested on; returns how many were new.

    Reads oldest first from the millisecond of the newest event already copied (a cursor): the
    events of that millisecond are read again and skipped by id, and a page full of events of a
    single millisecond moves on by offset, so a flood neither hides an event nor stalls the copy.
    """
    async with db.unit_of_work() as session:
        last = await session.scalar(select(func.max(AuditEntry.at)).where(AuditEntry.action.startswith("keycloak.")))
    since = int(last.replace(tzinfo=last.tzinfo or UTC).timestamp() * 1000) if last is not None else 0
    fresh = 0
    first = 0
    while True:
        query: dict[str, Any] = {"max": BATCH, "first": first, "direction": "asc"}
        if since:
            query["dateFrom"] = str(since)
        page = await asyncio.to_thread(_page, admin, names, query)
        fresh += await _store(db, page)
        if len(page) < BATCH:
            COPIED.set_to_current_time()
            return fresh
        newest = int(page[-1].at.timestamp() * 1000)
        first = first + BATCH if newest == since else 0
        since = newest


async def follow(db: Database, admin: Callable[[], KeycloakAdmin], interval: float, stopping: Stopping) -> None:
    names = ActorNames(admin)
    while not stopping.is_set():
        try:
            await ingest_once(db, admin, names)
        except Exception as exc:
            log.warning("cannot ingest Keycloak admin events", error=repr(exc))
        await stopping.sleep(interval)
