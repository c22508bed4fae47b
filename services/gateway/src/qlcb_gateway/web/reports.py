"""The reports (R-REP-2, R-REP-3): the regimes and their periods; a period's reports in the caller's
reach with their state, and its completeness; one unit's report with its values as a form, the
steps of sending and approving it (save, send, recall; return, approve, reopen with a reason) and
their log. Every step is sent to reports at the version the page showed, as the REST routes send
it; reports decides who may take it, and a step or value it refuses is said on the page."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import Delegation, may_at_all, permits
from qlcb_common.days import VIETNAM
from qlcb_gateway.errors import field_violations
from qlcb_gateway.routes.organisation import list_units
from qlcb_gateway.routes.report_regimes import (
    IndicatorPublic,
    PeriodPublic,
    RegimePublic,
    get_regime,
    list_periods,
    list_regimes,
)
from qlcb_gateway.routes.report_workflow import (
    AssignmentDetail,
    AssignmentPublic,
    CompletenessFigures,
    CompletenessReport,
    LockException,
    StepBody,
    SubAssign,
    ValuesSave,
    completeness,
    consolidate,
    get_assignment,
    list_assignments,
    lock_exception,
    report_step,
    save_values,
    sub_assign,
    waiting_reports,
)
from qlcb_gateway.web.entry_form import FormField, checked, refusal_faults, refused
from qlcb_gateway.web.pages import (
    Visit,
    backends_of,
    delegations_of,
    error_page,
    form_version,
    posted_form,
    render,
    signed_in,
    unit_in_reach,
)
from qlcb_gateway.web.report_units import SubAssignForm, lock_exception_fields, read_sub_assign, sub_assign_form
from qlcb_gateway.web.report_values import ValuesForm, placed, read_values, values_form
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.statistics import GEOMETRY, Bar, bars_of
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

STATE_LABELS = {
    "not_started": "Chưa gửi",
    "draft": "Đang soạn",
    "submitted": "Đã gửi, chờ duyệt",
    "returned": "Bị trả lại",
    "approved": "Đã duyệt",
}
STEP_LABELS = {
    "saved": "Lưu số liệu",
    "submitted": "Gửi",
    "recalled": "Thu hồi",
    "returned": "Trả lại",
    "approved": "Duyệt",
    "reopened": "Mở lại",
}
KIND_LABELS = {
    "periodic": "Định kỳ",
    "central": "Của Bộ, ngành Trung ương",
    "thematic": "Chuyên đề",
    "ad_hoc": "Đột xuất",
}
FREQUENCY_LABELS = {"month": "hằng tháng", "quarter": "hằng quý", "half_year": "6 tháng", "year": "hằng năm"}
NOT_SENT = ("not_started", "draft", "returned")
PERIODS_SHOWN = 6
"""The newest periods of each regime the reports page lists; the regime's page lists them all."""
REASON_MAX = 2000
STEPS = ("recall", "return", "approve", "reopen")
NEEDS_REASON = ("return", "reopen")


@dataclass(frozen=True)
class ListedRegime:
    regime: RegimePublic
    kind: str
    periods: list[PeriodPublic]


def regime_kind(regime: RegimePublic) -> str:
    kind = KIND_LABELS.get(regime.kind, regime.kind)
    return f"{kind}, {FREQUENCY_LABELS[regime.frequency]}" if regime.frequency in FREQUENCY_LABELS else kind


async def _none() -> list[Delegation]:
    return []


@router.get("/reports", name="web_reports")
async def reports(request: Request) -> Response:
    """The regimes newest first, each with its newest periods."""
    visit = await signed_in(request)
    backends = backends_of(request)
    by_tier = may_at_all(visit.principal, Section.REPORT_REGIMES, Action.CREATE)
    # A delegation may also open the form: identity is asked beside the regimes, and only when the tier does not.
    regimes, delegations = await asyncio.gather(
        list_regimes(visit.principal, backends), delegations_of(request, visit) if not by_tier else _none()
    )
    periods = await asyncio.gather(*(list_periods(r.id, visit.principal, backends) for r in regimes))
    listed = [ListedRegime(r, regime_kind(r), found) for r, found in zip(regimes, periods, strict=True)]
    issues = by_tier or may_at_all(visit.principal, Section.REPORT_REGIMES, Action.CREATE, delegations)
    context = {"regimes": listed, "shown": PERIODS_SHOWN, "issues_regimes": issues}
    return render(request, visit, "reports.html", context)


