from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from qlcb_identity.audit.service import audited
from qlcb_identity.calendar import due_after_working_days
from qlcb_identity.dependencies import Caller, DatabaseDep, SettingsDep
from qlcb_identity.lifecycle import reviews
from qlcb_identity.schemas import Username

router = APIRouter(prefix="/v1", tags=["Tài khoản"])

REVOCATION_WORKING_DAYS = 1
"""Creation, revocation and changes of accounts within one working day (004 Điều 6.5, R-ACC-5)."""


class AccountReviewPublic(BaseModel):
    id: str
    username: str
    unit_path: str
    tiers: list[str]
    reason: str
    opened_at: datetime
    due_at: datetime = Field(
        description="Hạn khóa: cuối ngày làm việc thứ nhất sau ngày ghi nhận (thu hồi trong 1 ngày làm việc)"
    )
    overdue: bool = Field(description="Đã quá hạn khóa")
    revoke_tier: str | None = Field(
        default=None,
        description="Quyền cần thu hồi (người giữ vẫn công tác nhưng không còn giữ chức vụ ứng với quyền đó: "
        "mọi quyết định bổ nhiệm cấp trưởng đã hết hiệu lực); trống: tài khoản cần khóa",
    )


class AccountDisabled(BaseModel):
    username: str
    enabled: bool
    reviews_closed: int


@router.get("/account-reviews")
async def open_reviews(actor: Caller, db: DatabaseDep, settings: SettingsDep) -> list[AccountReviewPublic]:
    """Tài khoản chờ khóa hoặc chờ thu hồi quyền: người giữ đã nghỉ hưu, thôi việc, từ trần hoặc chuyển
    ra ngoài ngành, hay không còn giữ chức vụ cấp trưởng, nhưng tài khoản có quyền cao hơn quyền của
    người ghi nhận nên chưa tự động khóa hay thu hồi; mỗi tài khoản với hạn (R-ACC-5: thu hồi trong 1
    ngày làm việc) và đã quá hạn hay chưa. Thu hồi quyền (DELETE /v1/accounts/{username}/tiers/{tier})
    hoặc khóa tài khoản đóng mục chờ."""
    calendar, now = settings.working_calendar(), datetime.now(UTC)
    async with db.unit_of_work() as session:
        found = await reviews.open_reviews(session, actor)
    listed = []
    for review in found:
        due = due_after_working_days(review.opened_at, REVOCATION_WORKING_DAYS, calendar)
        listed.append(
            AccountReviewPublic(
                id=review.id,
                username=review.username,
                unit_path=review.unit_path,
                tiers=review.tiers,
                reason=review.reason,
                opened_at=review.opened_at,
                due_at=due,
                overdue=now > due,
                revoke_tier=review.revoke_tier,
            )
        )
    return listed


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
