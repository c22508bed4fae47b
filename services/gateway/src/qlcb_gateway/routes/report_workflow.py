"""The report workflow (R-REP-3): a period's assignments, one unit's report with its values and
history, the steps of sending and approving it, sub-assignment and consolidation, lock exceptions,
and completeness; forwarded to reports' `ReportAssignmentService` and `ReportSubmissionService`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from qlcb.reports.v1 import workflow_pb2
from qlcb_common.days import IsoDay
from qlcb_common.text import SingleLineText
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.routes.report_regimes import PeriodPublic, _dict, period_public

router = APIRouter(prefix="/v1", tags=["Báo cáo"])

AssignmentId = Annotated[str, Path(description="Báo cáo được giao (một đơn vị, một kỳ)")]
PeriodId = Annotated[str, Path(description="Kỳ báo cáo")]
UnitFilter = Annotated[str, Query(max_length=36, description="Cây của đơn vị này; mặc định: đơn vị ban hành")]
NO_ASSIGNMENT: dict[int | str, dict[str, Any]] = {
    404: {"description": "No report `assignment_id` within the caller's reach"}
}
REFUSED_STEP: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "The report's state does not allow the step (the message names the state), it changed "
        "since `expected_version`, the deadline has locked it, or reports below it are not approved yet"
    }
}


class AssignmentPublic(BaseModel):
    id: str
    period_id: str
    regime_id: str
    period_key: str
    unit_id: str
    unit_name: str
    unit_path: str
    parent_assignment_id: str | None = Field(description="Báo cáo của đơn vị cấp trên duyệt báo cáo này")
    approver_unit_id: str = Field(description="Đơn vị duyệt: cấp trên được giao, hoặc đơn vị ban hành")
    state: str = Field(description="not_started, draft, submitted, returned, approved")
    deadline: IsoDay
    template_version: int
    indicator_codes: list[str] = Field(description="Chỉ tiêu được giao; rỗng: mọi chỉ tiêu của mẫu")
    values: dict[str, Any]
    version: int
    first_submitted_at: datetime | None
    submitted_at: datetime | None
    submitted_by: str | None = Field(description="Tài khoản đã gửi lần gửi này: tài khoản ấy không tự duyệt")
    prepared_by: list[str] = Field(
        description="Các tài khoản đã lưu, tổng hợp hoặc gửi số liệu của báo cáo: không tài khoản nào trong đó tự duyệt"
    )
    approved_at: datetime | None
    approved_by: str | None
    returned_reason: str | None
    locked: bool = Field(description="Quá hạn, chưa được mở khóa: không gửi được")
    reopened_until: IsoDay | None
    sent_otherwise_on: IsoDay | None = Field(description="Ngày đã gửi bằng cách khác khi hệ thống gián đoạn")


class TransitionPublic(BaseModel):
    action: str
    from_state: str
    to_state: str
    reason: str
    account: str
    holder_name: str | None = Field(description="Người giữ tài khoản theo mục đích tại thời điểm đó")
    occurred_at: datetime
    version: int


class AssignmentDetail(BaseModel):
    assignment: AssignmentPublic
    transitions: list[TransitionPublic] = Field(description="Nhật ký các bước, cũ nhất trước")


class AssignmentList(BaseModel):
    period: PeriodPublic
    items: list[AssignmentPublic]


class ValuesSave(BaseModel):
    values: dict[str, Any] = Field(description="Mã chỉ tiêu → giá trị; bảng: danh sách dòng (mã cột → giá trị)")
    expected_version: int | None = Field(default=None, ge=1, le=2**63 - 1, description="Phiên bản đã đọc")


class StepBody(BaseModel):
    reason: SingleLineText = Field(default="", max_length=2000, description="Lý do (bắt buộc khi trả lại, mở lại)")
    expected_version: int | None = Field(default=None, ge=1, le=2**63 - 1, description="Phiên bản đã đọc")


class SubAssign(BaseModel):
    unit_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(min_length=1, max_length=500)
    indicator_codes: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]] = Field(
        default_factory=list, max_length=200, description="Chỉ tiêu giao xuống; rỗng: mọi chỉ tiêu của đơn vị"
    )
    deadline: IsoDay | None = Field(default=None, description="Không muộn hơn hạn của đơn vị; mặc định: bằng hạn đó")


class LockException(BaseModel):
    until: IsoDay = Field(description="Mở khóa đến hết ngày này (tối đa 90 ngày)")
    reason: SingleLineText = Field(min_length=1, max_length=2000)
    sent_otherwise_on: IsoDay | None = Field(
        default=None,
        description="Ngày đơn vị đã gửi báo cáo bằng cách khác khi hệ thống gián đoạn (không sau hôm nay): "
        "lần gửi đầu trên hệ thống được tính đúng hạn hay muộn theo ngày này",
    )


class CompletenessFigures(BaseModel):
    expected: int = Field(description="Số báo cáo được giao")
    submitted: int = Field(description="Đã gửi (đang chờ duyệt hoặc đã duyệt)")
    on_time: int = Field(description="Gửi lần đầu đúng hạn")
    approved: int
    submitted_rate: float
    on_time_rate: float
    approved_rate: float


class CompletenessReport(BaseModel):
    period: PeriodPublic
    unit_id: str
    total: CompletenessFigures
    overdue: list[AssignmentPublic] = Field(description="Chưa gửi và đã quá hạn, theo thứ tự cây")


class WaitingReports(BaseModel):
    to_send: list[AssignmentPublic] = Field(
        description="Báo cáo chưa gửi của các đơn vị tài khoản viết báo cáo, hạn sớm nhất trước"
    )
    to_send_total: int
    to_approve: list[AssignmentPublic] = Field(
        description="Báo cáo đã gửi, chờ tài khoản duyệt (không phải của chính đơn vị mình), gửi sớm nhất trước"
    )
    to_approve_total: int


def assignment_public(message: workflow_pb2.Assignment) -> AssignmentPublic:
    fields = _dict(message)
    fields.pop("values_json")
    for name in (
        "parent_assignment_id",
        "first_submitted_at",
        "submitted_at",
        "submitted_by",
        "approved_at",
        "approved_by",
    ):
        fields[name] = fields[name] or None
    fields["returned_reason"] = message.returned_reason or None
    fields["reopened_until"] = message.reopened_until or None
    fields["sent_otherwise_on"] = message.sent_otherwise_on or None
    return AssignmentPublic.model_validate({**fields, "values": json.loads(message.values_json or "{}")})


def _transition(message: workflow_pb2.Transition) -> TransitionPublic:
    fields = _dict(message)
    fields["holder_name"] = message.holder_name or None
    return TransitionPublic.model_validate(fields)


@router.get("/report-periods/{period_id}/assignments", responses={404: {"description": "No period or unit"}})
async def list_assignments(
    period_id: PeriodId, principal: Caller, backends: BackendsDep, unit_id: UnitFilter = ""
) -> AssignmentList:
    """Các báo cáo được giao của kỳ trong phạm vi của tài khoản, theo thứ tự cây; với `unit_id`:
    của cây đơn vị đó."""
    response = await backends.report_assignments.ListAssignments(
        workflow_pb2.ListAssignmentsRequest(period_id=period_id, unit_id=unit_id),
        **backends.call_options(principal.token),
    )
    return AssignmentList(
        period=period_public(response.period), items=[assignment_public(a) for a in response.assignments]
    )


@router.get("/report-periods/{period_id}/completeness", responses={404: {"description": "No period or unit"}})
async def completeness(
    period_id: PeriodId, principal: Caller, backends: BackendsDep, unit_id: UnitFilter = ""
) -> CompletenessReport:
    """Tính đầy đủ và kịp thời của kỳ trên cây của đơn vị: số được giao, đã gửi, gửi đúng hạn, đã
    duyệt và các tỷ lệ; danh sách đơn vị quá hạn chưa gửi."""
    response = await backends.report_assignments.GetCompleteness(
        workflow_pb2.GetCompletenessRequest(period_id=period_id, unit_id=unit_id),
        **backends.call_options(principal.token),
    )
    return CompletenessReport(
        period=period_public(response.period),
        unit_id=response.unit_id,
        total=CompletenessFigures.model_validate(_dict(response.total)),
        overdue=[assignment_public(a) for a in response.overdue],
    )


@router.get("/report-waiting")
async def waiting_reports(
    principal: Caller,
    backends: BackendsDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Nhiều nhất bao nhiêu báo cáo mỗi danh sách")] = 50,
) -> WaitingReports:
    """Báo cáo đang chờ tài khoản, qua mọi kỳ: phải gửi (chưa gửi, đang soạn, bị trả lại) và chờ
    duyệt; mỗi danh sách kèm tổng số."""
    response = await backends.report_assignments.ListWaiting(
        workflow_pb2.ListWaitingRequest(limit=limit), **backends.call_options(principal.token)
    )
    return WaitingReports(
        to_send=[assignment_public(a) for a in response.to_send],
        to_send_total=response.to_send_total,
        to_approve=[assignment_public(a) for a in response.to_approve],
        to_approve_total=response.to_approve_total,
    )


@router.get("/report-assignments/{assignment_id}", responses=NO_ASSIGNMENT)
async def get_assignment(assignment_id: AssignmentId, principal: Caller, backends: BackendsDep) -> AssignmentDetail:
    """Một báo cáo được giao: trạng thái, số liệu và nhật ký các bước (ai, người giữ tài khoản, lúc
    nào, lý do)."""
    response = await backends.report_assignments.GetAssignment(
        workflow_pb2.GetAssignmentRequest(assignment_id=assignment_id), **backends.call_options(principal.token)
    )
    return AssignmentDetail(
        assignment=assignment_public(response.assignment),
        transitions=[_transition(t) for t in response.transitions],
    )


@router.put("/report-assignments/{assignment_id}/values", responses={**NO_ASSIGNMENT, **REFUSED_STEP})
async def save_values(
    assignment_id: AssignmentId, body: ValuesSave, principal: Caller, backends: BackendsDep
) -> AssignmentPublic:
    """Lưu số liệu báo cáo đang soạn (được thiếu chỉ tiêu; mỗi giá trị phải đúng quy tắc của chỉ
    tiêu). 422 nêu từng chỉ tiêu sai: `values.ma_chi_tieu`, ô của bảng: `values.ma_bang[dòng].ma_cot`."""
    response = await backends.report_submissions.SaveDraft(
        workflow_pb2.SaveDraftRequest(
            assignment_id=assignment_id,
            values_json=json.dumps(body.values, ensure_ascii=False),
            expected_version=body.expected_version or 0,
        ),
        **backends.call_options(principal.token),
    )
    return assignment_public(response.assignment)


class StepDone(BaseModel):
    assignment: AssignmentPublic
    transition: TransitionPublic


async def report_step(
    action: str, assignment_id: str, body: StepBody | None, principal: Caller, backends: BackendsDep
) -> StepDone:
    given = body or StepBody()
    response = await backends.report_submissions.TransitionSubmission(
        workflow_pb2.TransitionSubmissionRequest(
            assignment_id=assignment_id,
            action=action,
            reason=given.reason,
            expected_version=given.expected_version or 0,
        ),
        **backends.call_options(principal.token),
    )
    return StepDone(assignment=assignment_public(response.assignment), transition=_transition(response.transition))


@router.post("/report-assignments/{assignment_id}/submit", responses={**NO_ASSIGNMENT, **REFUSED_STEP})
async def submit(
    assignment_id: AssignmentId, principal: Caller, backends: BackendsDep, body: StepBody | None = None
) -> StepDone:
    """Gửi báo cáo lên cấp duyệt (đơn vị thực hiện). Mọi chỉ tiêu bắt buộc phải có: 422 nêu chỉ
    tiêu thiếu. Quá hạn mà chưa được mở khóa: 409."""
    return await report_step("submit", assignment_id, body, principal, backends)


@router.post("/report-assignments/{assignment_id}/recall", responses={**NO_ASSIGNMENT, **REFUSED_STEP})
async def recall(
    assignment_id: AssignmentId, principal: Caller, backends: BackendsDep, body: StepBody | None = None
) -> StepDone:
    """Thu hồi báo cáo đã gửi, trước khi được duyệt, để đính chính (004 Điều 8.1)."""
    return await report_step("recall", assignment_id, body, principal, backends)


@router.post("/report-assignments/{assignment_id}/return", responses={**NO_ASSIGNMENT, **REFUSED_STEP})
async def return_report(
    assignment_id: AssignmentId, body: StepBody, principal: Caller, backends: BackendsDep
) -> StepDone:
    """Trả lại báo cáo đã gửi, nêu lý do (cấp duyệt); đơn vị sửa và gửi lại, kể cả sau hạn."""
    return await report_step("return", assignment_id, body, principal, backends)


@router.post("/report-assignments/{assignment_id}/approve", responses={**NO_ASSIGNMENT, **REFUSED_STEP})
async def approve(
    assignment_id: AssignmentId, principal: Caller, backends: BackendsDep, body: StepBody | None = None
) -> StepDone:
    """Duyệt báo cáo (cấp duyệt, không phải chính đơn vị gửi); chỉ khi mọi báo cáo giao xuống các
    đơn vị cấp dưới đã được duyệt. Số liệu đã duyệt bị khóa."""
    return await report_step("approve", assignment_id, body, principal, backends)


@router.post("/report-assignments/{assignment_id}/reopen", responses={**NO_ASSIGNMENT, **REFUSED_STEP})
async def reopen(assignment_id: AssignmentId, body: StepBody, principal: Caller, backends: BackendsDep) -> StepDone:
    """Mở lại báo cáo đã duyệt để đính chính, nêu lý do (004 Điều 8.2): chỉ cấp đã duyệt, và chỉ khi
    cấp trên của mình chưa duyệt."""
    return await report_step("reopen", assignment_id, body, principal, backends)


@router.post(
    "/report-assignments/{assignment_id}/sub-assignments",
    status_code=status.HTTP_201_CREATED,
    responses={**NO_ASSIGNMENT, 409: {"description": "A unit has this period's report already, or the report is sent"}},
)
async def sub_assign(
    assignment_id: AssignmentId, body: SubAssign, principal: Caller, backends: BackendsDep
) -> list[AssignmentPublic]:
    """Giao tiếp một phần báo cáo cho các đơn vị cấp dưới (004 Điều 7.1.b): đơn vị duyệt và tổng
    hợp báo cáo của họ."""
    response = await backends.report_assignments.SubAssign(
        workflow_pb2.SubAssignRequest(
            assignment_id=assignment_id,
            unit_ids=body.unit_ids,
            indicator_codes=body.indicator_codes,
            deadline=body.deadline.isoformat() if body.deadline else "",
        ),
        **backends.call_options(principal.token),
    )
    return [assignment_public(a) for a in response.assignments]


@router.post(
    "/report-assignments/{assignment_id}/consolidate",
    responses={**NO_ASSIGNMENT, 409: {"description": "No report below is approved, or the report is sent"}},
)
async def consolidate(assignment_id: AssignmentId, principal: Caller, backends: BackendsDep) -> AssignmentPublic:
    """Tổng hợp số liệu các báo cáo đã duyệt của đơn vị cấp dưới vào báo cáo đang soạn: cộng số,
    nối các dòng bảng."""
    response = await backends.report_assignments.Consolidate(
        workflow_pb2.ConsolidateRequest(assignment_id=assignment_id), **backends.call_options(principal.token)
    )
    return assignment_public(response.assignment)


@router.post(
    "/report-assignments/{assignment_id}/lock-exception",
    responses={**NO_ASSIGNMENT, 409: {"description": "The report is sent, or not past its deadline"}},
)
async def lock_exception(
    assignment_id: AssignmentId, body: LockException, principal: Caller, backends: BackendsDep
) -> AssignmentPublic:
    """Mở khóa ngoại lệ cho một đơn vị, một kỳ sau hạn (đơn vị ban hành), đến một ngày, nêu lý do; sau
    khi hệ thống gián đoạn, kèm ngày đơn vị đã gửi bằng cách khác để tính đúng hạn."""
    response = await backends.report_assignments.GrantLockException(
        workflow_pb2.GrantLockExceptionRequest(
            assignment_id=assignment_id,
            until=body.until.isoformat(),
            reason=body.reason,
            sent_otherwise_on=body.sent_otherwise_on.isoformat() if body.sent_otherwise_on else "",
        ),
        **backends.call_options(principal.token),
    )
    return assignment_public(response.assignment)