@dataclass(frozen=True)
class ListedReport:
    assignment: AssignmentPublic
    depth: int
    state: str
    late: bool  # not sent and past its deadline, or first sent after it


def _late(assignment: AssignmentPublic, today: date) -> bool:
    """Not sent and past its deadline, or first sent on a later day in Vietnam (as reports counts it)."""
    if assignment.first_submitted_at is not None:
        return assignment.first_submitted_at.astimezone(VIETNAM).date() > assignment.deadline
    return today > assignment.deadline


@router.get("/report-periods/{period_id}", name="web_report_period")
async def period(request: Request, period_id: str, unit: str = "") -> Response:
    """A period's reports in the caller's reach (with `unit`: that unit's tree), in tree order, and
    how complete and timely they are; completeness is left out where reports refuses it."""
    visit = await signed_in(request)
    backends = backends_of(request)
    unit_id = unit if len(unit) <= 36 else ""
    listed = await list_assignments(period_id, visit.principal, backends, unit_id=unit_id)

    async def figures() -> CompletenessReport | None:
        try:
            return await completeness(period_id, visit.principal, backends, unit_id=unit_id)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND):
                return None
            raise

    found, report = await asyncio.gather(get_regime(listed.period.regime_id, visit.principal, backends), figures())
    top = min((a.unit_path.count("/") for a in listed.items), default=0)
    today = datetime.now(VIETNAM).date()
    rows = [
        ListedReport(a, a.unit_path.count("/") - top, STATE_LABELS.get(a.state, a.state), _late(a, today))
        for a in listed.items
    ]
    context = {"period": listed.period, "regime": found, "rows": rows, "completeness": report, "unit_id": unit_id}
    charts = {"states": state_bars(rows), "rates": rate_bars(report.total) if report else [], "geometry": GEOMETRY}
    return render(request, visit, "report_period.html", context | charts)


def state_bars(rows: list[ListedReport]) -> list[Bar]:
    """How many of the reports listed are in each state, in the workflow's order, and how many late."""
    counted = Counter(row.assignment.state for row in rows)
    drawn = [(label, counted[state], str(counted[state])) for state, label in STATE_LABELS.items()]
    late = sum(row.late for row in rows)
    drawn.append(("Quá hạn", late, str(late)))
    return bars_of(drawn, max((value for _label, value, _shown in drawn), default=0))


def rate_bars(total: CompletenessFigures) -> list[Bar]:
    """The period's rates of reports sent, sent on time and approved, out of those expected (%)."""
    rates = (("Đã gửi", total.submitted_rate), ("Gửi đúng hạn", total.on_time_rate), ("Đã duyệt", total.approved_rate))
    drawn = [(label, round(rate * 100), f"{round(rate * 100, 1):g}".replace(".", ",") + "%") for label, rate in rates]
    return bars_of(drawn, 100)


WAITING_SHOWN = 200


@router.get("/report-waiting", name="web_report_waiting")
async def waiting(request: Request) -> Response:
    """The reports waiting for the caller over every period: to send, soonest deadline first; to
    approve, oldest sent first (the first 200 of each, with the totals)."""
    visit = await signed_in(request)
    backends = backends_of(request)
    found = await waiting_reports(visit.principal, backends, limit=WAITING_SHOWN)
    try:
        names = {r.id: r.name for r in await list_regimes(visit.principal, backends)}
    except grpc.aio.AioRpcError as exc:
        if exc.code() is not grpc.StatusCode.PERMISSION_DENIED:
            raise
        names = {}
    today = datetime.now(VIETNAM).date()

    def listed(items: list[AssignmentPublic]) -> list[tuple[ListedReport, str]]:
        return [
            (ListedReport(a, 0, STATE_LABELS.get(a.state, a.state), _late(a, today)), names.get(a.regime_id, ""))
            for a in items
        ]

    context = {"to_send": listed(found.to_send), "to_approve": listed(found.to_approve), "found": found}
    return render(request, visit, "report_waiting.html", context)


