from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from qlcb_common.identifiers import UNIT_PATH_PATTERN, anchored
from qlcb_common.tiers import Tier
from qlcb_identity.account_list import service
from qlcb_identity.dependencies import Caller, DatabaseDep

router = APIRouter(prefix="/v1", tags=["Phân quyền"])


class ListedAccountPublic(BaseModel):
    username: str
    full_name: str = Field(description="Họ và tên người giữ, họ trước")
    unit_path: str = Field(description="Đơn vị của tài khoản")
    enabled: bool = Field(description="false: tài khoản đã bị khóa")
    tiers: list[Tier]
    purpose: bool = Field(description="Tài khoản dùng chung của đơn vị (giao người giữ)")
    administered: bool = Field(description="Người gọi được mở và thay đổi tài khoản này (cấp được mọi cấp của nó)")


class UnitAccountsPublic(BaseModel):
    unit_path: str
    items: list[ListedAccountPublic]
    total: int = Field(description="Số tài khoản của đơn vị khớp từ khóa")
    truncated: bool = Field(description=f"Đơn vị có hơn {service.MEMBERS_READ} tài khoản: chỉ tìm trong số đầu")


@router.get("/accounts", responses={404: {"description": "No unit `unit_path` in Keycloak"}})
async def unit_accounts(
    actor: Caller,
    db: DatabaseDep,
    request: Request,
    unit_path: Annotated[str, Query(pattern=anchored(UNIT_PATH_PATTERN), description="Đơn vị")],
    q: Annotated[str, Query(max_length=100, description="Họ tên hoặc tên đăng nhập, có dấu hay không")] = "",
    offset: Annotated[int, Query(ge=0, le=service.MEMBERS_READ)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    subtree: Annotated[bool, Query(description="Cả các đơn vị trực thuộc")] = False,
) -> UnitAccountsPublic:
    """Các tài khoản của đơn vị (với `subtree`, cả các đơn vị trực thuộc) theo đơn vị rồi thứ tự danh
    sách cán bộ: người giữ, các cấp, còn mở hay đã khóa; chỉ cho quản trị viên tài khoản của đơn vị."""
    async with db.unit_of_work() as session:
        page = await service.unit_accounts(
            session,
            actor=actor,
            unit_path=unit_path,
            q=q,
            offset=offset,
            limit=limit,
            admin=request.app.state.keycloak_admin,
            subtree=subtree,
        )
    return UnitAccountsPublic(
        unit_path=unit_path,
        items=[ListedAccountPublic.model_validate(a, from_attributes=True) for a in page.accounts],
        total=page.total,
        truncated=page.truncated,
    )
