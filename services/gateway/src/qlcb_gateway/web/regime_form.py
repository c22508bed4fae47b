"""Issuing a report regime (R-REP-2), and a new version of its template, from the web.

The regime's fields first; then its indicators as the rows of one table, a table indicator's columns
being the rows that name it in "Cột của bảng". Rows left blank are not sent; "Thêm dòng" gives more,
keeping what was typed. What is typed wrong is said beside its input with nothing sent; reports
decides the rest, and each fault it names (`indicators[2].max`, `indicators[0].columns[1].kind`) is
put beside the row and input it came from. Offered to the tiers and delegations that issue regimes;
a new version to those who may change the regime at its issuing unit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import URL

from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import permits
from qlcb_common.validation_messages import vietnamese
from qlcb_gateway.errors import field_violations
from qlcb_gateway.routes.organisation import list_units
from qlcb_gateway.routes.report_regimes import (
    IndicatorPublic,
    RegimeCreate,
    RegimePublic,
    TemplateCreate,
    add_template_version,
    create_regime,
    get_regime,
)
from qlcb_gateway.schemas import UnitPublic
from qlcb_gateway.web.entry_form import FormField, checked, refused
from qlcb_gateway.web.pages import (
    Visit,
    backends_of,
    delegations_of,
    error_page,
    posted_form,
    render,
    signed_in,
    unit_in_reach,
)
from qlcb_gateway.web.reports import FREQUENCY_LABELS, KIND_LABELS
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)
Body = TypeVar("Body", bound=TemplateCreate)

UNIT_KIND_LABELS = {
    "general_department": "Tổng cục",
    "hq_department": "Vụ, đơn vị tham mưu",
    "hq_unit": "Cục, Văn phòng, đơn vị sự nghiệp",
    "provincial_department": "Cục Hải quan tỉnh, thành phố",
    "sub_unit": "Chi cục, phòng, đội",
    "commune": "Xã, phường, đặc khu",
}
COUNTING_LABELS = {"working_days": "Ngày làm việc", "calendar_days": "Ngày lịch"}
CELL_KIND_LABELS = {"number": "Số", "percent": "Tỷ lệ %", "text": "Chữ", "table": "Bảng"}
MOST_LEVELS = 10
ROWS_ADDED = 6
MOST_ROWS = 300
"""The rows a form may carry: reports takes 200 indicators, a table's columns being rows too."""
FORM_LARGEST = 512 * 1024
"""A template's rows, sent whole each time, outgrow other forms' limit: 300 rows of Vietnamese labels
(each letter with its marks sent as up to nine bytes) fit here, under the gateway's 1 MB for a body."""
ROW_INPUTS = (
    ("code", "Mã", "text", 64),
    ("label", "Chỉ tiêu", "text", 500),
    ("kind", "Kiểu", "choice", None),
    ("unit", "Đơn vị tính", "text", 50),
    ("required", "Bắt buộc", "box", None),
    ("min", "Nhỏ nhất", "decimal", 30),
    ("max", "Lớn nhất", "decimal", 30),
    ("integer", "Số nguyên", "box", None),
    ("max_length", "Số ký tự tối đa", "integer", None),
    ("max_rows", "Số dòng tối đa", "integer", None),
    ("table", "Cột của bảng (mã)", "text", 64),
)
LIMITS = {"max_length": (0, 20_000), "max_rows": (0, 10_000)}
REQUIRED_IN_ROW = ("code", "label", "kind")
COLUMNS = [(label, attr in REQUIRED_IN_ROW) for attr, label, *_ in ROW_INPUTS]


@dataclass
class IndicatorRow:
    """One row of the indicators' table: an indicator, or a column of the table its "table" names."""

    number: int
    inputs: list[FormField]

    def input(self, attr: str) -> FormField:
        (found,) = [f for f in self.inputs if f.name == f"ind.{self.number}.{attr}"]
        return found

    @property
    def blank(self) -> bool:
        return all(not f.value for f in self.inputs if not f.name.endswith(".kind"))


@dataclass
class Boxes:
    """A group of check boxes (the kinds and levels of the units that report)."""

    name: str
    legend: str
    options: list[tuple[str, str]]
    ticked: set[str] = field(default_factory=set)
    error: str = ""