@dataclass(frozen=True)
class Offered:
    """What the report's page offers the caller (reports decides again on every step)."""

    write: bool  # save and send: the unit's own side
    recall: bool
    decide: bool  # return and approve: the level above
    approve: bool  # and not the account that sent it
    reopen: bool
    unlock: bool = False  # a lock exception: the regime's issuer, for a late report not sent


async def _offered(
    request: Request, visit: Visit, assignment: AssignmentPublic, regime: RegimePublic | None = None
) -> Offered:
    """The unit's side writes its report (reports' update right over the unit); the level above, not
    the unit itself, approves, returns and reopens it (the operate right over the approving unit),
    and no account that saved, consolidated or sent its figures approves them;
    the unit that issued the regime unlocks a late report (its right over the regimes there)."""
    own = permits(visit.principal, Section.REPORTS, Action.UPDATE, assignment.unit_path)
    above = issuer = False
    if visit.principal.unit_path != assignment.unit_path:
        approver = await unit_in_reach(request, visit, assignment.approver_unit_id)
        above = approver is not None and permits(visit.principal, Section.REPORTS, Action.OPERATE, approver.path)
    if regime is not None and assignment.locked and assignment.state in NOT_SENT:
        issuing = await unit_in_reach(request, visit, regime.issuer_unit_id)
        issuer = issuing is not None and permits(visit.principal, Section.REPORT_REGIMES, Action.UPDATE, issuing.path)
    return Offered(
        write=own and assignment.state in NOT_SENT and not assignment.locked,
        recall=own and assignment.state == "submitted" and not assignment.locked,
        decide=above and assignment.state == "submitted",
        approve=above
        and assignment.state == "submitted"
        and visit.principal.username not in {assignment.submitted_by, *assignment.prepared_by},
        reopen=above and assignment.state == "approved",
        unlock=issuer,
    )


def _indicators(found: RegimePublic, version: int) -> list[IndicatorPublic]:
    template = next((t for t in found.templates if t.version == version), None)
    return template.indicators if template is not None else []


async def _page(
    request: Request,
    visit: Visit,
    detail: AssignmentDetail,
    *,
    form: ValuesForm | None = None,
    faults: list[str] | None = None,
    reason_error: str = "",
    handing: SubAssignForm | None = None,
    unlocking: list[FormField] | None = None,
    status_code: int = 200,
) -> Response:
    assignment = detail.assignment
    backends = backends_of(request)
    found, children, units = await asyncio.gather(
        get_regime(assignment.regime_id, visit.principal, backends),
        _children(request, visit, assignment),
        list_units(visit.principal, backends),
    )
    offered = await _offered(request, visit, assignment, found)
    indicators = _indicators(found, assignment.template_version)
    asked = assignment.indicator_codes
    shown = [spec for spec in indicators if not asked or spec.code in asked]
    context = {
        "children": [(child, STATE_LABELS.get(child.state, child.state)) for child in children],
        "handing": handing or sub_assign_form(assignment, units, children, shown),
        "unlocking": unlocking or lock_exception_fields(),
        "assignment": assignment,
        "regime": found,
        "state": STATE_LABELS.get(assignment.state, assignment.state),
        "indicators": shown,
        "values": assignment.values,
        "form": form or values_form(indicators, asked, assignment.values),
        "offered": offered,
        "transitions": [(t, STEP_LABELS.get(t.action, t.action)) for t in detail.transitions],
        "faults": faults or [],
        "reason_error": reason_error,
        "reason_max": REASON_MAX,
        "saved": request.query_params.get("saved") == "1",
        "sent": request.query_params.get("sent") == "1",
        "handed": request.query_params.get("handed") == "1",
        "consolidated": request.query_params.get("consolidated") == "1",
        "unlocked": request.query_params.get("unlocked") == "1",
    }
    return render(request, visit, "report.html", context, status_code=status_code)


async def _children(request: Request, visit: Visit, assignment: AssignmentPublic) -> list[AssignmentPublic]:
    """The reports handed down from this one, those in the caller's reach (none if it lists none)."""
    try:
        period = await list_assignments(
            assignment.period_id, visit.principal, backends_of(request), unit_id=assignment.unit_id
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() not in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND):
            raise
        return []
    return [a for a in period.items if a.parent_assignment_id == assignment.id]


