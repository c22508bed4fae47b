from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from qlcb_identity.audit.service import audited
from qlcb_identity.dependencies import Caller, DatabaseDep
from qlcb_identity.lifecycle import reviews
from qlcb_identity.schemas import Username

router = APIRouter(prefix="/v1", tags=["Tài khoản"])


class AccountReviewPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    unit_path: str
    tiers: list[str]
    reason: str
    opened_at: datetime


class AccountDisabled(BaseModel):
    username: str
    enabled: bool
    reviews_closed: int


@router.get("/account-reviews")
async def open_reviews(actor: Caller, db: DatabaseDep) -> list[AccountReviewPublic]:
    """Tài khoản chờ khóa: người giữ đã nghỉ hưu, thôi việc, từ trần hoặc chuyển ra ngoài ngành, nhưng
    tài khoản có quyền cao hơn quyền của người ghi nhận nên chưa tự động khóa."""
    async with db.unit_of_work() as session:
        found = await reviews.open_reviews(session, actor)
        return [AccountReviewPublic.model_validate(r) for r in found]


@router.post("/accounts/{username}/disable")
async def disable(username: Username, actor: Caller, db: DatabaseDep, request: Request) -> AccountDisabled:
    """Khóa tài khoản (và kết thúc các phiên đăng nhập) trong phạm vi quản trị."""
    closed = await audited(
        db,
        actor,
        "account.disable",
        username,
        lambda s: reviews.disable(s, actor=actor, username=username, admin=request.app.state.keycloak_admin),
    )
    return AccountDisabled(username=username, enabled=False, reviews_closed=closed)
