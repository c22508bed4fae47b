from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from qlcb_identity.account_names import service
from qlcb_identity.dependencies import Caller

router = APIRouter(prefix="/v1", tags=["Tài khoản"])

MAX_SUBJECTS = 100

Subjects = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]],
    Query(alias="id", min_length=1, max_length=MAX_SUBJECTS, description="Mã tài khoản (subject), tối đa 100"),
]


class AccountNamePublic(BaseModel):
    id: str = Field(description="Mã tài khoản (subject) được hỏi")
    username: str = Field(description="Tên đăng nhập")
    full_name: str = Field(description="Họ và tên người giữ, họ trước")


@router.get("/account-names")
async def account_names(ids: Subjects, actor: Caller, request: Request) -> list[AccountNamePublic]:
    """Tên đăng nhập và họ tên của các tài khoản theo mã (subject) mà hồ sơ, biên chế, quyết định ghi
    là người ghi; mã không có trong Keycloak thì bỏ qua."""
    found = await service.names(actor, ids, request.app.state.keycloak_admin)
    return [AccountNamePublic(id=n.subject, username=n.username, full_name=n.full_name) for n in found]