async def _detail(request: Request, visit: Visit, assignment_id: str) -> AssignmentDetail:
    return await get_assignment(assignment_id, visit.principal, backends_of(request))


@router.get("/report-assignments/{assignment_id}", name="web_report")
async def report(request: Request, assignment_id: str) -> Response:
    visit = await signed_in(request)
    return await _page(request, visit, await _detail(request, visit, assignment_id))


def _refusal(exc: grpc.aio.AioRpcError) -> int | None:
    """The page's status for a refusal it shows in place, None for one it does not."""
    return {
        grpc.StatusCode.INVALID_ARGUMENT: 422,
        grpc.StatusCode.FAILED_PRECONDITION: 409,
        grpc.StatusCode.ABORTED: 409,
    }.get(exc.code())


@router.post("/report-assignments/{assignment_id}/values", name="web_report_values")
async def save(request: Request, assignment_id: str) -> Response:
    """Saves the values at the version the page showed; with `then=submit`, sends the report once
    saved. A value typed wrong is said next to its input and nothing is saved; one reports refuses
    likewise; a report changed since (another officer, or this form sent twice) is said on the page
    (409) with the report as it now stands."""
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    version = form_version(sent)
    if not version:
        return error_page(request, 400, "Biểu mẫu không đúng", "Thiếu phiên bản của báo cáo đang sửa.")
    detail = await _detail(request, visit, assignment_id)
    backends = backends_of(request)
    found = await get_regime(detail.assignment.regime_id, visit.principal, backends)
    indicators = _indicators(found, detail.assignment.template_version)
    form, values = read_values(indicators, detail.assignment.indicator_codes, sent)
    if values is None:
        return await _page(request, visit, detail, form=form, status_code=422)
    try:
        saved = await save_values(
            assignment_id, ValuesSave(values=values, expected_version=version), visit.principal, backends
        )
        if sent.get("then") == "submit":
            await report_step(
                "submit", assignment_id, StepBody(expected_version=saved.version), visit.principal, backends
            )
    except grpc.aio.AioRpcError as exc:
        status_code = _refusal(exc)
        if status_code is None:
            raise
        faults = [exc.details() or ""]
        if status_code == 422:
            faults = placed(form, field_violations(exc))
            if not faults and not form.faulty():
                faults = [exc.details() or ""]
        now = await _detail(request, visit, assignment_id)
        return await _page(request, visit, now, form=form, faults=faults, status_code=status_code)
    target = page_url(request, "web_report", assignment_id=assignment_id)
    done = {"sent": "1"} if sent.get("then") == "submit" else {"saved": "1"}
    return RedirectResponse(str(target.include_query_params(**done)), status_code=303)


@router.post("/report-assignments/{assignment_id}/sub-assignments", name="web_report_sub_assign")
async def hand_down(request: Request, assignment_id: str) -> Response:
    """Hands part of the report down to units below, which send theirs to this unit to approve."""
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    detail = await _detail(request, visit, assignment_id)
    backends = backends_of(request)
    found, children, units = await asyncio.gather(
        get_regime(detail.assignment.regime_id, visit.principal, backends),
        _children(request, visit, detail.assignment),
        list_units(visit.principal, backends),
    )
    asked = detail.assignment.indicator_codes
    shown = [s for s in _indicators(found, detail.assignment.template_version) if not asked or s.code in asked]
    handing = sub_assign_form(detail.assignment, units, children, shown)
    body = read_sub_assign(handing, sent)
    if body is None:
        return await _page(request, visit, detail, handing=handing, status_code=422)
    try:
        await sub_assign(assignment_id, SubAssign.model_validate(body), visit.principal, backends)
    except grpc.aio.AioRpcError as exc:
        status_code = _refusal(exc)
        if status_code is None:
            raise
        faults = refusal_faults([handing.deadline], exc)
        return await _page(request, visit, detail, handing=handing, faults=faults, status_code=status_code)
    target = page_url(request, "web_report", assignment_id=assignment_id).include_query_params(handed="1")
    return RedirectResponse(f"{target}#children", status_code=303)


