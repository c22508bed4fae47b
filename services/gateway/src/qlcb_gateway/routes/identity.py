from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import httpx
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from qlcb_gateway.backends import Backends
from qlcb_gateway.dependencies import BackendsDep, Caller

router = APIRouter(prefix="/v1", tags=["Tài khoản"])


async def _identity_get(backends: Backends, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """Identity's answer, or 503 naming it when it cannot be reached."""
    try:
        return await backends.identity.get(path, headers=headers)
    except httpx.TransportError as exc:
        message = f"Dịch vụ identity không trả lời ({type(exc).__name__})"
        raise HTTPException(503, detail={"code": "UNAVAILABLE", "message": message}) from exc


@router.get("/me")
async def me(principal: Caller, backends: BackendsDep) -> dict[str, Any]:
    """Tài khoản đang đăng nhập: cấp (tier) và đơn vị, as the identity service reads the token."""
    response = await _identity_get(backends, "/v1/me", {"Authorization": f"Bearer {principal.token}"})
    if response.status_code != 200:
        raise HTTPException(status_code=response.status_code, detail=response.json().get("detail"))
    body: dict[str, Any] = response.json()
    return body


class NoticePublic(BaseModel):
    id: str
    kind: Literal["upgrade", "incident"] = Field(description="upgrade: nâng cấp hệ thống; incident: sự cố")
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime | None
    posted_at: datetime


@router.get("/notices", tags=["Thông báo"])
async def notices(backends: BackendsDep) -> list[NoticePublic]:
    """Thông báo đang hiệu lực cho mọi người dùng, không cần đăng nhập (R-OPS-1): nâng cấp sắp tới
    hoặc đang tiến hành (báo trước ít nhất 24 giờ), sự cố đang xảy ra; sớm bắt đầu trước."""
    response = await _identity_get(backends, "/v1/notices")
    if response.status_code != 200:
        raise HTTPException(503, detail={"code": "UNAVAILABLE", "message": "Dịch vụ identity không trả lời"})
    return [NoticePublic.model_validate(item) for item in response.json()]