@dataclass
class RegimeForm:
    header: list[FormField]
    boxes: list[Boxes]
    rows: list[IndicatorRow]

    def fields(self) -> list[FormField]:
        """Every input, for the summary of what was refused."""
        return self.header + [f for row in self.rows for f in row.inputs]

    def box_faults(self) -> list[str]:
        return [f"{group.legend}: {group.error}" for group in self.boxes if group.error]

    @property
    def split(self) -> int:
        """Where the check boxes go among the regime's inputs: after the issuing unit."""
        names = [f.name for f in self.header]
        return names.index("issuer_unit_id") + 1 if "issuer_unit_id" in names else 0


def _row(number: int, spec: IndicatorPublic | None = None, table: str = "") -> IndicatorRow:
    inputs = []
    for attr, label, kind, max_length in ROW_INPUTS:
        low, high = LIMITS.get(attr, (None, None))
        choices = list(CELL_KIND_LABELS.items()) if attr == "kind" else []
        inputs.append(
            FormField(
                f"ind.{number}.{attr}",
                f"Dòng {number}, {label}",
                kind,
                required=False,  # a row left blank is not sent: see _typed
                value=_shown(spec, attr, table),
                max_length=max_length,
                minimum=low,
                maximum=high,
                choices=choices,
            )
        )
    return IndicatorRow(number, inputs)


def _shown(spec: IndicatorPublic | None, attr: str, table: str) -> str:
    """What a row shows of an indicator of the current template (a new version starts from it)."""
    if spec is None:
        return "number" if attr == "kind" else ""
    if attr == "table":
        return table
    value = getattr(spec, attr)
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if value in (None, 0) and attr in ("max_length", "max_rows"):
        return ""
    return "" if value is None else str(value)


def rows_of(indicators: list[IndicatorPublic], blank: int) -> list[IndicatorRow]:
    """A template's indicators as rows, each table followed by its columns, then `blank` empty rows."""
    specs: list[tuple[IndicatorPublic, str]] = []
    for spec in indicators:
        specs.append((spec, ""))
        specs.extend((column, spec.code) for column in spec.columns)
    rows = [_row(n, spec, table) for n, (spec, table) in enumerate(specs, start=1)]
    return rows + [_row(n) for n in range(len(rows) + 1, len(rows) + blank + 1)]


def _issuers(units: list[UnitPublic], visit: Visit, delegations: list[Any]) -> list[tuple[str, str]]:
    """The units the caller may issue a regime at, in tree order."""
    found = sorted((u for u in units if u.dissolved_on is None), key=lambda u: u.path.split("/"))
    return [
        (u.id, f"{'— ' * (u.path.count('/') - 1)}{u.name} ({u.code})")
        for u in found
        if permits(visit.principal, Section.REPORT_REGIMES, Action.CREATE, u.path, delegations=delegations)
    ]


def _header(issuers: list[tuple[str, str]]) -> list[FormField]:
    return [
        FormField("code", "Mã chế độ báo cáo (chữ in hoa không dấu, số, - và _)", "text", True, max_length=32),
        FormField("name", "Tên chế độ báo cáo", "text", True, max_length=255),
        FormField("kind", "Loại", "choice", True, choices=list(KIND_LABELS.items())),
        FormField(
            "frequency",
            "Tần suất (báo cáo định kỳ)",
            "choice",
            False,
            choices=[(k, v[0].upper() + v[1:]) for k, v in FREQUENCY_LABELS.items()],
        ),
        FormField("legal_basis", "Căn cứ pháp lý", "text", True, max_length=1000),
        FormField("issuer_unit_id", "Đơn vị ban hành (duyệt cấp cao nhất)", "choice", True, choices=issuers),
        FormField(
            "cutoff_day",
            "Ngày chốt số liệu trong tháng cuối kỳ (để trống: cuối kỳ)",
            "integer",
            False,
            minimum=1,
            maximum=28,
        ),
        FormField("deadline_days", "Hạn gửi: số ngày sau ngày chốt số liệu", "integer", True, minimum=0, maximum=366),
        FormField(
            "deadline_counting",
            "Cách tính hạn gửi",
            "choice",
            True,
            value="working_days",
            choices=list(COUNTING_LABELS.items()),
        ),
        FormField(
            "reminder_days",
            "Nhắc hạn trước bao nhiêu ngày làm việc (0: không nhắc)",
            "integer",
            True,
            value="3",
            minimum=0,
            maximum=30,
        ),
        _outline(),
    ]


