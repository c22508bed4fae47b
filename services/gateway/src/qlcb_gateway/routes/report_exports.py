"""Reports as files (R-REP-5): one unit's report and a period's roll-up across the units in the
caller's reach as XLSX, PDF or CSV in the template's layout, and the chart of a period's reports by
state as SVG or PNG with the figures behind it as JSON. Each reads what the caller may read through
reports' own checks (the same calls as the JSON routes), so a file shows nothing the API would not."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from qlcb.reports.v1 import regimes_pb2, workflow_pb2
from qlcb_common.days import VIETNAM
from qlcb_gateway import report_files
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.exports import CSV_TYPE, FILE_TYPES, PDF_TYPE, XLSX_TYPE, attachment_headers
from qlcb_gateway.report_files import Heading, Indicator, UnitReport
from qlcb_gateway.routes.report_workflow import NO_ASSIGNMENT, AssignmentId, PeriodId, UnitFilter

router = APIRouter(prefix="/v1", tags=["Báo cáo"])

IMAGE_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
FileFormat = Annotated[Literal["xlsx", "pdf", "csv"], Query(description="Định dạng tệp")]
NO_PERIOD: dict[int | str, dict[str, Any]] = {404: {"description": "No period `period_id` or unit `unit_id`"}}


class StateCount(BaseModel):
    state: str
    label: str = Field(description="Tên trạng thái như biểu đồ ghi")
    reports: int


class StateChartData(BaseModel):
    period_id: str
    period_key: str
    regime: str
    unit_id: str = Field(description="Cây đơn vị được đếm; rỗng: mọi báo cáo trong phạm vi của tài khoản")
    counts: list[StateCount]


async def _regime(backends: BackendsDep, principal: Caller, regime_id: str) -> regimes_pb2.Regime:
    response = await backends.report_regimes.GetRegime(
        regimes_pb2.GetRegimeRequest(regime_id=regime_id), **backends.call_options(principal.token)
    )
    regime: regimes_pb2.Regime = response.regime
    return regime


def _indicators(regime: regimes_pb2.Regime, version: int) -> list[Indicator]:
    (template,) = [t for t in regime.templates if t.version == version]
    return report_files.indicators_of(
        [
            {
                "code": i.code,
                "label": i.label,
                "kind": i.kind,
                "unit": i.unit,
                "columns": [{"code": c.code, "label": c.label, "kind": c.kind, "unit": c.unit} for c in i.columns],
            }
            for i in template.indicators
        ]
    )


def _unit_report(assignment: workflow_pb2.Assignment) -> UnitReport:
    return UnitReport(
        unit=assignment.unit_name, state=assignment.state, values=json.loads(assignment.values_json or "{}")
    )


def _file(content: bytes, format: str, ascii_stem: str, stem: str) -> Response:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in ascii_stem)
    return Response(
        content, media_type=FILE_TYPES[format], headers=attachment_headers(f"{safe}.{format}", f"{stem}.{format}")
    )


@router.get(
    "/report-assignments/{assignment_id}/export",
    responses={
        200: {"content": {XLSX_TYPE: {}, PDF_TYPE: {}, CSV_TYPE: {}}, "description": "Báo cáo"},
        **NO_ASSIGNMENT,
    },
)
async def export_report(
    assignment_id: AssignmentId, principal: Caller, backends: BackendsDep, format: FileFormat = "xlsx"
) -> Response:
    """Một báo cáo của một đơn vị theo mẫu của kỳ (phiên bản mẫu kỳ được mở): XLSX, PDF hoặc CSV."""
    found = await backends.report_assignments.GetAssignment(
        workflow_pb2.GetAssignmentRequest(assignment_id=assignment_id, export_format=format),
        **backends.call_options(principal.token),
    )
    assignment = found.assignment
    regime = await _regime(backends, principal, assignment.regime_id)
    indicators = _indicators(regime, assignment.template_version)
    report = _unit_report(assignment)
    heading = Heading(
        regime.name, assignment.period_key, assignment.unit_name, principal.username, datetime.now(VIETNAM)
    )
    writers: dict[str, Callable[[], bytes]] = {
        "xlsx": lambda: report_files.report_xlsx(heading, indicators, report),
        "pdf": lambda: report_files.report_pdf(heading, indicators, report),
        "csv": lambda: report_files.report_csv(indicators, report),
    }
    content = await asyncio.to_thread(writers[format])
    return _file(
        content,
        format,
        f"bao-cao-{regime.code}-{assignment.period_key}",
        f"Báo cáo {regime.code} {assignment.period_key} {assignment.unit_name}",
    )


async def _period_reports(
    backends: BackendsDep, principal: Caller, period_id: str, unit_id: str, export_format: str = ""
) -> tuple[workflow_pb2.ListAssignmentsResponse, regimes_pb2.Regime]:
    """The period's reports in reach; with `export_format`, read to be laid out as that file, which
    reports records for the audit trail."""
    listed = await backends.report_assignments.ListAssignments(
        workflow_pb2.ListAssignmentsRequest(period_id=period_id, unit_id=unit_id, export_format=export_format),
        **backends.call_options(principal.token),
    )
    return listed, await _regime(backends, principal, listed.period.regime_id)


@router.get(
    "/report-periods/{period_id}/rollup",
    responses={200: {"content": {XLSX_TYPE: {}, PDF_TYPE: {}, CSV_TYPE: {}}, "description": "Tổng hợp"}, **NO_PERIOD},
)
async def export_rollup(
    period_id: PeriodId, principal: Caller, backends: BackendsDep, unit_id: UnitFilter = "", format: FileFormat = "xlsx"
) -> Response:
    """Tổng hợp báo cáo của kỳ trên các đơn vị trong phạm vi của tài khoản (với `unit_id`: cây của
    đơn vị đó), theo thứ tự cây: mỗi đơn vị một dòng, mỗi chỉ tiêu (trừ bảng) một cột, và dòng tổng
    các chỉ tiêu số của những báo cáo đã duyệt."""
    listed, regime = await _period_reports(backends, principal, period_id, unit_id, format)
    indicators = _indicators(regime, listed.period.template_version)
    reports = [_unit_report(a) for a in listed.assignments]
    scope = listed.assignments[0].unit_name if unit_id and listed.assignments else "Các đơn vị trong phạm vi"
    heading = Heading(regime.name, listed.period.key, scope, principal.username, datetime.now(VIETNAM))
    writers: dict[str, Callable[[], bytes]] = {
        "xlsx": lambda: report_files.rollup_xlsx(heading, indicators, reports),
        "pdf": lambda: report_files.rollup_pdf(heading, indicators, reports),
        "csv": lambda: report_files.rollup_csv(indicators, reports),
    }
    content = await asyncio.to_thread(writers[format])
    return _file(
        content, format, f"tong-hop-{regime.code}-{listed.period.key}", f"Tổng hợp {regime.code} {listed.period.key}"
    )


@router.get(
    "/report-periods/{period_id}/chart",
    response_model=StateChartData,
    responses={
        200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "Biểu đồ, hoặc số liệu của nó (JSON)"},
        **NO_PERIOD,
    },
)
async def state_chart(
    period_id: PeriodId,
    principal: Caller,
    backends: BackendsDep,
    unit_id: UnitFilter = "",
    format: Annotated[Literal["svg", "png", "json"], Query(description="Ảnh SVG, PNG, hoặc số liệu JSON")] = "svg",
) -> Any:
    """Biểu đồ số báo cáo của kỳ theo trạng thái, trong phạm vi của tài khoản (với `unit_id`: cây của
    đơn vị đó); `format=json` trả số liệu của biểu đồ."""
    listed, regime = await _period_reports(backends, principal, period_id, unit_id)
    counts = report_files.by_state([_unit_report(a) for a in listed.assignments])
    if format == "json":
        return StateChartData(
            period_id=listed.period.id,
            period_key=listed.period.key,
            regime=regime.name,
            unit_id=unit_id,
            counts=[StateCount(state=s, label=report_files.STATES[s], reports=n) for s, n in counts.items()],
        )
    title = f"{regime.code} — kỳ {listed.period.key}"
    content = await asyncio.to_thread(report_files.state_chart, title, counts, format)
    return Response(content, media_type=IMAGE_TYPES[format])
