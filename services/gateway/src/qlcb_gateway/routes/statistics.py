"""The statutory statistics forms (R-REP-1; Thông tư 11/2012/TT-BNV): a form for a unit's subtree as
of a day, the people each cell counts, and the rebuild of the read-model they come from; forwarded
to reports' `ReportsService`."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated, Literal, NoReturn

import grpc
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from qlcb.reports.v1 import reports_pb2
from qlcb_common.days import VIETNAM, IsoDay
from qlcb_gateway import statistics_files
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.errors import field_violations, refuse_query
from qlcb_gateway.exports import CSV_TYPE, FILE_TYPES, PDF_TYPE, XLSX_TYPE, attachment_headers

router = APIRouter(prefix="/v1/statistics", tags=["Thống kê"])

QUERY_NAMES = {"unit_id": "unit"}
"""The query parameters the backend's fields are asked as."""

UnitQuery = Annotated[
    str, Query(min_length=1, max_length=36, description="Đơn vị: biểu gồm đơn vị và mọi đơn vị trực thuộc")
]
AsOfQuery = Annotated[str, Query(max_length=10, description="Số liệu tại ngày (YYYY-MM-DD); bỏ trống: hôm nay")]


class StatisticsFormSummary(BaseModel):
    form: str = Field(description="Mã biểu (BM01…), như hỏi biểu")
    title: str
    designation: str = Field(description='Ký hiệu biểu in ở góc trên ("Biểu mẫu BM01/BNV"); trống nếu biểu không có')
    legal_basis: str
    kind: Literal["counts", "list", "events"]


class StatisticsForms(BaseModel):
    items: list[StatisticsFormSummary]


class StatisticsColumnPublic(BaseModel):
    key: str
    label: str
    header: str = Field(description="Tiêu đề chung của nhóm cột; rỗng với cột đứng riêng")
    count: Literal["people", "quota", "list", "events"] = Field(
        description="people: số người; quota: biên chế được giao; list: cột của biểu danh sách (một dòng một "
        "người); events: số lượt biến động từ đầu năm đến ngày báo cáo"
    )


class StatisticsRowPublic(BaseModel):
    key: str = Field(
        description="total: tổng số; own: tại chính đơn vị; hoặc mã định danh đơn vị trực thuộc; "
        "biểu danh sách: mã định danh của người"
    )
    label: str
    unit_id: str
    cells: list[int | str | None] = Field(
        description="Theo thứ tự các cột: số (null: chưa giao biên chế), hoặc chữ của biểu danh sách (null: không có)"
    )


class StatisticsForm(BaseModel):
    form: str
    title: str
    designation: str = Field(description='Ký hiệu biểu in ở góc trên ("Biểu mẫu BM01/BNV"); trống nếu biểu không có')
    legal_basis: str
    notes: list[str]
    unit_id: str
    unit_name: str
    as_of: IsoDay
    kind: Literal["counts", "list", "events"] = Field(
        description="counts: số lượng tại ngày, một dòng một đơn vị; list: một dòng một người; "
        "events: biến động trong năm đến ngày, một dòng một đơn vị"
    )
    columns: list[StatisticsColumnPublic]
    rows: list[StatisticsRowPublic]
    generation: int = Field(description="Thế hệ của dữ liệu thống kê đã trả lời")


class StatisticsPersonPublic(BaseModel):
    person_id: str
    personal_id: str
    staff_number: str
    full_name: str
    date_of_birth: IsoDay
    sex: Literal["male", "female"]
    unit_id: str = Field(description="Đơn vị của người đó tại ngày của biểu")


class StatisticsPeople(BaseModel):
    items: list[StatisticsPersonPublic]
    total: int


class StatisticsGenerationPublic(BaseModel):
    id: int
    state: Literal["building", "serving", "retired", "removed"]
    started_at: str
    switched_at: str | None
    requested_by: str


