"""Periods, assignments and the report workflow (R-REP-2, R-REP-3).

Every step locks the rows it depends on before it reads their state: the report itself, and first
the report above it when the step depends on that one's state (reopening needs the level above
not to have approved yet). Approving a report locks it and then reads those below it, which must
all be approved; reopening one of those below locks the report above first. So two steps that
could contradict each other take turns, and the second sees what the first left: it is refused
(FAILED_PRECONDITION, HTTP 409) naming the state it found."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.reports.v1 import events_pb2, workflow_pb2
from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.days import VIETNAM
from qlcb_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.personnel_rules import short_text
from qlcb_common.tiers import TIER_NAMES
from qlcb_common.working_days import WorkingCalendar
from qlcb_reports.audit import holders
from qlcb_reports.audit.models import ReportTransition
from qlcb_reports.headcount.models import UnitNode, in_subtree
from qlcb_reports.regimes import periods
from qlcb_reports.regimes import service as regimes
from qlcb_reports.regimes.indicators import check_values, consolidated
from qlcb_reports.regimes.models import ReportRegime
from qlcb_reports.rollup import service as rollup
from qlcb_reports.signing.service import Signing
from qlcb_reports.signing.signed_reports import sign_submission
from qlcb_reports.statistics import reads
from qlcb_reports.workflow.messages import assignment_to_proto, period_to_proto, transition_to_proto
from qlcb_reports.workflow.models import Assignment, ReportPeriod
from qlcb_reports.workflow.states import RULES, STEP_LABELS, NotAllowed, Role, State, Step, locked, next_state

MAX_REASON = 2000
MAX_EXCEPTION_DAYS = 90
MAX_VALUES_JSON = 2_000_000


@dataclass(frozen=True)
class Caller:
    """Who calls, with what the checks need."""

    actor: Principal
    delegations: Sequence[Delegation]
    outbox: Outbox
    working: WorkingCalendar
    signing: Signing


def is_locked(assignment: Assignment, today: date) -> bool:
    return locked(
        deadline_passed=today > assignment.deadline,
        exception_open=assignment.reopened_until is not None and today <= assignment.reopened_until,
        correction_open=assignment.correction_open,
    )


def as_proto(assignment: Assignment, period_key: str, today: date | None = None) -> workflow_pb2.Assignment:
    return assignment_to_proto(assignment, period_key, locked=is_locked(assignment, today or periods.today()))


# ---- periods and assignments ----------------------------------------------------------------------


async def open_period(
    session: AsyncSession,
    *,
    caller: Caller,
    regime_id: str,
    period: str,
    starts_on: str = "",
    ends_on: str = "",
    deadline: str = "",
) -> tuple[ReportPeriod, int]:
    """Opens a period and assigns it to every unit concerned, in the caller's transaction."""
    regime = await regimes.regime_for(session, caller.actor, regime_id, for_update=True)
    issuer = await regimes.issuer_of(session, regime)
    authz.require(caller.actor, Section.REPORT_REGIMES, Action.CREATE, issuer.path, delegations=caller.delegations)
    today = periods.today()
    if regime.kind == "periodic":
        rule = periods.DeadlineRule(regime.cutoff_day, regime.deadline_days, regime.deadline_counting)
        dates = periods.periodic(regime.frequency, period, rule, caller.working, now=today)
    else:
        dates = periods.given(period, starts_on, ends_on, deadline, now=today)
    return await open_dates(
        session,
        regime=regime,
        issuer=issuer,
        dates=dates,
        outbox=caller.outbox,
        opened_by=caller.actor.username,
        actor=caller.actor.subject,
    )


