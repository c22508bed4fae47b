from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.errors import PermissionDenied, RefusedAsNotFound
from qlcb_identity.audit.models import AuditEntry

T = TypeVar("T")

REFUSALS = Counter(
    "qlcb_identity_refusals",
    "Refused attempts written to the audit log: source identity (its own API) or keycloak (Keycloak's admin API)",
    ["source"],
)


def record(
    session: AsyncSession,
    *,
    actor: Principal,
    action: str,
    target: str,
    outcome: str = "done",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        id=str(uuid.uuid4()),
        at=datetime.now(UTC),
        actor_subject=actor.subject,
        actor_username=actor.username,
        action=action,
        target=target,
        outcome=outcome,
        before=before,
        after=after,
    )
    session.add(entry)
    if outcome == "refused":
        REFUSALS.labels(source="identity").inc()
    return entry


async def audited(
    db: Database, actor: Principal, action: str, target: str, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """Runs `work` in one unit of work; a refusal is recorded in a transaction of its own."""
    try:
        async with db.unit_of_work() as session:
            return await work(session)
    except (PermissionDenied, RefusedAsNotFound):
        async with db.unit_of_work() as session:
            record(session, actor=actor, action=action, target=target, outcome="refused")
        raise
