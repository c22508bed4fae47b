from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_identity.audit.models import AuditEntry


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
    return entry