class StatisticsGenerations(BaseModel):
    items: list[StatisticsGenerationPublic]


def _refused(error: grpc.aio.AioRpcError) -> NoReturn:
    """A backend's INVALID_ARGUMENT as a 422 naming the query parameters; any other error as it is."""
    if error.code() is grpc.StatusCode.INVALID_ARGUMENT:
        faults = field_violations(error) or [("", error.details() or "")]
        refuse_query([(QUERY_NAMES.get(name, name), reason) for name, reason in faults])
    raise error


def _generation(message: reports_pb2.StatisticsGeneration) -> StatisticsGenerationPublic:
    return StatisticsGenerationPublic(
        id=message.id,
        state=message.state,  # type: ignore[arg-type]
        started_at=message.started_at,
        switched_at=message.switched_at or None,
        requested_by=message.requested_by,
    )


async def form_summaries(principal: Caller, backends: BackendsDep) -> list[StatisticsFormSummary]:
    response = await backends.reports.ListStatisticsForms(
        reports_pb2.ListStatisticsFormsRequest(), **backends.call_options(principal.token)
    )
    return [
        StatisticsFormSummary(
            form=f.form,
            title=f.title,
            designation=f.designation,
            legal_basis=f.legal_basis,
            kind=f.kind,
        )
        for f in response.forms
    ]


@router.get("")
async def list_forms(principal: Caller, backends: BackendsDep) -> StatisticsForms:
    """Các biểu thống kê theo mẫu mà hệ thống lập được (mẫu biểu là dữ liệu), theo thứ tự mã."""
    return StatisticsForms(items=await form_summaries(principal, backends))


@router.get("/generations")
async def list_generations(principal: Caller, backends: BackendsDep) -> StatisticsGenerations:
    """Các thế hệ dữ liệu thống kê (quản trị hệ thống)."""
    response = await backends.reports.ListStatisticsGenerations(
        reports_pb2.ListStatisticsGenerationsRequest(), **backends.call_options(principal.token)
    )
    return StatisticsGenerations(items=[_generation(g) for g in response.generations])


@router.post("/rebuild", status_code=202)
async def rebuild(principal: Caller, backends: BackendsDep) -> StatisticsGenerationPublic:
    """Dựng lại dữ liệu thống kê từ luồng sự kiện, bên cạnh dữ liệu đang phục vụ; chuyển sang khi xong
    (quản trị hệ thống)."""
    response = await backends.reports.RebuildStatistics(
        reports_pb2.RebuildStatisticsRequest(), **backends.call_options(principal.token)
    )
    return _generation(response.generation)


async def _form(
    backends: BackendsDep, principal: Caller, form: str, unit: str, as_of: str, export_format: str = ""
) -> StatisticsForm:
    """The form as reports fills it; `export_format` names the file it is laid out as, which reports
    records with a list form's read in the audit trail."""
    try:
        response = await backends.reports.GetStatisticsForm(
            reports_pb2.GetStatisticsFormRequest(form=form, unit_id=unit, as_of=as_of, export_format=export_format),
            **backends.call_options(principal.token),
        )
    except grpc.aio.AioRpcError as error:
        _refused(error)
    return StatisticsForm(
        form=response.form,
        title=response.title,
        designation=response.designation,
        legal_basis=response.legal_basis,
        notes=list(response.notes),
        unit_id=response.unit_id,
        unit_name=response.unit_name,
        as_of=date.fromisoformat(response.as_of),
        kind=response.kind,
        columns=[
            StatisticsColumnPublic(key=c.key, label=c.label, header=c.header, count=c.count) for c in response.columns
        ],
        rows=[
            StatisticsRowPublic(
                key=r.key,
                label=r.label,
                unit_id=r.unit_id,
                cells=[c.value if c.HasField("value") else (c.text or None) for c in r.cells],
            )
            for r in response.rows
        ],
        generation=response.generation,
    )


