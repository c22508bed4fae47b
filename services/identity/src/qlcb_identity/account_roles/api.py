from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from qlcb_common.tiers import Tier
from qlcb_identity.account_roles import service
from qlcb_identity.audit.service import audited
from qlcb_identity.dependencies import Caller, DatabaseDep
from qlcb_identity.schemas import Username

router = APIRouter(prefix="/v1", tags=["Phân quyền"])


class AccountTiers(BaseModel):
    username: str
    tiers: list[Tier]


async def _change(
    username: str, tier: Tier, granted: bool, actor: Caller, db: DatabaseDep, request: Request
) -> AccountTiers:
    action = "account.grant" if granted else "account.revoke"
    tiers = await audited(
        db,
        actor,
        action,
        username,
        lambda s: service.change(
            s, actor=actor, username=username, tier=tier, granted=granted, admin=request.app.state.keycloak_admin
        ),
    )
    return AccountTiers(username=username, tiers=[Tier(t) for t in tiers])


@router.put("/accounts/{username}/tiers/{tier}")
async def grant(username: Username, tier: Tier, actor: Caller, db: DatabaseDep, request: Request) -> AccountTiers:
    """Cấp quyền (một cấp) cho tài khoản trong phạm vi quản trị. Quyền quản trị đơn vị tính vào định mức
    tài khoản quản trị của đơn vị (409 khi đã dùng hết)."""
    return await _change(username, tier, True, actor, db, request)


@router.delete("/accounts/{username}/tiers/{tier}")
async def revoke(username: Username, tier: Tier, actor: Caller, db: DatabaseDep, request: Request) -> AccountTiers:
    """Thu hồi quyền."""
    return await _change(username, tier, False, actor, db, request)


class AccountState(BaseModel):
    username: str
    enabled: bool


@router.post("/accounts/{username}/enable")
async def enable(username: Username, actor: Caller, db: DatabaseDep, request: Request) -> AccountState:
    """Mở lại tài khoản đã bị khóa khi người giữ nghỉ hưu, thôi việc (sau khi được khôi phục)."""
    await audited(
        db,
        actor,
        "account.enable",
        username,
        lambda s: service.enable(s, actor=actor, username=username, admin=request.app.state.keycloak_admin),
    )
    return AccountState(username=username, enabled=True)
