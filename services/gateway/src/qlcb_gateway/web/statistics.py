"""The statutory statistics forms as pages (R-REP-1; Thông tư 11/2012/TT-BNV): the form asked for a
unit's subtree as of a day, its columns under their printed headers, each count of people linking
to the people it counts; one column drawn as bars across the units; the form as XLSX, PDF or CSV.
Reports fills the forms from its read-model and decides who reads which unit's figures and whose
names a cell lists; the page only asks."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

import grpc
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import may_at_all
from qlcb_common.days import vietnam_today
from qlcb_gateway.routes.organisation import list_units
from qlcb_gateway.routes.statistics import (
    StatisticsColumnPublic,
    StatisticsForm,
    StatisticsRowPublic,
    export_form,
    form_summaries,
    statistics_form,
    statistics_people,
)
from qlcb_gateway.schemas import UnitPublic
from qlcb_gateway.web.entry_form import FormField, checked, refused
from qlcb_gateway.web.pages import backends_of, error_page, page_number, render, secure, signed_in, web_state
from qlcb_gateway.web.session import PATH

router = APIRouter(prefix=PATH, include_in_schema=False)

DEFAULT_FORM = "BM01"
PEOPLE_PAGE = 100
CHARTED = ("people", "quota", "events")
"""The columns that can be drawn: counts, not the text of a list form."""
BAR_HEIGHT, BAR_GAP, LABEL_WIDTH, BARS_WIDTH = 22, 6, 260, 420
"""The chart's geometry in SVG units; it scales with the page (viewBox)."""
REFUSED = {
    grpc.StatusCode.PERMISSION_DENIED: (403, "Bạn không được xem số liệu thống kê của đơn vị này."),
    grpc.StatusCode.NOT_FOUND: (404, "Không có đơn vị này trong số liệu thống kê."),
}


@dataclass(frozen=True)
class HeaderCell:
    label: str
    colspan: int = 1
    rowspan: int = 1


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    shown: str  # the value as written, or "chưa giao" for a quota nobody assigned
    y: int
    width: float


@dataclass(frozen=True)
class Chart:
    column: StatisticsColumnPublic
    bars: list[Bar]


def header_rows(columns: list[StatisticsColumnPublic]) -> list[list[HeaderCell]]:
    """The header as the printed form has it: a run of columns under one header is one cell spanning
    them, above a row of their own labels; a column standing alone spans both rows. One row when no
    column has a header."""
    if not any(c.header for c in columns):
        return [[HeaderCell(c.label) for c in columns]]
    top: list[HeaderCell] = []
    below: list[HeaderCell] = []
    index = 0
    while index < len(columns):
        column = columns[index]
        if not column.header:
            top.append(HeaderCell(column.label, rowspan=2))
            index += 1
            continue
        run = 0
        while index + run < len(columns) and columns[index + run].header == column.header:
            below.append(HeaderCell(columns[index + run].label))
            run += 1
        top.append(HeaderCell(column.header, colspan=run))
        index += run
    return [top, below]


def chart_of(form: StatisticsForm, key: str) -> Chart | None:
    """One column across the form's rows other than the total, as bars against the largest (the first
    count of people unless another is asked); None for a list form, or a form without rows below its
    total."""
    columns = [c for c in form.columns if c.count in CHARTED]
    if form.kind == "list" or not columns:
        return None
    people = next((c for c in columns if c.count == "people"), columns[0])
    column = next((c for c in columns if c.key == key), people)
    position = form.columns.index(column)
    rows = [r for r in form.rows if r.key != "total"]
    if not rows:
        return None
    values = [r.cells[position] for r in rows]
    largest = max((v for v in values if isinstance(v, int)), default=0)
    drawn = [
        (
            row.label,
            value if isinstance(value, int) else 0,
            f"{value:,}".replace(",", ".") if isinstance(value, int) else "chưa giao",
        )
        for row, value in zip(rows, values, strict=True)
    ]
    return Chart(column, bars_of(drawn, largest))


def bars_of(drawn: list[tuple[str, int, str]], largest: float) -> list[Bar]:
    """Bars of (label, value, value as written), one under the other, each as long as its value is
    against `largest`."""
    return [
        Bar(label, value, shown, index * (BAR_HEIGHT + BAR_GAP), BARS_WIDTH * value / largest if largest else 0)
        for index, (label, value, shown) in enumerate(drawn)
    ]


GEOMETRY = {"bar": BAR_HEIGHT, "label": LABEL_WIDTH, "bars": BARS_WIDTH, "step": BAR_HEIGHT + BAR_GAP}


def _unit_choices(units: list[UnitPublic]) -> list[tuple[str, str]]:
    """The units in tree order, each indented under its parent, dissolved ones left out."""
    alive = sorted((u for u in units if u.dissolved_on is None), key=lambda u: u.path.split("/"))
    top = min((u.path.count("/") for u in alive), default=0)
    return [(u.id, "\u00a0\u00a0" * (u.path.count("/") - top) + f"{u.name} ({u.code})") for u in alive]


def _default_unit(units: list[UnitPublic], unit_path: str | None) -> str:
    """The caller's own unit, or the top of what it sees."""
    alive = sorted((u for u in units if u.dissolved_on is None), key=lambda u: u.path.split("/"))
    own = next((u.id for u in alive if u.path == unit_path), None)
    return own or (alive[0].id if alive else "")


