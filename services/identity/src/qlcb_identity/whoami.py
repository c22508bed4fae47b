from __future__ import annotations

from fastapi import APIRouter

from qlcb_common.authz import granted_sections
from qlcb_common.tiers import TIER_NAMES, Tier
from qlcb_identity.dependencies import Caller
from qlcb_identity.schemas import CallerPublic

router = APIRouter(prefix="/v1", tags=["Tài khoản"])


@router.get("/me")
async def me(principal: Caller) -> CallerPublic:
    """Tài khoản đang đăng nhập: cấp (tier) và đơn vị, from the verified token."""
    return CallerPublic(
        subject=principal.subject,
        username=principal.username,
        tiers=sorted(Tier(r) for r in principal.roles if r in TIER_NAMES),
        unit_path=principal.unit_path,
        unit_code=principal.unit_code,
        sections=sorted(granted_sections(principal)),
    )
