from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import httpx
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from qlcb_gateway.dependencies import BackendsDep, Caller

router = APIRouter(prefix="/v1", tags=["Tài khoản"])


@router.get("/me")
async def me(principal: Caller, backends: BackendsDep) -> dict[str, Any]:
    """Tài khoản đang đăng nhập: cấp (tier) và đơn vị, as the identity service reads the token."""
    try:
        response = await backends.identity.get("/v1/me", headers={"Authorization": f"Bearer {principal.token}"})
    except httpx.TransportError as exc:
        message = f"Dịch vụ identity không trả lời ({type(exc).__name__})"
        raise HTTPException(503, detail={"code": "UNAVAILABLE", "message": message}) from exc
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
    try:
        response = await backends.identity.get("/v1/notices")
    except httpx.TransportError as exc:
        message = f"Dịch vụ identity không trả lời ({type(exc).__name__})"
        raise HTTPException(503, detail={"code": "UNAVAILABLE", "message": message}) from exc
    if response.status_code != 200:
        raise HTTPException(503, detail={"code": "UNAVAILABLE", "message": "Dịch vụ identity không trả lời"})
    return [NoticePublic.model_validate(item) for item in response.json()]
