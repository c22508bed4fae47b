"""Report regimes (chế độ báo cáo, R-REP-2) and their periods, forwarded to reports'
`ReportRegimeService` and `ReportAssignmentService.OpenPeriod`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, status
from google.protobuf.json_format import MessageToDict
from pydantic import BaseModel, Field

from qlcb.reports.v1 import regimes_pb2, workflow_pb2
from qlcb_common.days import IsoDay
from qlcb_common.text import MultiLineText, SingleLineText
from qlcb_gateway.dependencies import BackendsDep, Caller

router = APIRouter(prefix="/v1", tags=["Chế độ báo cáo"])

CellKind = Literal["number", "percent", "text"]
UnitKind = Literal["general_department", "hq_department", "hq_unit", "provincial_department", "sub_unit", "commune"]
RegimeId = Annotated[str, Path(description="Chế độ báo cáo")]
INDICATOR_CODE = r"^[a-z][a-z0-9_]{0,63}$"


class ColumnSpec(BaseModel):
    """One column of a table indicator."""

    code: str = Field(pattern=INDICATOR_CODE, description="Mã cột: khóa của giá trị trong mỗi dòng")
    label: SingleLineText = Field(min_length=1, max_length=500)
    kind: CellKind
    unit: SingleLineText = Field(default="", max_length=50, description="Đơn vị tính")
    required: bool = False
    min: float | None = Field(default=None, ge=-1e15, le=1e15)
    max: float | None = Field(default=None, ge=-1e15, le=1e15)
    integer: bool = Field(default=False, description="Chỉ nhận số nguyên (kiểu number)")
    max_length: int = Field(default=0, ge=0, le=20_000, description="Độ dài tối đa của text; 0: 2.000")


class IndicatorSpec(ColumnSpec):
    """One indicator (chỉ tiêu) of a template: a number, a percent (0–100 unless narrowed), a text,
    or a table of rows with typed columns."""

    kind: Literal["number", "percent", "text", "table"]  # type: ignore[assignment]
    columns: list[ColumnSpec] = Field(default_factory=list, max_length=50, description="Các cột (kiểu table)")
    max_rows: int = Field(default=0, ge=0, le=10_000, description="Số dòng tối đa (kiểu table); 0: 1.000")


class TemplateCreate(BaseModel):
    outline: MultiLineText = Field(default="", max_length=20_000, description="Đề cương báo cáo")
    indicators: list[IndicatorSpec] = Field(min_length=1, max_length=200)


class RegimeCreate(TemplateCreate):
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,31}$", description="Mã chế độ báo cáo")
    name: SingleLineText = Field(min_length=1, max_length=255)
    kind: Literal["periodic", "central", "thematic", "ad_hoc"] = Field(
        description="Định kỳ, của Bộ/ngành Trung ương, chuyên đề, đột xuất"
    )
    frequency: Literal["month", "quarter", "half_year", "year"] | None = Field(
        default=None, description="Tần suất của báo cáo định kỳ"
    )
    legal_basis: SingleLineText = Field(min_length=1, max_length=1000, description="Căn cứ pháp lý")
    issuer_unit_id: str = Field(min_length=1, max_length=36, description="Đơn vị ban hành và duyệt cấp cao nhất")
    unit_kinds: list[UnitKind] = Field(
        default_factory=list, max_length=5, description="Loại đơn vị thực hiện; rỗng: mọi loại"
    )
    unit_levels: list[Annotated[int, Field(ge=1, le=10)]] = Field(
        default_factory=list, max_length=10, description="Cấp đơn vị thực hiện (1: gốc); rỗng: mọi cấp"
    )
    cutoff_day: int = Field(default=0, ge=0, le=28, description="Ngày chốt số liệu trong tháng cuối kỳ; 0: cuối kỳ")
    deadline_days: int = Field(ge=0, le=366, description="Hạn gửi: số ngày sau ngày chốt số liệu")
    deadline_counting: Literal["calendar_days", "working_days"] = "working_days"
    reminder_days: int = Field(default=3, ge=0, le=30, description="Nhắc hạn trước bao nhiêu ngày làm việc; 0: không")
    opens_periods: bool | None = Field(
        default=None,
        description="Kỳ báo cáo tự mở vào ngày đầu kỳ và tự giao cho các đơn vị thực hiện (chỉ báo cáo định kỳ); "
        "bỏ trống: có với báo cáo định kỳ, không với các loại khác",
    )


class IndicatorPublic(BaseModel):
    code: str
    label: str
    kind: str
    unit: str = ""
    required: bool = False
    min: float | None = None
    max: float | None = None
    integer: bool = False
    max_length: int = 0
    columns: list[IndicatorPublic] = Field(default_factory=list)
    max_rows: int = 0


class TemplatePublic(BaseModel):
    version: int
    outline: str
    indicators: list[IndicatorPublic]
    created_at: datetime
    created_by: str


class RegimePublic(BaseModel):
    id: str
    code: str
    name: str
    kind: str
    frequency: str | None
    legal_basis: str
    issuer_unit_id: str
    unit_kinds: list[str]
    unit_levels: list[int]
    cutoff_day: int
    deadline_days: int
    deadline_counting: str
    reminder_days: int
    opens_periods: bool = Field(description="Kỳ báo cáo tự mở vào ngày đầu kỳ")
    templates: list[TemplatePublic] = Field(description="Các phiên bản mẫu (danh sách: chỉ phiên bản hiện hành)")
    created_at: datetime
    created_by: str


class PeriodOpen(BaseModel):
    period: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$",
        description="Kỳ: 2026-11 (tháng), 2026-Q4, 2026-H2, 2026; với báo cáo không định kỳ: tên kỳ",
    )
    starts_on: IsoDay | None = Field(default=None, description="Báo cáo không định kỳ: số liệu từ ngày")
    ends_on: IsoDay | None = Field(default=None, description="Báo cáo không định kỳ: số liệu đến ngày")
    deadline: IsoDay | None = Field(default=None, description="Báo cáo không định kỳ: hạn gửi")


class PeriodPublic(BaseModel):
    id: str
    regime_id: str
    key: str
    starts_on: IsoDay
    ends_on: IsoDay
    deadline: IsoDay
    template_version: int
    opened_at: datetime
    opened_by: str


class PeriodOpened(BaseModel):
    period: PeriodPublic
    assignments: int = Field(description="Số đơn vị được giao báo cáo")


def _dict(message: object) -> dict[str, object]:
    found: dict[str, object] = MessageToDict(
        message,  # type: ignore[arg-type]
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
    return found


def regime_public(message: regimes_pb2.Regime) -> RegimePublic:
    fields = _dict(message)
    fields["frequency"] = message.frequency or None
    return RegimePublic.model_validate(fields)


def period_public(message: workflow_pb2.Period) -> PeriodPublic:
    return PeriodPublic.model_validate(_dict(message))


def _indicator(spec: ColumnSpec) -> regimes_pb2.Indicator:
    message = regimes_pb2.Indicator(
        code=spec.code,
        label=spec.label,
        kind=spec.kind,
        unit=spec.unit,
        required=spec.required,
        integer=spec.integer,
        max_length=spec.max_length,
    )
    if spec.min is not None:
        message.min = spec.min
    if spec.max is not None:
        message.max = spec.max
    if isinstance(spec, IndicatorSpec):
        message.columns.extend(_indicator(c) for c in spec.columns)
        message.max_rows = spec.max_rows
    return message


@router.post(
    "/report-regimes", status_code=status.HTTP_201_CREATED, responses={409: {"description": "The code is taken"}}
)
async def create_regime(body: RegimeCreate, principal: Caller, backends: BackendsDep) -> RegimePublic:
    """Ban hành chế độ báo cáo với phiên bản mẫu đầu tiên: loại, tần suất, căn cứ pháp lý, đơn vị
    thực hiện (theo loại và cấp, trong cây của đơn vị ban hành), ngày chốt số liệu, hạn gửi (ngày
    lịch hoặc ngày làm việc), đề cương và các chỉ tiêu. 422 nêu từng trường sai (chỉ tiêu theo vị
    trí: `indicators[2].max`)."""
    response = await backends.report_regimes.CreateRegime(
        regimes_pb2.CreateRegimeRequest(
            code=body.code,
            name=body.name,
            kind=body.kind,
            frequency=body.frequency or "",
            legal_basis=body.legal_basis,
            issuer_unit_id=body.issuer_unit_id,
            unit_kinds=body.unit_kinds,
            unit_levels=body.unit_levels,
            cutoff_day=body.cutoff_day,
            deadline_days=body.deadline_days,
            deadline_counting=body.deadline_counting,
            reminder_days=body.reminder_days,
            outline=body.outline,
            indicators=[_indicator(i) for i in body.indicators],
            opens_periods=body.opens_periods,
        ),
        **backends.call_options(principal.token),
    )
    return regime_public(response.regime)


@router.get("/report-regimes")
async def list_regimes(principal: Caller, backends: BackendsDep) -> list[RegimePublic]:
    """Các chế độ báo cáo, mới nhất trước, mỗi chế độ với phiên bản mẫu hiện hành."""
    response = await backends.report_regimes.ListRegimes(
        regimes_pb2.ListRegimesRequest(), **backends.call_options(principal.token)
    )
    return [regime_public(r) for r in response.regimes]


@router.get("/report-regimes/{regime_id}", responses={404: {"description": "No regime `regime_id`"}})
async def get_regime(regime_id: RegimeId, principal: Caller, backends: BackendsDep) -> RegimePublic:
    """Một chế độ báo cáo với mọi phiên bản mẫu, cũ nhất trước."""
    response = await backends.report_regimes.GetRegime(
        regimes_pb2.GetRegimeRequest(regime_id=regime_id), **backends.call_options(principal.token)
    )
    return regime_public(response.regime)


@router.post(
    "/report-regimes/{regime_id}/versions",
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "No regime `regime_id`"}},
)
async def add_template_version(
    regime_id: RegimeId, body: TemplateCreate, principal: Caller, backends: BackendsDep
) -> RegimePublic:
    """Thêm phiên bản mẫu báo cáo. Các kỳ đã mở giữ phiên bản mở kỳ; kỳ mở sau dùng phiên bản mới."""
    response = await backends.report_regimes.AddTemplateVersion(
        regimes_pb2.AddTemplateVersionRequest(
            regime_id=regime_id, outline=body.outline, indicators=[_indicator(i) for i in body.indicators]
        ),
        **backends.call_options(principal.token),
    )
    return regime_public(response.regime)


@router.post(
    "/report-regimes/{regime_id}/periods",
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "No regime `regime_id`"}, 409: {"description": "The period is open already"}},
)
async def open_period(regime_id: RegimeId, body: PeriodOpen, principal: Caller, backends: BackendsDep) -> PeriodOpened:
    """Mở kỳ báo cáo: giao báo cáo cho mọi đơn vị thực hiện với hạn gửi của kỳ, theo phiên bản mẫu
    hiện hành. Báo cáo của đơn vị do đơn vị cấp trên gần nhất cũng được giao duyệt, nếu không có thì
    đơn vị ban hành duyệt. 422 nêu `period` khi kỳ không đúng tần suất của chế độ."""
    response = await backends.report_assignments.OpenPeriod(
        workflow_pb2.OpenPeriodRequest(
            regime_id=regime_id,
            period=body.period,
            starts_on=body.starts_on.isoformat() if body.starts_on else "",
            ends_on=body.ends_on.isoformat() if body.ends_on else "",
            deadline=body.deadline.isoformat() if body.deadline else "",
        ),
        **backends.call_options(principal.token),
    )
    return PeriodOpened(period=period_public(response.period), assignments=response.assignments)


@router.get("/report-regimes/{regime_id}/periods", responses={404: {"description": "No regime `regime_id`"}})
async def list_periods(regime_id: RegimeId, principal: Caller, backends: BackendsDep) -> list[PeriodPublic]:
    """Các kỳ đã mở của chế độ báo cáo, mới nhất trước."""
    response = await backends.report_assignments.ListPeriods(
        workflow_pb2.ListPeriodsRequest(regime_id=regime_id), **backends.call_options(principal.token)
    )
    return [period_public(p) for p in response.periods]