async def open_dates(
    session: AsyncSession,
    *,
    regime: ReportRegime,
    issuer: UnitNode,
    dates: periods.PeriodDates,
    outbox: Outbox,
    opened_by: str,
    actor: str,
) -> tuple[ReportPeriod, int]:
    """Opens the period of these dates, checked already, with its assignments and its event, in the
    session's transaction; ALREADY_EXISTS if the regime has a period of that key. The regime row is
    locked by the caller, so two openings of one period take turns and the second is refused."""
    if await session.scalar(
        select(ReportPeriod.id).where(ReportPeriod.regime_id == regime.id, ReportPeriod.key == dates.key)
    ):
        raise AlreadyExists(f"Kỳ báo cáo {dates.key} của chế độ {regime.code} đã được mở")
    opened = ReportPeriod(
        id=str(uuid.uuid4()),
        regime_id=regime.id,
        key=dates.key,
        starts_on=dates.starts_on,
        ends_on=dates.ends_on,
        deadline=dates.deadline,
        template_version=regime.current_version,
        opened_at=datetime.now(UTC),
        opened_by=opened_by,
    )
    session.add(opened)
    await session.flush()
    rows = await _assignments(session, regime, issuer, opened)
    if rows:
        await session.execute(insert(Assignment), rows)
    await outbox.add(
        session,
        subject=subjects.REPORTS_PERIOD_OPENED,
        payload=events_pb2.PeriodOpened(regime_code=regime.code, period=period_to_proto(opened), assignments=len(rows)),
        actor=actor,
    )
    return opened, len(rows)


async def list_periods(session: AsyncSession, *, caller: Caller, regime_id: str) -> list[ReportPeriod]:
    regime = await regimes.regime_for(session, caller.actor, regime_id)
    found = await session.scalars(
        select(ReportPeriod).where(ReportPeriod.regime_id == regime.id).order_by(ReportPeriod.ends_on.desc())
    )
    return list(found)


async def _assignments(
    session: AsyncSession, regime: ReportRegime, issuer: UnitNode, period: ReportPeriod
) -> list[dict[str, Any]]:
    """One row per unit concerned, in tree order; each approved by the nearest unit above it that
    is also concerned, else by the issuer."""
    query = select(UnitNode.unit_id, UnitNode.path, UnitNode.name, UnitNode.kind).where(
        in_subtree(issuer.path), UnitNode.path != issuer.path, UnitNode.dissolved_on.is_(None)
    )
    if regime.unit_kinds:
        query = query.where(UnitNode.kind.in_(regime.unit_kinds))
    levels = set(regime.unit_levels)
    assigned: dict[str, dict[str, Any]] = {}
    for unit_id, path, name, _kind in (await session.execute(query.order_by(UnitNode.path))).all():
        if levels and path.count("/") not in levels:
            continue
        parent = _nearest_above(path, assigned)
        assigned[path] = {
            "id": str(uuid.uuid4()),
            "period_id": period.id,
            "regime_id": regime.id,
            "unit_id": unit_id,
            "unit_path": path,
            "unit_name": name,
            "parent_id": parent["id"] if parent else None,
            "approver_unit_id": parent["unit_id"] if parent else issuer.unit_id,
            "approver_path": parent["unit_path"] if parent else issuer.path,
            "state": State.NOT_STARTED.value,
            "deadline": period.deadline,
            "template_version": period.template_version,
            "indicator_codes": [],
            "values": {},
            "version": 1,
            "correction_open": False,
        }
    return list(assigned.values())


