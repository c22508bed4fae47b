"""Notices to every user (R-OPS-1): an upgrade announced at least 24 hours before it starts (004
Điều 14.6), an incident while the system is down or failing, and its public notice once an outage
may last two working days (003 Điều 15.7). The system admin posts and closes them; anyone, signed
in or not, reads those in force, and the web pages show them on every page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from qlcb_common.tiers import Tier
from qlcb_identity.audit import service as audit
from qlcb_identity.notices.models import Notice

UPGRADE_NOTICE = timedelta(hours=24)
"""How long before an upgrade starts its notice must be posted (004 Điều 14.6)."""
KEPT_AFTER_END = timedelta(days=366)
"""How far back the system admin's list of notices goes."""


class NoticeKind(StrEnum):
    UPGRADE = "upgrade"
    INCIDENT = "incident"


def _require_poster(actor: Principal) -> None:
    if not actor.has_any_role((Tier.SYSTEM_ADMIN,)):
        raise PermissionDenied("Chỉ quản trị hệ thống đăng và đóng thông báo")


def _checked(kind: NoticeKind, starts_at: datetime, ends_at: datetime | None, now: datetime) -> None:
    faults = []
    if kind is NoticeKind.UPGRADE:
        if starts_at < now + UPGRADE_NOTICE:
            faults.append(
                FieldViolation(
                    "starts_at", "Nâng cấp phải được thông báo chậm nhất 24 giờ trước khi tiến hành (004 Điều 14.6)"
                )
            )
        if ends_at is None:
            faults.append(FieldViolation("ends_at", "Thông báo nâng cấp phải nêu thời điểm dự kiến kết thúc"))
    if ends_at is not None and ends_at <= starts_at:
        faults.append(FieldViolation("ends_at", "Thời điểm kết thúc phải sau thời điểm bắt đầu"))
    elif ends_at is not None and ends_at <= now:
        faults.append(FieldViolation("ends_at", "Thời điểm kết thúc đã qua: thông báo không còn hiệu lực"))
    if faults:
        raise InvalidArgument(faults)


async def post(
    session: AsyncSession,
    *,
    actor: Principal,
    kind: NoticeKind,
    title: str,
    body: str,
    starts_at: datetime,
    ends_at: datetime | None,
    now: datetime,
) -> Notice:
    _require_poster(actor)
    _checked(kind, starts_at, ends_at, now)
    notice = Notice(
        id=str(uuid.uuid4()),
        kind=kind.value,
        title=title,
        body=body,
        starts_at=starts_at,
        ends_at=ends_at,
        posted_by=actor.username,
        posted_at=now,
    )
    session.add(notice)
    audit.record(
        session,
        actor=actor,
        action="notice.post",
        target=notice.id,
        after={"kind": kind.value, "title": title, "starts_at": starts_at.isoformat()},
    )
    return notice


async def close(session: AsyncSession, *, actor: Principal, notice_id: str, now: datetime) -> Notice:
    """The upgrade is called off or done, the incident over: the notice is no longer shown."""
    _require_poster(actor)
    notice = await session.get(Notice, notice_id, with_for_update=True)
    if notice is None:
        raise NotFound(f"Không có thông báo {notice_id}")
    if notice.closed_at is not None:
        raise FailedPrecondition("Thông báo đã đóng")
    notice.closed_by, notice.closed_at = actor.username, now
    audit.record(session, actor=actor, action="notice.close", target=notice.id, after={"closed_at": now.isoformat()})
    return notice


async def in_force(session: AsyncSession, now: datetime) -> Sequence[Notice]:
    """The notices to show now: not closed and not ended, the soonest to start first (an upgrade is
    shown from its posting, ahead of its start)."""
    found = await session.scalars(
        select(Notice)
        .where(Notice.closed_at.is_(None), or_(Notice.ends_at.is_(None), Notice.ends_at > now))
        .order_by(Notice.starts_at, Notice.posted_at)
    )
    return list(found)


async def posted(session: AsyncSession, *, actor: Principal, now: datetime) -> Sequence[Notice]:
    """Every notice of the last year, newest first, for the system admin."""
    _require_poster(actor)
    found = await session.scalars(
        select(Notice).where(Notice.posted_at > now - KEPT_AFTER_END).order_by(Notice.posted_at.desc())
    )
    return list(found)
