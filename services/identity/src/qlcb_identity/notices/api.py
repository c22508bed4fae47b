from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import AwareDatetime, BaseModel, Field

from qlcb_common.text import MultiLineText, SingleLineText
from qlcb_identity.audit.service import audited
from qlcb_identity.dependencies import Caller, DatabaseDep
from qlcb_identity.notices import service
from qlcb_identity.notices.models import Notice
from qlcb_identity.notices.service import NoticeKind

router = APIRouter(prefix="/v1", tags=["Thông báo"])

NoticeId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="Mã thông báo")]


class NoticeCreate(BaseModel):
    kind: NoticeKind = Field(description="upgrade: nâng cấp hệ thống; incident: sự cố")
    title: SingleLineText = Field(min_length=1, max_length=200, description="Tiêu đề")
    body: MultiLineText = Field(min_length=1, max_length=4000, description="Nội dung: việc gì, ảnh hưởng gì, làm gì")
    starts_at: AwareDatetime = Field(
        description="Bắt đầu: nâng cấp từ 24 giờ sau khi đăng trở đi; sự cố từ lúc xảy ra (có thể đã qua)"
    )
    ends_at: AwareDatetime | None = Field(
        default=None, description="Dự kiến kết thúc, sau lúc bắt đầu và chưa qua; bắt buộc với nâng cấp"
    )


class NoticePublic(BaseModel):
    id: str
    kind: NoticeKind
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime | None
    posted_at: datetime


class PostedNotice(NoticePublic):
    posted_by: str
    closed_by: str | None
    closed_at: datetime | None


def _public(notice: Notice) -> NoticePublic:
    return NoticePublic.model_validate(notice, from_attributes=True)


@router.get("/notices")
async def in_force(db: DatabaseDep) -> list[NoticePublic]:
    """Thông báo đang hiệu lực cho mọi người dùng, không cần đăng nhập: nâng cấp sắp tới hoặc đang tiến
    hành, sự cố đang xảy ra; sớm bắt đầu trước."""
    async with db.unit_of_work() as session:
        found = await service.in_force(session, datetime.now(UTC))
    return [_public(n) for n in found]


@router.get("/notices/posted")
async def posted(actor: Caller, db: DatabaseDep) -> list[PostedNotice]:
    """Mọi thông báo đã đăng trong một năm qua, mới nhất trước, với người đăng và người đóng (quản trị
    hệ thống)."""
    async with db.unit_of_work() as session:
        found = await service.posted(session, actor=actor, now=datetime.now(UTC))
    return [PostedNotice.model_validate(n, from_attributes=True) for n in found]


@router.post("/notices", status_code=status.HTTP_201_CREATED)
async def post(body: NoticeCreate, actor: Caller, db: DatabaseDep) -> NoticePublic:
    """Đăng thông báo (quản trị hệ thống): kế hoạch nâng cấp chậm nhất 24 giờ trước khi tiến hành (004
    Điều 14.6), sự cố khi hệ thống ngừng hoặc lỗi, và thông báo công khai khi có thể ngừng 2 ngày làm việc
    (003 Điều 15.7). Trang web hiện thông báo ở đầu mọi trang."""
    notice = await audited(
        db,
        actor,
        "notice.post",
        body.title,
        lambda s: service.post(
            s,
            actor=actor,
            kind=body.kind,
            title=body.title,
            body=body.body,
            starts_at=body.starts_at.astimezone(UTC),
            ends_at=body.ends_at.astimezone(UTC) if body.ends_at else None,
            now=datetime.now(UTC),
        ),
    )
    return _public(notice)


@router.post("/notices/{notice_id}/close")
async def close(notice_id: NoticeId, actor: Caller, db: DatabaseDep) -> PostedNotice:
    """Đóng thông báo: nâng cấp đã xong hoặc hủy, sự cố đã khắc phục; không hiện nữa."""
    notice = await audited(
        db,
        actor,
        "notice.close",
        notice_id,
        lambda s: service.close(s, actor=actor, notice_id=notice_id, now=datetime.now(UTC)),
    )
    return PostedNotice.model_validate(notice, from_attributes=True)
