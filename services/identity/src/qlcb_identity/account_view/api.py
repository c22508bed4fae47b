from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from qlcb_common.authz import Section
from qlcb_common.tiers import Tier
from qlcb_identity.account_incidents.api import IncidentPublic
from qlcb_identity.account_view import service
from qlcb_identity.dependencies import Caller, DatabaseDep
from qlcb_identity.schemas import Username

router = APIRouter(prefix="/v1", tags=["Phân quyền"])


class AccountPublic(BaseModel):
    username: str
    full_name: str = Field(description="Họ và tên người giữ, họ trước")
    unit_path: str | None
    tiers: list[Tier]
    enabled: bool = Field(description="false: tài khoản đã bị khóa")
    sections: list[Section] = Field(description="Các phần hồ sơ được giao (cán bộ nghiệp vụ)")
    incidents: list[IncidentPublic] = Field(description="Các lần báo mất, lộ mật khẩu, mới nhất trước (20)")
    own: bool = Field(description="Tài khoản của chính người gọi")


@router.get("/accounts/{username}")
async def account(username: Username, actor: Caller, db: DatabaseDep, request: Request) -> AccountPublic:
    """Một tài khoản như quản trị của nó (hoặc chính người giữ) thấy: đơn vị, các cấp, phần hồ sơ
    được giao, trạng thái, các lần báo mất hoặc lộ mật khẩu."""
    async with db.unit_of_work() as session:
        found = await service.view(session, actor=actor, username=username, admin=request.app.state.keycloak_admin)
    return AccountPublic(
        username=found.username,
        full_name=found.full_name,
        unit_path=found.unit_path,
        tiers=[Tier(t) for t in found.tiers],
        enabled=found.enabled,
        sections=[Section(s) for s in found.sections],
        incidents=[IncidentPublic.model_validate(i, from_attributes=True) for i in found.incidents],
        own=found.own,
    )