@router.post("/report-assignments/{assignment_id}/consolidate", name="web_report_consolidate")
async def consolidated(request: Request, assignment_id: str) -> Response:
    """Adds up the approved reports of the units below into this one (numbers summed, table rows joined)."""
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    try:
        await consolidate(assignment_id, visit.principal, backends_of(request))
    except grpc.aio.AioRpcError as exc:
        status_code = _refusal(exc)
        if status_code is None:
            raise
        detail = await _detail(request, visit, assignment_id)
        return await _page(request, visit, detail, faults=[exc.details() or ""], status_code=status_code)
    target = page_url(request, "web_report", assignment_id=assignment_id).include_query_params(consolidated="1")
    return RedirectResponse(str(target), status_code=303)


@router.post("/report-assignments/{assignment_id}/lock-exception", name="web_report_unlock")
async def unlocked(request: Request, assignment_id: str) -> Response:
    """The regime's issuer reopens one unit's late report until a day, with its reason."""
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    fields = lock_exception_fields()
    given = checked(fields, sent)
    if given is None:
        detail = await _detail(request, visit, assignment_id)
        return await _page(request, visit, detail, unlocking=fields, status_code=422)
    try:
        sent_on = date.fromisoformat(given["sent_otherwise_on"]) if given.get("sent_otherwise_on") else None
        body = LockException(
            until=date.fromisoformat(given["until"]), reason=given["reason"], sent_otherwise_on=sent_on
        )
        await lock_exception(assignment_id, body, visit.principal, backends_of(request))
    except ValidationError:
        refused(fields, [("reason", "Có ký tự không dùng được")])
        detail = await _detail(request, visit, assignment_id)
        return await _page(request, visit, detail, unlocking=fields, status_code=422)
    except grpc.aio.AioRpcError as exc:
        status_code = _refusal(exc)
        if status_code is None:
            raise
        faults = refusal_faults(fields, exc)
        detail = await _detail(request, visit, assignment_id)
        return await _page(request, visit, detail, unlocking=fields, faults=faults, status_code=status_code)
    target = page_url(request, "web_report", assignment_id=assignment_id).include_query_params(unlocked="1")
    return RedirectResponse(str(target), status_code=303)


@router.post("/report-assignments/{assignment_id}/{step}", name="web_report_step")
async def step(request: Request, assignment_id: str, step: str) -> Response:
    """Recalls, returns (with a reason), approves or reopens (with a reason) the report at the
    version the page showed; a refusal (a reason missing, the state or version changed, the reports
    below not approved yet) is said on the page with the report as it now stands."""
    visit = await signed_in(request)
    if step not in STEPS:
        return error_page(request, 404)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    version = form_version(sent)
    if not version:
        return error_page(request, 400, "Biểu mẫu không đúng", "Thiếu phiên bản của báo cáo.")
    reason = sent.get("reason", "").strip()
    if step in NEEDS_REASON and not reason:
        detail = await _detail(request, visit, assignment_id)
        what = "trả lại" if step == "return" else "mở lại"
        return await _page(request, visit, detail, reason_error=f"Cần ghi lý do {what}", status_code=422)
    try:
        body = StepBody(reason=reason, expected_version=version)
    except ValidationError:
        detail = await _detail(request, visit, assignment_id)
        message = f"Lý do dài quá {REASON_MAX} ký tự hoặc có ký tự không dùng được"
        return await _page(request, visit, detail, reason_error=message, status_code=422)
    try:
        await report_step(step, assignment_id, body, visit.principal, backends_of(request))
    except grpc.aio.AioRpcError as exc:
        # A step refused to one who may read the report (an approver who prepared its figures with
        # another account) is said on its page; one who may not read it gets the error page.
        status_code = 403 if exc.code() is grpc.StatusCode.PERMISSION_DENIED else _refusal(exc)
        if status_code is None:
            raise
        detail = await _detail(request, visit, assignment_id)
        return await _page(request, visit, detail, faults=[exc.details() or ""], status_code=status_code)
    return RedirectResponse(str(page_url(request, "web_report", assignment_id=assignment_id)), status_code=303)
