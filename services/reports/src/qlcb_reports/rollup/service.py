"""The roll-up's rules (R-REP-5, R-OPS-1): which approval writes a delivery, what a reopening
withdraws, and what the sector's reporting tier sees and does with the deliveries.

A top-level report is one with no report above it: the regime's issuer approves it, and it is the
roll-up of its subtree that goes on to the national report system. Its approval writes a delivery
of that version in the same transaction; reopening it withdraws a delivery not yet acknowledged
(the corrected version, once approved again, is a delivery of its own)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Section
from qlcb_common.errors import AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from qlcb_common.personnel_rules import short_text
from qlcb_common.tiers import TIER_NAMES
from qlcb_reports.audit.models import ReportTransition
from qlcb_reports.regimes import periods
from qlcb_reports.regimes.models import ReportRegime, TemplateVersion
from qlcb_reports.rollup import payload
from qlcb_reports.rollup.models import RollupDelivery, SentOutside
from qlcb_reports.rollup.schedule import Status
from qlcb_reports.workflow.models import Assignment, ReportPeriod

MAX_LIST = 1000
DEFAULT_LIST = 100
MAX_LABEL = 255
MAX_NOTE = 2000
NOT_ACKNOWLEDGED = (Status.PENDING.value, Status.FAILED.value)
WHAT = "các lần gửi báo cáo lên hệ thống báo cáo quốc gia"


def _require(actor: Principal) -> None:
    """The national roll-up is the sector's: the system admin and the tier that approves reports
    over the whole sector (reports `operate`, sector-wide)."""
    authz.require_sector_wide(actor, Section.REPORTS, Action.OPERATE, what=WHAT)


def _audit(session: AsyncSession, actor: Principal, assignment: Assignment, action: str, reason: str) -> None:
    """A line in the report's history (report_transitions), its state unchanged."""
    session.add(
        ReportTransition(
            id=str(uuid.uuid4()),
            assignment_id=assignment.id,
            period_id=assignment.period_id,
            unit_path=assignment.unit_path,
            action=action,
            from_state=assignment.state,
            to_state=assignment.state,
            reason=reason,
            account=actor.username,
            subject=actor.subject,
            tiers=",".join(sorted(actor.roles & TIER_NAMES)),
            occurred_at=datetime.now(UTC),
            version=assignment.version,
        )
    )


# ---- what the workflow's steps do to the roll-up -----------------------------------------------


async def approved(session: AsyncSession, assignment: Assignment) -> RollupDelivery | None:
    """Called by the approval step, in its transaction: a top-level report's approved version gets
    its delivery (already `sent_outside` when the report was recorded as sent by other means)."""
    if assignment.parent_id is not None:
        return None
    regime = await session.get(ReportRegime, assignment.regime_id)
    period = await session.get(ReportPeriod, assignment.period_id)
    template = await session.get(TemplateVersion, (assignment.regime_id, assignment.template_version))
    assert regime is not None
    assert period is not None
    assert template is not None
    outside = await session.get(SentOutside, assignment.id)
    now = datetime.now(UTC)
    delivery = RollupDelivery(
        id=str(uuid.uuid4()),
        assignment_id=assignment.id,
        report_version=assignment.version,
        idempotency_key=payload.idempotency_key(assignment.id, assignment.version),
        regime_id=regime.id,
        regime_code=regime.code,
        period_id=period.id,
        period_key=period.key,
        unit_id=assignment.unit_id,
        unit_name=assignment.unit_name,
        payload=payload.body(assignment, regime, period, template),
        status=(Status.SENT_OUTSIDE if outside is not None else Status.PENDING).value,
        attempts=0,
        next_attempt_at=None if outside is not None else now,
        created_at=now,
    )
    session.add(delivery)
    return delivery


async def reopened(session: AsyncSession, assignment: Assignment) -> None:
    """Called by the reopening step: what was approved is no longer what the unit stands by, so a
    delivery of it not yet acknowledged is withdrawn (an acknowledged one stays what it was)."""
    if assignment.parent_id is not None:
        return
    waiting = await session.scalars(
        select(RollupDelivery)
        .where(RollupDelivery.assignment_id == assignment.id, RollupDelivery.status.in_(NOT_ACKNOWLEDGED))
        .with_for_update()
    )
    for delivery in waiting:
        delivery.status = Status.WITHDRAWN.value
        delivery.next_attempt_at = None


# ---- the API -------------------------------------------------------------------------------------


async def _marks(session: AsyncSession, assignment_ids: Sequence[str]) -> dict[str, SentOutside]:
    if not assignment_ids:
        return {}
    found = await session.scalars(select(SentOutside).where(SentOutside.assignment_id.in_(set(assignment_ids))))
    return {row.assignment_id: row for row in found}