@router.get("/statistics", name="web_statistics")
async def statistics(request: Request) -> Response:
    """Shown at once for the caller's own unit, BM01 as of today, the first time; then as asked."""
    visit = await signed_in(request)
    if not may_at_all(visit.principal, Section.REPORTS, Action.READ):
        return error_page(request, 403)
    backends = backends_of(request)
    summaries, units = await asyncio.gather(
        form_summaries(visit.principal, backends), list_units(visit.principal, backends)
    )
    codes = [s.form for s in summaries]
    fields = [
        FormField("form", "Biểu mẫu", "choice", True, choices=[(s.form, f"{s.form} — {s.title}") for s in summaries]),
        FormField("unit_id", "Đơn vị (gồm các đơn vị trực thuộc)", "choice", True, choices=_unit_choices(units)),
        FormField("as_of", "Số liệu tại ngày (bỏ trống: hôm nay)", "date", False),
    ]
    asked = dict(request.query_params)
    if "form" not in asked:
        asked |= {"form": DEFAULT_FORM if DEFAULT_FORM in codes else (codes[0] if codes else "")}
        asked |= {"unit_id": _default_unit(units, visit.principal.unit_path)}
    given = checked(fields, asked)
    form: StatisticsForm | None = None
    faults: list[str] = []
    status_code = 200
    if given is None:
        status_code = 422
    else:
        try:
            form = await statistics_form(
                given["form"], visit.principal, backends, unit=given["unit_id"], as_of=given.get("as_of", "")
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in REFUSED:
                status_code, fault = REFUSED[exc.code()]
                faults = [fault]
            else:
                raise
        except RequestValidationError as exc:
            status_code = 422
            faults = refused(fields, _query_faults(exc)) or ([] if any(f.error for f in fields) else [str(exc)])
    return render(
        request,
        visit,
        "statistics.html",
        {
            "fields": fields,
            "faults": faults,
            "form": form,
            "headers": header_rows(form.columns) if form else [],
            "chart": chart_of(form, asked.get("chart", "")) if form else None,
            "charted": [c for c in form.columns if c.count in CHARTED] if form and form.kind != "list" else [],
            "people_link": _people_link(form) if form else None,
            "export_query": urlencode({"unit_id": form.unit_id, "as_of": form.as_of.isoformat()}) if form else "",
            "geometry": GEOMETRY,
        },
        status_code=status_code,
    )


def _query_faults(exc: RequestValidationError) -> list[tuple[str, str]]:
    """The gateway's 422 on a query (reports' refusal of `as_of`, say) as the page's fields name them."""
    names = {"unit": "unit_id"}
    return [(names.get(str(f["loc"][-1]), str(f["loc"][-1])), str(f["msg"])) for f in exc.errors()]


def _people_link(form: StatisticsForm) -> object:
    def link(row: StatisticsRowPublic, column: StatisticsColumnPublic) -> str:
        query = {"unit_id": form.unit_id, "row": row.key, "column": column.key, "as_of": form.as_of.isoformat()}
        return f"{PATH}/statistics/{form.form}/people?{urlencode(query)}"

    return link


@router.get("/statistics/{form}/people", name="web_statistics_people")
async def people(
    request: Request, form: str, unit_id: str = "", row: str = "", column: str = "", as_of: str = "", page: str = "1"
) -> Response:
    """The people a cell counts, those whose record the caller reads, a page at a time."""
    visit = await signed_in(request)
    backends = backends_of(request)
    number = page_number(page, 1_000_000)
    try:
        filled, found, units = await asyncio.gather(
            statistics_form(form, visit.principal, backends, unit=unit_id, as_of=as_of),
            statistics_people(
                form,
                visit.principal,
                backends,
                unit=unit_id,
                row=row,
                column=column,
                as_of=as_of,
                page=number,
                page_size=PEOPLE_PAGE,
            ),
            list_units(visit.principal, backends),
        )
    except RequestValidationError as exc:
        reasons = "; ".join(reason for _name, reason in _query_faults(exc))
        return error_page(request, 422, "Không có ô này trong biểu", reasons)
    shown_row = next((r for r in filled.rows if r.key == row), None)
    shown_column = next((c for c in filled.columns if c.key == column), None)
    if shown_row is None or shown_column is None:
        return error_page(request, 404)
    pages = max(1, math.ceil(found.total / PEOPLE_PAGE))

    def page_link(to: int) -> str:
        asked = {k: v for k, v in request.query_params.items() if k != "page"}
        return f"{request.url.path}?{urlencode(asked | {'page': str(to)})}"

    back = {"form": filled.form, "unit_id": filled.unit_id, "as_of": filled.as_of.isoformat()}
    return render(
        request,
        visit,
        "statistics_people.html",
        {
            "form": filled,
            "row": shown_row,
            "column": shown_column,
            "counted": shown_row.cells[filled.columns.index(shown_column)],
            "people": found.items,
            "total": found.total,
            "unit_names": {u.id: u.name for u in units},
            "page": number,
            "pages": pages,
            "previous_link": page_link(number - 1) if number > 1 else None,
            "next_link": page_link(number + 1) if number < pages else None,
            "back_link": f"{PATH}/statistics?{urlencode(back)}",
            "today": vietnam_today(),
        },
    )


@router.get("/statistics/{form}/export.{extension}", name="web_statistics_export")
async def export(request: Request, form: str, extension: str, unit_id: str = "", as_of: str = "") -> Response:
    visit = await signed_in(request)
    if extension not in ("xlsx", "pdf", "csv"):
        return error_page(request, 404)
    file_format: Literal["xlsx", "pdf", "csv"] = extension  # type: ignore[assignment]
    try:
        response = await export_form(
            form, visit.principal, backends_of(request), unit=unit_id, as_of=as_of, format=file_format
        )
    except RequestValidationError as exc:
        return error_page(request, 422, "Không xuất được", "; ".join(reason for _name, reason in _query_faults(exc)))
    if visit.renewed:
        web_state(request).cookies.write(response, visit.session, secure=secure(request))
    return response
