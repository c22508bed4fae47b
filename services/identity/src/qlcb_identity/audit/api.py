from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from qlcb_common.auth import Principal
from qlcb_common.days import IsoInstant
from qlcb_common.errors import InvalidArgument, PermissionDenied
from qlcb_common.request_text import NO_CONTROLS
from qlcb_common.tiers import Tier
from qlcb_identity.audit import service
from qlcb_identity.dependencies import Caller, DatabaseDep

router = APIRouter(prefix="/v1", tags=["Nhật ký"])

Filter = Annotated[str, Query(max_length=255, pattern=NO_CONTROLS, description="Giá trị phải khớp đúng")]
"""A value entries are matched against; no stored value holds a control character (and PostgreSQL
text cannot hold NUL at all)."""


class AuditEntryPublic(BaseModel):
    id: str = Field(description="Mã mục nhật ký: before_id của trang sau")
    at: datetime
    actor_username: str
    holder_name: str | None = Field(description="Người giữ tài khoản dùng chung đã thao tác, vào ngày đó")
    action: str
    target: str
    outcome: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _scope(actor: Principal) -> str | None:
    """The subtree whose account entries the caller reads; None: all of them (the system admin)."""
    if actor.has_any_role((Tier.SYSTEM_ADMIN,)):
        return None
    if actor.has_any_role((Tier.LOCAL_ADMIN,)) and actor.unit_path:
        return actor.unit_path
    raise PermissionDenied("Chỉ quản trị hệ thống và quản trị đơn vị xem nhật ký tài khoản")


@router.get("/audit")
async def audit_log(
    actor: Caller,
    db: DatabaseDep,
    target: Filter = "",
    action: Filter = "",
    username: Filter = "",
    outcome: Filter = "",
    occurred_from: Annotated[IsoInstant | None, Query(description="Từ thời điểm (kể cả)")] = None,
    occurred_to: Annotated[IsoInstant | None, Query(description="Đến thời điểm (kể cả)")] = None,
    before_id: Annotated[
        str | None, Query(pattern=r"^[0-9a-f-]{36}$", description="Trang sau: các mục cũ hơn mục này")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Số mục nhiều nhất")] = 500,
) -> list[AuditEntryPublic]:
    """Nhật ký thao tác tài khoản, mới nhất trước: ai (tài khoản, và người giữ nếu là tài khoản dùng
    chung), khi nào, trên tài khoản nào, trước và sau. Quản trị hệ thống xem toàn bộ; quản trị đơn vị
    xem các mục về tài khoản, đề nghị, ủy quyền và định mức của đơn vị mình và cấp dưới. 403 với cấp
    khác. 422 nêu trường sai: khoảng thời gian ngược, before_id không có."""
    filters = service.Filters(target, action, username, outcome, occurred_from, occurred_to)
    try:
        async with db.unit_of_work() as session:
            found = await service.entries(
                session, filters=filters, before_id=before_id, limit=limit, within=_scope(actor)
            )
    except InvalidArgument as refused:
        faults = [{"loc": ("query", v.field), "msg": v.description, "type": "value_error"} for v in refused.violations]
        raise RequestValidationError(faults) from None
    return [
        AuditEntryPublic(
            id=f.entry.id,
            at=f.entry.at,
            actor_username=f.entry.actor_username,
            holder_name=f.holder_name,
            action=f.entry.action,
            target=f.entry.target,
            outcome=f.entry.outcome,
            before=f.entry.before,
            after=f.entry.after,
        )
        for f in found
    ]
