from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from qlcb_common.errors import PermissionDenied
from qlcb_common.request_text import NO_CONTROLS
from qlcb_common.tiers import Tier
from qlcb_identity.audit.models import AuditEntry
from qlcb_identity.dependencies import Caller, DatabaseDep

router = APIRouter(prefix="/v1", tags=["Nhật ký"])

Filter = Annotated[str, Query(max_length=255, pattern=NO_CONTROLS, description="Giá trị phải khớp đúng")]
"""A value entries are matched against; no stored value holds a control character (and PostgreSQL
text cannot hold NUL at all)."""


class AuditEntryPublic(BaseModel):
    at: datetime
    actor_username: str
    action: str
    target: str
    outcome: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@router.get("/audit")
async def audit_log(
    actor: Caller,
    db: DatabaseDep,
    target: Filter = "",
    action: Filter = "",
    username: Filter = "",
    outcome: Filter = "",
) -> list[AuditEntryPublic]:
    """Nhật ký thao tác tài khoản, mới nhất trước (quản trị hệ thống)."""
    if not actor.has_any_role((Tier.SYSTEM_ADMIN,)):
        raise PermissionDenied("Chỉ quản trị hệ thống xem nhật ký")
    query = select(AuditEntry).order_by(AuditEntry.at.desc()).limit(500)
    if target:
        query = query.where(AuditEntry.target == target)
    if action:
        query = query.where(AuditEntry.action == action)
    if username:
        query = query.where(AuditEntry.actor_username == username)
    if outcome:
        query = query.where(AuditEntry.outcome == outcome)
    async with db.unit_of_work() as session:
        entries = (await session.scalars(query)).all()
    return [AuditEntryPublic.model_validate(e, from_attributes=True) for e in entries]