@router.get("/{form}")
async def statistics_form(
    form: str, principal: Caller, backends: BackendsDep, unit: UnitQuery, as_of: AsOfQuery = ""
) -> StatisticsForm:
    """Biểu thống kê theo mẫu (BM01…) của đơn vị và các đơn vị trực thuộc tại một ngày. Xem một biểu danh sách
    (BM03, BM04) được ghi vào nhật ký của đơn vị."""
    return await _form(backends, principal, form, unit, as_of)


@router.get(
    "/{form}/export",
    responses={200: {"content": {XLSX_TYPE: {}, PDF_TYPE: {}, CSV_TYPE: {}}, "description": "Biểu thống kê"}},
    response_class=Response,
)
async def export_form(
    form: str,
    principal: Caller,
    backends: BackendsDep,
    unit: UnitQuery,
    as_of: AsOfQuery = "",
    format: Annotated[Literal["xlsx", "pdf", "csv"], Query(description="Định dạng tệp")] = "xlsx",
) -> Response:
    """Biểu thống kê như mẫu in (XLSX, PDF: tiêu đề gộp ô, đơn vị, ngày, chỗ ký) hoặc CSV cho máy đọc. Xuất một
    biểu danh sách (BM03, BM04) được ghi vào nhật ký của đơn vị, cùng định dạng và số người."""
    filled = await _form(backends, principal, form, unit, as_of, export_format=format)
    layout = statistics_files.FilledForm(
        code=filled.form,
        title=filled.title,
        designation=filled.designation,
        legal_basis=filled.legal_basis,
        notes=filled.notes,
        unit_name=filled.unit_name,
        as_of=filled.as_of,
        columns=[statistics_files.Column(c.key, c.label, c.header) for c in filled.columns],
        rows=[statistics_files.FormRow(r.key, r.label, r.unit_id, r.cells) for r in filled.rows],
        kind=filled.kind,
    )
    if format == "csv":
        content = statistics_files.form_csv(layout)
    else:
        write = statistics_files.form_xlsx if format == "xlsx" else statistics_files.form_pdf
        content = await asyncio.to_thread(write, layout, principal.username, datetime.now(VIETNAM))
    stem = f"{filled.form}-{filled.as_of.isoformat()}"
    return Response(
        content,
        media_type=FILE_TYPES[format],
        headers=attachment_headers(f"{stem}.{format}", f"{stem} {filled.unit_name}.{format}"),
    )


@router.get("/{form}/people")
async def statistics_people(
    form: str,
    principal: Caller,
    backends: BackendsDep,
    unit: UnitQuery,
    row: Annotated[str, Query(min_length=1, max_length=36, description="Dòng của biểu: total, own hoặc đơn vị")],
    column: Annotated[str, Query(min_length=1, max_length=64, description="Cột của biểu")],
    as_of: AsOfQuery = "",
    page: Annotated[int, Query(ge=1, le=2**31 - 1, description="Trang, từ 1")] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> StatisticsPeople:
    """Những người được đếm trong một ô của biểu, trong phạm vi người gọi được xem hồ sơ; mỗi trang được ghi vào
    nhật ký của đơn vị."""
    try:
        response = await backends.reports.ListStatisticsPeople(
            reports_pb2.ListStatisticsPeopleRequest(
                form=form, unit_id=unit, as_of=as_of, row=row, column=column, page=page, page_size=page_size
            ),
            **backends.call_options(principal.token),
        )
    except grpc.aio.AioRpcError as error:
        _refused(error)
    return StatisticsPeople(
        items=[
            StatisticsPersonPublic(
                person_id=p.person_id,
                personal_id=p.personal_id,
                staff_number=p.staff_number,
                full_name=p.full_name,
                date_of_birth=date.fromisoformat(p.date_of_birth),
                sex="female" if p.sex == "SEX_FEMALE" else "male",
                unit_id=p.unit_id,
            )
            for p in response.people
        ],
        total=response.total,
    )
