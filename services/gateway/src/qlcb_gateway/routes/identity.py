from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from qlcb_gateway.dependencies import BackendsDep, Caller

router = APIRouter(prefix="/v1", tags=["Tài khoản"])


@router.get("/me")
async def me(principal: Caller, backends: BackendsDep) -> dict[str, Any]:
    """Tài khoản đang đăng nhập: cấp (tier) và đơn vị, as the identity service reads the token."""
    response = await backends.identity.get("/v1/me", headers={"Authorization": f"Bearer {principal.token}"})
    if response.status_code != 200:
        raise HTTPException(status_code=response.status_code, detail=response.json().get("detail"))
    body: dict[str, Any] = response.json()
    return body