async def list_deliveries(
    session: AsyncSession, *, actor: Principal, period_id: str, status: str, limit: int
) -> list[tuple[RollupDelivery, SentOutside | None]]:
    _require(actor)
    found: list[FieldViolation] = []
    if status and status not in {s.value for s in Status}:
        found.append(FieldViolation("status", f"Trạng thái phải là một trong {[s.value for s in Status]}"))
    if not 0 <= limit <= MAX_LIST:
        found.append(FieldViolation("limit", f"Từ 1 đến {MAX_LIST}"))
    if found:
        raise InvalidArgument(found)
    query = select(RollupDelivery)
    if period_id:
        query = query.where(RollupDelivery.period_id == period_id)
    if status:
        query = query.where(RollupDelivery.status == status)
    rows = list(
        await session.scalars(
            query.order_by(RollupDelivery.created_at.desc(), RollupDelivery.id).limit(limit or DEFAULT_LIST)
        )
    )
    marks = await _marks(session, [r.assignment_id for r in rows])
    return [(row, marks.get(row.assignment_id)) for row in rows]


async def retry(session: AsyncSession, *, actor: Principal, delivery_id: str) -> RollupDelivery:
    """Sends a failed delivery again now (or a pending one without waiting for its next attempt)."""
    _require(actor)
    delivery = (
        await session.scalars(select(RollupDelivery).where(RollupDelivery.id == delivery_id).with_for_update())
    ).first()
    if delivery is None:
        raise NotFound(f"Không có lần gửi báo cáo lên hệ thống quốc gia {delivery_id!r}")
    if delivery.status not in NOT_ACKNOWLEDGED:
        raise FailedPrecondition(
            f"Lần gửi đang ở trạng thái {delivery.status}: chỉ gửi lại được lần gửi bị lỗi hoặc đang chờ"
        )
    assignment = await session.get(Assignment, delivery.assignment_id)
    assert assignment is not None
    before = f"{delivery.attempts} lần thử" + (f", lỗi cuối: {delivery.last_error}" if delivery.last_error else "")
    _audit(
        session, actor, assignment, "rollup_retried", f"Gửi lại phiên bản {delivery.report_version} ({before})"[:2000]
    )
    delivery.status = Status.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = datetime.now(UTC)
    return delivery


def _sent_on(value: str, found: list[FieldViolation]) -> date | None:
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        found.append(FieldViolation("sent_on", "Ngày phải theo dạng YYYY-MM-DD"))
    elif day > periods.today():
        found.append(FieldViolation("sent_on", "Ngày gửi chưa đến"))
    return day


async def record_sent_outside(
    session: AsyncSession,
    *,
    actor: Principal,
    assignment_id: str,
    sent_on: str,
    channel: str,
    reference: str,
    note: str,
) -> tuple[SentOutside, list[RollupDelivery]]:
    _require(actor)
    found: list[FieldViolation] = []
    day = _sent_on(sent_on, found)
    how = short_text(channel, "channel", MAX_LABEL, found, required=True)
    ref = short_text(reference, "reference", MAX_LABEL, found, required=True)
    text = short_text(note, "note", MAX_NOTE, found)
    if found or day is None or how is None or ref is None:
        raise InvalidArgument(found)
    assignment = (
        await session.scalars(select(Assignment).where(Assignment.id == assignment_id).with_for_update())
    ).first()
    if assignment is None:
        raise NotFound(f"Không có báo cáo được giao {assignment_id!r}")
    if assignment.parent_id is not None:
        raise FailedPrecondition(
            "Báo cáo này gửi lên đơn vị cấp trên trong hệ thống, không gửi lên hệ thống báo cáo quốc gia"
        )
    if await session.get(SentOutside, assignment.id) is not None:
        raise AlreadyExists("Đã ghi nhận báo cáo này được gửi ngoài hệ thống")
    acknowledged = await session.scalar(
        select(RollupDelivery.report_version).where(
            RollupDelivery.assignment_id == assignment.id, RollupDelivery.status == Status.SENT.value
        )
    )
    if acknowledged is not None:
        raise FailedPrecondition(
            f"Hệ thống báo cáo quốc gia đã nhận báo cáo này qua hệ thống (phiên bản {acknowledged})"
        )
    mark = SentOutside(
        assignment_id=assignment.id,
        sent_on=day,
        channel=how,
        reference=ref,
        note=text or "",
        recorded_by=actor.username,
        recorded_at=datetime.now(UTC),
    )
    session.add(mark)
    stopped = list(
        await session.scalars(
            select(RollupDelivery)
            .where(RollupDelivery.assignment_id == assignment.id, RollupDelivery.status.in_(NOT_ACKNOWLEDGED))
            .with_for_update()
        )
    )
    for delivery in stopped:
        delivery.status = Status.SENT_OUTSIDE.value
        delivery.next_attempt_at = None
    _audit(
        session,
        actor,
        assignment,
        "sent_outside",
        f"Đã gửi ngoài hệ thống ngày {day.isoformat()} qua {how}, số/ký hiệu {ref}" + (f": {text}" if text else ""),
    )
    return mark, stopped