def _nearest_above(path: str, assigned: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    parts = path.split("/")
    for end in range(len(parts) - 1, 1, -1):
        found = assigned.get("/".join(parts[:end]))
        if found is not None:
            return found
    return None


async def period_of(session: AsyncSession, period_id: str) -> ReportPeriod:
    found = await session.get(ReportPeriod, period_id) if period_id else None
    if found is None:
        raise NotFound(f"Không có kỳ báo cáo {period_id!r}")
    return found


async def list_assignments(
    session: AsyncSession, *, caller: Caller, period_id: str, unit_id: str
) -> tuple[ReportPeriod, list[Assignment]]:
    period = await period_of(session, period_id)
    query = select(Assignment).where(
        Assignment.period_id == period.id,
        authz.sql_scope(
            caller.actor, Section.REPORTS, Action.READ, Assignment.unit_path, delegations=caller.delegations
        ),
    )
    if unit_id:
        unit = await visible_unit(session, caller, unit_id)
        query = query.where(
            (Assignment.unit_path == unit.path) | Assignment.unit_path.startswith(unit.path + "/", autoescape=True)
        )
    return period, list(await session.scalars(query.order_by(Assignment.unit_path)))


async def note_export(
    session: AsyncSession, caller: Caller, period: ReportPeriod, unit_id: str, *, export_format: str, reports: int
) -> None:
    """Records for the audit trail that the period's reports of `unit_id` (a unit's own, or those in
    reach below it; none: below the regime's issuer) went out as a file, in the read's transaction."""
    regime = await session.get(ReportRegime, period.regime_id)
    assert regime is not None
    unit = await session.get(UnitNode, unit_id or regime.issuer_unit_id)
    if unit is None:
        raise NotFound(f"Không có đơn vị {unit_id!r}")
    await reads.note_reports(
        session,
        caller.outbox,
        actor=caller.actor,
        regime_code=regime.code,
        unit_id=unit.unit_id,
        unit_path=unit.path,
        data_end=period.ends_on,
        export_format=export_format,
        reports=reports,
    )


async def visible_unit(session: AsyncSession, caller: Caller, unit_id: str) -> UnitNode:
    unit = await session.get(UnitNode, unit_id)
    if unit is None:
        raise NotFound(f"Không có đơn vị {unit_id!r}")
    authz.require(caller.actor, Section.REPORTS, Action.READ, unit.path, delegations=caller.delegations)
    return unit


async def readable_assignment(session: AsyncSession, caller: Caller, assignment_id: str) -> Assignment:
    """The assignment if the caller may read its unit's reports."""
    return await _assignment(session, caller, assignment_id, for_update=False)


async def _assignment(session: AsyncSession, caller: Caller, assignment_id: str, *, for_update: bool) -> Assignment:
    """The assignment if the caller may read its unit's reports (PERMISSION_DENIED otherwise: a
    report is assigned to a unit, which is no secret, as a person's record would be)."""
    query = select(Assignment).where(Assignment.id == assignment_id)
    found = (await session.scalars(query.with_for_update() if for_update else query)).first()
    if found is None:
        raise NotFound(f"Không có báo cáo được giao {assignment_id!r}")
    authz.require(caller.actor, Section.REPORTS, Action.READ, found.unit_path, delegations=caller.delegations)
    return found


async def get_assignment(
    session: AsyncSession, *, caller: Caller, assignment_id: str
) -> tuple[Assignment, ReportPeriod, list[tuple[ReportTransition, str | None]]]:
    """The report, its period, and its steps oldest first, each with the holder of its account that day."""
    assignment = await _assignment(session, caller, assignment_id, for_update=False)
    history = await session.scalars(
        select(ReportTransition)
        .where(ReportTransition.assignment_id == assignment.id)
        .order_by(ReportTransition.occurred_at, ReportTransition.version)
    )
    named = [(row, await holder_of(session, row)) for row in history]
    return assignment, await period_of(session, assignment.period_id), named


async def holder_of(session: AsyncSession, row: ReportTransition) -> str | None:
    return await holders.named(session, row.holder_name, row.account, row.occurred_at)


# ---- the workflow ---------------------------------------------------------------------------------


async def _current_path(session: AsyncSession, unit_id: str, recorded: str) -> str:
    node = await session.get(UnitNode, unit_id)
    return node.path if node is not None else recorded


async def _require_role(session: AsyncSession, caller: Caller, assignment: Assignment, role: Role) -> None:
    """The unit itself (or a tier over it) writes and sends its report; the level above approves,
    returns and reopens it. Neither acts for the other."""
    if role is Role.SENDER:
        path = await _current_path(session, assignment.unit_id, assignment.unit_path)
        authz.require(caller.actor, Section.REPORTS, Action.UPDATE, path, delegations=caller.delegations)
    else:
        path = await _current_path(session, assignment.approver_unit_id, assignment.approver_path)
        authz.require(caller.actor, Section.REPORTS, Action.OPERATE, path, delegations=caller.delegations)
        if caller.actor.unit_path == await _current_path(session, assignment.unit_id, assignment.unit_path):
            raise PermissionDenied(
                "Không tự duyệt, trả lại hay mở lại báo cáo của chính đơn vị mình: đó là việc của cấp trên"
            )


async def person_behind(session: AsyncSession, caller: Caller) -> str | None:
    """The personal id of the civil servant behind the caller's account today: the record its token
    links (a personal account), else the holder of the purpose account as reports' copy of identity's
    holdings knows it; None if neither is known."""
    return authz.linked_personal_id(caller.actor) or await holders.personal_id_on(
        session, caller.actor.username, datetime.now(VIETNAM).date()
    )


async def _not_a_preparer(session: AsyncSession, caller: Caller, assignment: Assignment) -> None:
    """Four eyes: a tier over a unit may write and send the unit's report, and the same tier may
    approve for the level above; nobody approves figures they saved or sent, with this account or
    with another one they hold."""
    if assignment.submitted_by == caller.actor.username:
        raise PermissionDenied(
            "Tài khoản đã gửi báo cáo này không tự duyệt báo cáo mình gửi: cần một tài khoản khác của cấp trên duyệt"
        )
    if caller.actor.username in (assignment.prepared_by or ()):
        raise PermissionDenied(
            "Tài khoản đã lập số liệu của báo cáo này không tự duyệt số liệu mình lập: "
            "cần một tài khoản khác của cấp trên duyệt"
        )
    person = await person_behind(session, caller)
    if person is not None and person in (assignment.prepared_people or ()):
        raise PermissionDenied(
            "Người đã lập hoặc gửi số liệu của báo cáo này bằng một tài khoản khác không tự duyệt số liệu mình lập: "
            "cần một người khác của cấp trên duyệt"
        )


async def _prepared(session: AsyncSession, caller: Caller, assignment: Assignment) -> None:
    """The caller put figures into the report: its account, and the person behind it if known, are
    among those who may not approve them."""
    accounts = assignment.prepared_by or []
    if caller.actor.username not in accounts:
        assignment.prepared_by = [*accounts, caller.actor.username]
    people = assignment.prepared_people or []
    if (person := await person_behind(session, caller)) is not None and person not in people:
        assignment.prepared_people = [*people, person]


def _expect_version(assignment: Assignment, expected: int) -> None:
    if expected and expected != assignment.version:
        raise FailedPrecondition(
            f"Báo cáo đã thay đổi từ khi đọc (phiên bản {expected}, nay là {assignment.version}): hãy đọc lại"
        )


def _state_allows(assignment: Assignment, step: Step) -> State:
    try:
        return next_state(State(assignment.state), step)
    except NotAllowed as refused:
        raise FailedPrecondition(str(refused)) from None


def _not_locked(assignment: Assignment) -> None:
    if is_locked(assignment, periods.today()):
        raise FailedPrecondition(
            f"Đã quá hạn gửi báo cáo ({assignment.deadline.isoformat()}): cần đơn vị giao báo cáo mở khóa cho đơn vị"
        )


def _parse_values(values_json: str) -> object:
    if len(values_json) > MAX_VALUES_JSON:
        raise InvalidArgument.single("values", f"Số liệu quá lớn (tối đa {MAX_VALUES_JSON} ký tự JSON)")
    try:
        parsed: object = json.loads(values_json or "{}")
    except json.JSONDecodeError as error:
        raise InvalidArgument.single("values", f"Không phải JSON hợp lệ: {error.msg}") from None
    return parsed


async def _checked_values(
    session: AsyncSession, assignment: Assignment, values: object, *, complete: bool
) -> dict[str, Any]:
    _, indicators = await regimes.template(session, assignment.regime_id, assignment.template_version)
    stored, found = check_values(
        indicators, values, asked=assignment.indicator_codes, complete=complete, version=assignment.template_version
    )
    if found:
        raise InvalidArgument(found)
    return stored


async def _record(
    session: AsyncSession,
    caller: Caller,
    assignment: Assignment,
    *,
    action: str,
    from_state: str,
    reason: str = "",
) -> ReportTransition:
    now = datetime.now(UTC)
    row = ReportTransition(
        id=str(uuid.uuid4()),
        assignment_id=assignment.id,
        period_id=assignment.period_id,
        unit_path=assignment.unit_path,
        action=action,
        from_state=from_state,
        to_state=assignment.state,
        reason=reason,
        account=caller.actor.username,
        subject=caller.actor.subject,
        tiers=",".join(sorted(caller.actor.roles & TIER_NAMES)),
        occurred_at=now,
        version=assignment.version,
        holder_name=await holders.kept_for(session, caller.actor.username, now),
    )
    session.add(row)
    return row


async def _publish(
    session: AsyncSession, caller: Caller, assignment: Assignment, transition: ReportTransition, subject: str
) -> None:
    regime = await session.get(ReportRegime, assignment.regime_id)
    period = await period_of(session, assignment.period_id)
    await caller.outbox.add(
        session,
        subject=subject,
        payload=events_pb2.SubmissionChanged(
            regime_code=regime.code if regime else "",
            assignment=as_proto(assignment, period.key),
            transition=transition_to_proto(transition, await holder_of(session, transition)),
        ),
        actor=caller.actor.subject,
    )


async def save_draft(
    session: AsyncSession, *, caller: Caller, assignment_id: str, values_json: str, expected_version: int
) -> Assignment:
    assignment = await _assignment(session, caller, assignment_id, for_update=True)
    await _require_role(session, caller, assignment, Role.SENDER)
    _expect_version(assignment, expected_version)
    from_state = assignment.state
    target = _state_allows(assignment, Step.SAVE)
    _not_locked(assignment)
    assignment.values = await _checked_values(session, assignment, _parse_values(values_json), complete=False)
    await _prepared(session, caller, assignment)
    assignment.state = target.value
    assignment.version += 1
    await _record(session, caller, assignment, action=RULES[Step.SAVE].done, from_state=from_state)
    return assignment


def _reason(step: Step, reason: str) -> str:
    found: list[FieldViolation] = []
    text = short_text(reason, "reason", MAX_REASON, found)
    if not found and RULES[step].needs_reason and not text:
        found.append(FieldViolation("reason", f"Phải nêu lý do khi {STEP_LABELS[step]} báo cáo"))
    if found:
        raise InvalidArgument(found)
    return text or ""


def _iso_day(value: str, field: str, found: list[FieldViolation]) -> date | None:
    if len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    found.append(FieldViolation(field, "Ngày phải theo dạng YYYY-MM-DD"))
    return None


async def transition(
    session: AsyncSession, *, caller: Caller, assignment_id: str, action: str, reason: str, expected_version: int
) -> tuple[Assignment, ReportTransition]:
    try:
        step = Step(action)
    except ValueError:
        raise InvalidArgument.single(
            "action", f"Thao tác phải là một trong {[s.value for s in Step if s is not Step.SAVE]}"
        ) from None
    if step is Step.SAVE:
        raise InvalidArgument.single("action", "Lưu số liệu dùng thao tác lưu bản nháp")
    rule = RULES[step]
    text = _reason(step, reason)
    parent: Assignment | None = None
    if step is Step.REOPEN:
        # The level above first, then this one: the order every step that reads both locks them in.
        parent_id = await session.scalar(select(Assignment.parent_id).where(Assignment.id == assignment_id))
        if parent_id:
            parent = (
                await session.scalars(select(Assignment).where(Assignment.id == parent_id).with_for_update())
            ).first()
    assignment = await _assignment(session, caller, assignment_id, for_update=True)
    await _require_role(session, caller, assignment, rule.role)
    _expect_version(assignment, expected_version)
    from_state = assignment.state
    target = _state_allows(assignment, step)
    now = datetime.now(UTC)
    if step is Step.SUBMIT:
        _not_locked(assignment)
        assignment.values = await _checked_values(session, assignment, assignment.values, complete=True)
        assignment.submitted_at = now
        assignment.submitted_by = caller.actor.username
        await _prepared(session, caller, assignment)
        if assignment.first_submitted_at is None:
            assignment.first_submitted_at = now
            sent_on = assignment.sent_otherwise_on or now.astimezone(VIETNAM).date()
            assignment.on_time = sent_on <= assignment.deadline
        assignment.correction_open = False
        assignment.returned_reason = None
    elif step is Step.RECALL:
        _not_locked(assignment)
    elif step is Step.APPROVE:
        await _not_a_preparer(session, caller, assignment)
        await _children_approved(session, assignment)
        assignment.approved_at = now
        assignment.approved_by = caller.actor.username
    elif step in (Step.RETURN, Step.REOPEN):
        if parent is not None and parent.state == State.APPROVED:
            raise FailedPrecondition(
                f"Cấp trên ({parent.unit_name}) đã duyệt báo cáo của mình: không thể mở lại báo cáo đã duyệt"
            )
        assignment.approved_at = None
        assignment.approved_by = None
        assignment.returned_reason = text
        assignment.correction_open = True
    assignment.state = target.value
    assignment.version += 1
    if step is Step.SUBMIT:
        # The signed PDF is of the version the step makes, in the step's transaction: no submission
        # without its signature, no signature of a submission that did not happen.
        await sign_submission(session, caller.signing, assignment, actor=caller.actor.username)
    row = await _record(session, caller, assignment, action=rule.done, from_state=from_state, reason=text)
    await _publish(session, caller, assignment, row, f"qlcb.reports.submission.{rule.done}")
    # A top-level report goes on to the national report system (R-REP-5): in this transaction.
    if step is Step.APPROVE:
        await rollup.approved(session, assignment)
    elif step is Step.REOPEN:
        await rollup.reopened(session, assignment)
    return assignment, row


async def _children_approved(session: AsyncSession, assignment: Assignment) -> None:
    """DHIS2's rule, and ours: a report is approved only once every report assigned below it is."""
    waiting = list(
        await session.scalars(
            select(Assignment.unit_name)
            .where(Assignment.parent_id == assignment.id, Assignment.state != State.APPROVED.value)
            .order_by(Assignment.unit_path)
            .with_for_update()
        )
    )
    if waiting:
        raise FailedPrecondition(
            f"Chưa duyệt được: {len(waiting)} báo cáo của đơn vị cấp dưới chưa được duyệt ({', '.join(waiting[:10])})"
        )


# ---- sub-assignment, consolidation, lock exceptions ----------------------------------------------


async def sub_assign(
    session: AsyncSession,
    *,
    caller: Caller,
    assignment_id: str,
    unit_ids: Sequence[str],
    indicator_codes: Sequence[str],
    deadline: str,
) -> list[Assignment]:
    parent = await _assignment(session, caller, assignment_id, for_update=True)
    await _require_role(session, caller, parent, Role.SENDER)
    _state_allows(parent, Step.SAVE)
    _, indicators = await regimes.template(session, parent.regime_id, parent.template_version)
    asked = set(parent.indicator_codes) or {i.code for i in indicators}
    found: list[FieldViolation] = []
    if not unit_ids:
        found.append(FieldViolation("unit_ids", "Phải nêu ít nhất một đơn vị cấp dưới"))
    units: list[UnitNode] = []
    named: set[str] = set()
    for index, unit_id in enumerate(unit_ids):
        if unit_id in named:
            found.append(FieldViolation(f"unit_ids[{index}]", "Đơn vị đã nêu ở trên"))
            continue
        named.add(unit_id)
        unit = await session.get(UnitNode, unit_id)
        if unit is None or unit.dissolved_on is not None:
            found.append(FieldViolation(f"unit_ids[{index}]", "Không có đơn vị này (hoặc đã giải thể)"))
        elif not unit.path.startswith(parent.unit_path + "/"):
            found.append(FieldViolation(f"unit_ids[{index}]", f"Không phải đơn vị cấp dưới của {parent.unit_name}"))
        else:
            units.append(unit)
    for index, code in enumerate(indicator_codes):
        if code not in asked:
            found.append(
                FieldViolation(f"indicator_codes[{index}]", "Chỉ tiêu không có trong báo cáo được giao cho đơn vị")
            )
    due: date | None = parent.deadline
    if deadline:
        due = _iso_day(deadline, "deadline", found)
        if due is None:
            pass
        elif due > parent.deadline:
            found.append(FieldViolation("deadline", f"Không muộn hơn hạn của đơn vị ({parent.deadline.isoformat()})"))
        elif due < periods.today():
            found.append(FieldViolation("deadline", "Hạn đã qua"))
    if found or due is None:
        raise InvalidArgument(found)
    taken = list(
        await session.scalars(
            select(Assignment.unit_name).where(
                Assignment.period_id == parent.period_id, Assignment.unit_id.in_([u.unit_id for u in units])
            )
        )
    )
    if taken:
        raise AlreadyExists(f"Đã giao báo cáo kỳ này cho: {', '.join(sorted(taken))}")
    created = [
        Assignment(
            id=str(uuid.uuid4()),
            period_id=parent.period_id,
            regime_id=parent.regime_id,
            unit_id=unit.unit_id,
            unit_path=unit.path,
            unit_name=unit.name,
            parent_id=parent.id,
            approver_unit_id=parent.unit_id,
            approver_path=parent.unit_path,
            state=State.NOT_STARTED.value,
            deadline=due,
            template_version=parent.template_version,
            indicator_codes=sorted(set(indicator_codes) or asked),
            values={},
            version=1,
            correction_open=False,
        )
        for unit in units
    ]
    session.add_all(created)
    parent.version += 1
    names = ", ".join(u.name for u in units)
    await _record(session, caller, parent, action="sub_assigned", from_state=parent.state, reason=f"Giao cho: {names}")
    return created


async def consolidate(session: AsyncSession, *, caller: Caller, assignment_id: str) -> Assignment:
    assignment = await _assignment(session, caller, assignment_id, for_update=True)
    await _require_role(session, caller, assignment, Role.SENDER)
    from_state = assignment.state
    target = _state_allows(assignment, Step.SAVE)
    _not_locked(assignment)
    # The sub-units' table rows follow one another in the order of their names, the same each time.
    children = list(
        await session.scalars(
            select(Assignment)
            .where(Assignment.parent_id == assignment.id)
            .order_by(Assignment.unit_name, Assignment.unit_path)
        )
    )
    approved = [c for c in children if c.state == State.APPROVED.value]
    if not approved:
        raise FailedPrecondition("Chưa có báo cáo nào của đơn vị cấp dưới được duyệt để tổng hợp")
    _, indicators = await regimes.template(session, assignment.regime_id, assignment.template_version)
    codes = sorted({code for c in approved for code in c.indicator_codes})
    merged = consolidated(indicators, codes, [c.values for c in approved])
    assignment.values = await _checked_values(session, assignment, {**assignment.values, **merged}, complete=False)
    await _prepared(session, caller, assignment)
    assignment.state = target.value
    assignment.version += 1
    await _record(
        session,
        caller,
        assignment,
        action="consolidated",
        from_state=from_state,
        reason=f"Tổng hợp {len(approved)}/{len(children)} báo cáo đã duyệt của đơn vị cấp dưới",
    )
    return assignment


async def grant_lock_exception(
    session: AsyncSession,
    *,
    caller: Caller,
    assignment_id: str,
    until: str,
    reason: str,
    sent_otherwise_on: str = "",
) -> Assignment:
    """DHIS2's lock exception: the issuer reopens one unit's report of one period after the
    deadline, until a day it names, with a reason that the audit keeps. After an outage (004 Điều
    9.4) it also names the day the unit sent the report otherwise, from which its first sending
    here is counted on time or late."""
    assignment = await _assignment(session, caller, assignment_id, for_update=True)
    regime = await session.get(ReportRegime, assignment.regime_id)
    assert regime is not None
    issuer = await regimes.issuer_of(session, regime)
    authz.require(caller.actor, Section.REPORT_REGIMES, Action.UPDATE, issuer.path, delegations=caller.delegations)
    found: list[FieldViolation] = []
    today = periods.today()
    day = _iso_day(until, "until", found)
    if day is not None and not today <= day <= today + timedelta(days=MAX_EXCEPTION_DAYS):
        found.append(FieldViolation("until", f"Từ hôm nay đến {MAX_EXCEPTION_DAYS} ngày sau"))
    text = short_text(reason, "reason", MAX_REASON, found, required=True)
    sent_on = _iso_day(sent_otherwise_on, "sent_otherwise_on", found) if sent_otherwise_on else None
    if sent_on is not None and sent_on > today:
        found.append(FieldViolation("sent_otherwise_on", "Ngày gửi bằng cách khác không được sau hôm nay"))
    if found or day is None:
        raise InvalidArgument(found)
    if assignment.state not in (State.NOT_STARTED, State.DRAFT, State.RETURNED):
        raise FailedPrecondition(f"Báo cáo đã gửi ({assignment.state}): không cần mở khóa")
    if today <= assignment.deadline:
        raise FailedPrecondition(f"Chưa quá hạn ({assignment.deadline.isoformat()}): báo cáo chưa bị khóa")
    assignment.reopened_until = day
    if sent_on is not None and assignment.first_submitted_at is None:
        assignment.sent_otherwise_on = sent_on
    assignment.version += 1
    row = await _record(
        session,
        caller,
        assignment,
        action="unlocked",
        from_state=assignment.state,
        reason=f"{text} (đến {day.isoformat()}"
        + (f"; đã gửi bằng cách khác ngày {sent_on.isoformat()})" if sent_on else ")"),
    )
    await _publish(session, caller, assignment, row, subjects.REPORTS_ASSIGNMENT_UNLOCKED)
    return assignment
