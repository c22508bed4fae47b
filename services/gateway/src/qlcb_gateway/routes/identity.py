from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, HTTPException

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