def _outline(value: str = "") -> FormField:
    return FormField("outline", "Đề cương báo cáo", "textarea", False, value=value, max_length=20_000)


def _boxes(units: list[UnitPublic]) -> list[Boxes]:
    deepest = min(max((u.path.count("/") for u in units), default=1), MOST_LEVELS)
    levels = [(str(n), "Cấp 1 (gốc)" if n == 1 else f"Cấp {n}") for n in range(1, deepest + 1)]
    return [
        Boxes("unit_kinds", "Loại đơn vị thực hiện (không chọn: mọi loại)", list(UNIT_KIND_LABELS.items())),
        Boxes("unit_levels", "Cấp đơn vị thực hiện (không chọn: mọi cấp)", levels),
    ]


def _row_count(sent: dict[str, str], least: int) -> int:
    asked = sent.get("rows", "")
    count = int(asked) if asked.isascii() and asked.isdigit() and len(asked) < 4 else least
    return max(1, min(count, MOST_ROWS))


class Placed:
    """Where each indicator sent came from, to put reports' faults (`indicators[2].columns[0].kind`)
    beside the row and input they name."""

    def __init__(self) -> None:
        self.rows: dict[str, IndicatorRow] = {}

    def add(self, place: str, row: IndicatorRow) -> None:
        self.rows[place] = row

    def field_name(self, where: str) -> str:
        place, _, attr = where.rpartition(".")
        row = self.rows.get(place)
        if row is None:
            return where
        return row.input(attr if attr in {a for a, *_ in ROW_INPUTS} else "kind").name


def _typed(row: IndicatorRow, sent: dict[str, str]) -> dict[str, Any] | None:
    given = checked(row.inputs, sent)
    for attr in REQUIRED_IN_ROW:
        spec = row.input(attr)
        if not spec.value and not spec.error:
            spec.error = "Bắt buộc nhập"
            given = None
    if given is None:
        return None
    typed = {name.rpartition(".")[2]: value for name, value in given.get("ind", {}).items()}
    for attr in ("min", "max"):
        if attr in typed:
            typed[attr] = float(typed[attr])
    for attr in ("required", "integer"):
        typed[attr] = attr in typed
    return typed


def indicators_of(rows: list[IndicatorRow], sent: dict[str, str], placed: Placed) -> list[dict[str, Any]] | None:
    """The template's indicators as the REST body takes them, from the rows not left blank; None
    when a row is at fault (said beside its input)."""
    typed_rows: list[tuple[IndicatorRow, dict[str, Any]]] = []
    failed = False
    for row in rows:
        for spec in row.inputs:
            spec.value = sent.get(spec.name, "").strip()
        if row.blank:
            continue
        typed = _typed(row, sent)
        if typed is None:
            failed = True
        else:
            typed_rows.append((row, typed))
    if not typed_rows and not failed and rows:
        rows[0].input("code").error = "Mẫu báo cáo cần ít nhất một chỉ tiêu"
        return None
    tables: dict[str, int] = {}
    indicators: list[dict[str, Any]] = []
    for row, typed in typed_rows:
        if typed.get("table"):
            continue
        placed.add(f"indicators[{len(indicators)}]", row)
        if typed["kind"] == "table":
            tables.setdefault(typed["code"], len(indicators))
        indicators.append({k: v for k, v in typed.items() if k != "table"} | {"columns": []})
    for row, typed in typed_rows:
        owner = typed.get("table")
        if not owner:
            continue
        index = tables.get(owner)
        if index is None:
            row.input("table").error = f"Không có chỉ tiêu kiểu Bảng mã {owner}"
            failed = True
            continue
        if "max_rows" in typed:
            row.input("max_rows").error = "Chỉ chỉ tiêu kiểu Bảng mới có số dòng"
            failed = True
            continue
        columns = indicators[index]["columns"]
        placed.add(f"indicators[{index}].columns[{len(columns)}]", row)
        columns.append({k: v for k, v in typed.items() if k != "table"})
    return None if failed else indicators


