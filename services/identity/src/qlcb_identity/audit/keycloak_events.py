"""Ingests Keycloak's admin events into the audit log, so changes made on Keycloak's own
console or API are queryable beside those made through identity (R-AUD-1).

Keycloak itself records only operations that succeed. QLCB's `admin-refusal-audit` extension
(deploy/keycloak/extensions) adds an event with error "forbidden", the caller's username and the
HTTP method for every admin API call Keycloak refuses; those become "refused" entries here, like
the refusals of identity's own API (R-TIER-3)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from keycloak import KeycloakAdmin
from sqlalchemy import select

from qlcb_common.db import Database
from qlcb_identity.audit.models import AuditEntry
from qlcb_identity.audit.service import REFUSALS

log = structlog.get_logger(__name__)
_NAMESPACE = uuid.UUID("6f1c3c2e-5a7b-4d1e-9a51-2b1f0e6c7d80")
BATCH = 500
REFUSED = "forbidden"


def _outcome(event: dict[str, Any]) -> str:
    error = event.get("error")
    if error == REFUSED:
        return "refused"
    return "error" if error else "done"


def _entry(event: dict[str, Any]) -> AuditEntry:
    auth = event.get("authDetails") or {}
    details = event.get("details") or {}
    key = "|".join(str(event.get(k, "")) for k in ("time", "operationType", "resourceType", "resourcePath"))
    if event.get("representation"):
        after: dict[str, Any] | None = {"representation": event["representation"]}
    elif "method" in details:
        after = {"method": details["method"]}
    else:
        after = None
    return AuditEntry(
        # Keycloak's events carry no id: one derived from their content makes ingestion idempotent.
        id=str(uuid.uuid5(_NAMESPACE, key + "|" + str(auth.get("userId", "")))),
        at=datetime.fromtimestamp(event["time"] / 1000, tz=UTC),
        actor_subject=str(auth.get("userId", "")),
        actor_username=str(details.get("username") or f"keycloak:{auth.get('realmId', '')}/{auth.get('clientId', '')}"),
        action=f"keycloak.{event.get('operationType', '')}.{event.get('resourceType', '')}",
        target=str(event.get("resourcePath", "")),
        outcome=_outcome(event),
        before=None,
        after=after,
    )


async def _store(db: Database, entries: list[AuditEntry]) -> int:
    async with db.unit_of_work() as session:
        known = set(await session.scalars(select(AuditEntry.id).where(AuditEntry.id.in_([e.id for e in entries]))))
        fresh = [e for e in entries if e.id not in known]
        session.add_all(fresh)
    REFUSALS.labels(source="keycloak").inc(sum(e.outcome == "refused" for e in fresh))
    return len(fresh)


async def ingest_once(db: Database, admin: Callable[[], KeycloakAdmin]) -> int:
    """Copies admin events newer than the last one ingested; returns how many were new.

    Keycloak lists events newest first, by day. Every page of the days since the last ingested
    event is read: events arriving meanwhile only push older ones to later pages, and copying
    is idempotent, so a busy day or a flood of refusals cannot hide an event.
    """
    async with db.unit_of_work() as session:
        last = await session.scalar(
            select(AuditEntry.at).where(AuditEntry.action.startswith("keycloak.")).order_by(AuditEntry.at.desc())
        )
    query: dict[str, Any] = {"max": BATCH}
    if last is not None:
        query["dateFrom"] = last.astimezone(UTC).date().isoformat()
    fresh = 0
    first = 0
    while True:
        page = await asyncio.to_thread(admin().get_admin_events, {**query, "first": first})
        fresh += await _store(db, [_entry(e) for e in page])
        if len(page) < BATCH:
            return fresh
        first += BATCH


async def follow(db: Database, admin: Callable[[], KeycloakAdmin], interval: float) -> None:
    while True:
        try:
            await ingest_once(db, admin)
        except Exception as exc:
            log.warning("cannot ingest Keycloak admin events", error=repr(exc))
        await asyncio.sleep(interval)