def _placed_faults(form: RegimeForm, placed: Placed, faults: list[tuple[str, str]]) -> list[str]:
    """Each fault beside the input it names; those naming none returned, to be said above the form."""
    boxes = {b.name: b for b in form.boxes}
    elsewhere: list[tuple[str, str]] = []
    for where, reason in faults:
        group = boxes.get(where.partition("[")[0])
        if group is not None:
            group.error = reason
        else:
            elsewhere.append((placed.field_name(where), reason))
    return refused(form.fields(), elsewhere)


def _pydantic_faults(exc: ValidationError) -> list[tuple[str, str]]:
    faults = []
    for fault in exc.errors():
        where = ""
        for part in fault["loc"]:
            where = f"{where}[{part}]" if isinstance(part, int) else f"{where}.{part}" if where else str(part)
        faults.append((where, vietnamese(fault)))
    return faults


def _ticked(form: RegimeForm, sent: dict[str, str]) -> dict[str, list[Any]]:
    chosen: dict[str, list[Any]] = {}
    for group in form.boxes:
        group.ticked = {value for value, _ in group.options if sent.get(f"{group.name}.{value}") == "1"}
        values = [value for value, _ in group.options if value in group.ticked]
        chosen[group.name] = [int(v) for v in values] if group.name == "unit_levels" else values
    return chosen


async def _new_form(request: Request, visit: Visit) -> RegimeForm | None:
    """The blank form, or None when the caller may issue a regime at no unit."""
    units, delegations = await asyncio.gather(
        list_units(visit.principal, backends_of(request)), delegations_of(request, visit)
    )
    issuers = _issuers(units, visit, delegations)
    if not issuers:
        return None
    return RegimeForm(_header(issuers), _boxes(units), rows_of([], ROWS_ADDED))


def _render(
    request: Request, visit: Visit, form: RegimeForm, *, regime: RegimePublic | None, faults: list[str], status: int
) -> Response:
    context = {"form": form, "regime": regime, "faults": faults, "rows_added": ROWS_ADDED, "columns": COLUMNS}
    return render(request, visit, "regime_form.html", context, status_code=status)


def _more_rows(form: RegimeForm, sent: dict[str, str]) -> None:
    """Keeps what was typed (faults are said when the form is sent) and adds blank rows after."""
    checked(form.header, sent)
    for spec in form.header:
        spec.error = ""
    for row in form.rows:
        for spec in row.inputs:
            spec.value = sent.get(spec.name, "").strip()
    start = len(form.rows) + 1
    form.rows += [_row(n) for n in range(start, min(start + ROWS_ADDED, MOST_ROWS + 1))]


@router.get("/reports/new", name="web_regime_new")
async def new_regime(request: Request) -> Response:
    visit = await signed_in(request)
    form = await _new_form(request, visit)
    if form is None:
        return error_page(request, 403)
    return _render(request, visit, form, regime=None, faults=[], status=200)


@router.post("/reports/new", name="web_regime_issue")
async def issue(request: Request) -> Response:
    visit = await signed_in(request)
    sent = await posted_form(request, visit, FORM_LARGEST)
    if isinstance(sent, Response):
        return sent
    form = await _new_form(request, visit)
    if form is None:
        return error_page(request, 403)
    form.rows = [_row(n) for n in range(1, _row_count(sent, ROWS_ADDED) + 1)]

    async def issued(body: RegimeCreate) -> URL:
        made = await create_regime(body, visit.principal, backends_of(request))
        return page_url(request, "web_regime", regime_id=made.id).include_query_params(saved="issued")

    return await _submitted(request, visit, form, sent, RegimeCreate, issued, regime=None)


async def _submitted(
    request: Request,
    visit: Visit,
    form: RegimeForm,
    sent: dict[str, str],
    model: type[Body],
    send: Callable[[Body], Awaitable[URL]],
    *,
    regime: RegimePublic | None,
) -> Response:
    """The form sent: given more rows; or checked here, then by the REST body's model, then sent,
    each fault said beside its input; done, the regime's page."""
    chosen = _ticked(form, sent)
    if sent.get("then") == "more":
        _more_rows(form, sent)
        return _render(request, visit, form, regime=regime, faults=[], status=200)
    header = checked(form.header, sent)
    placed = Placed()
    indicators = indicators_of(form.rows, sent, placed)
    if header is None or indicators is None:
        return _render(request, visit, form, regime=regime, faults=[], status=422)
    given = {k: v for k, v in header.items() if k not in ("values", "decision")}
    try:
        body = model.model_validate(given | chosen | {"indicators": indicators})
    except ValidationError as exc:
        faults = _placed_faults(form, placed, _pydantic_faults(exc))
        return _render(request, visit, form, regime=regime, faults=faults, status=422)
    try:
        target = await send(body)
    except grpc.aio.AioRpcError as exc:
        return _refused(request, visit, form, placed, exc, regime=regime)
    return RedirectResponse(str(target), status_code=303)


def _refused(
    request: Request,
    visit: Visit,
    form: RegimeForm,
    placed: Placed,
    exc: grpc.aio.AioRpcError,
    *,
    regime: RegimePublic | None,
) -> Response:
    """Reports' refusal on the form: a code taken beside the code, each fault beside its input."""
    if exc.code() is grpc.StatusCode.PERMISSION_DENIED:
        return error_page(request, 403)
    if exc.code() is grpc.StatusCode.ALREADY_EXISTS:
        refused(form.header, [("code", exc.details() or "Mã chế độ báo cáo đã có")])
        return _render(request, visit, form, regime=regime, faults=[], status=409)
    if exc.code() is not grpc.StatusCode.INVALID_ARGUMENT:
        raise exc
    faults = _placed_faults(form, placed, field_violations(exc))
    if not faults and not any(f.error for f in form.fields()) and not any(b.error for b in form.boxes):
        faults = [exc.details() or ""]
    return _render(request, visit, form, regime=regime, faults=faults, status=422)


async def _version_form(request: Request, visit: Visit, regime_id: str) -> tuple[RegimePublic, RegimeForm] | None:
    """The regime and its current template as a form, or None when the caller may not change it."""
    found = await get_regime(regime_id, visit.principal, backends_of(request))
    issuer, delegations = await asyncio.gather(
        unit_in_reach(request, visit, found.issuer_unit_id), delegations_of(request, visit)
    )
    if issuer is None or not permits(
        visit.principal, Section.REPORT_REGIMES, Action.UPDATE, issuer.path, delegations=delegations
    ):
        return None
    current = found.templates[-1] if found.templates else None
    rows = rows_of(current.indicators if current else [], ROWS_ADDED)
    return found, RegimeForm([_outline(current.outline if current else "")], [], rows)


@router.get("/reports/{regime_id}/versions/new", name="web_template_new")
async def new_version(request: Request, regime_id: str) -> Response:
    visit = await signed_in(request)
    made = await _version_form(request, visit, regime_id)
    if made is None:
        return error_page(request, 403)
    found, form = made
    return _render(request, visit, form, regime=found, faults=[], status=200)


@router.post("/reports/{regime_id}/versions/new", name="web_template_add")
async def add_version(request: Request, regime_id: str) -> Response:
    visit = await signed_in(request)
    sent = await posted_form(request, visit, FORM_LARGEST)
    if isinstance(sent, Response):
        return sent
    made = await _version_form(request, visit, regime_id)
    if made is None:
        return error_page(request, 403)
    found, form = made
    form.rows = [_row(n) for n in range(1, _row_count(sent, len(form.rows)) + 1)]

    async def added(body: TemplateCreate) -> URL:
        changed = await add_template_version(regime_id, body, visit.principal, backends_of(request))
        version = changed.templates[-1].version
        return page_url(request, "web_regime", regime_id=regime_id).include_query_params(saved=f"version-{version}")

    return await _submitted(request, visit, form, sent, TemplateCreate, added, regime=found)
