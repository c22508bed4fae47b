"""The files of the reports (R-REP-5): one unit's report and a roll-up of a period's reports across
units, as XLSX for people, PDF for printing and CSV for programs; and the chart of a period's
reports by their state, as SVG or PNG. Pure: given what the reports service answered, they write
bytes; the routes fetch and check rights.

A report's layout is its template's (the version its period was opened with): one row per
indicator in the template's order, a table indicator as a table of its own below. A roll-up has a
row per unit (in the order of the tree) and a column per indicator that is not a table, then the
sum of each number over the approved reports: what the level above may count on."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from qlcb_common.days import VIETNAM
from qlcb_gateway.exports import BOM, as_text

STATES = {
    "not_started": "Chưa soạn",
    "draft": "Đang soạn",
    "submitted": "Đã gửi, chờ duyệt",
    "returned": "Bị trả lại",
    "approved": "Đã duyệt",
}
COUNTED = "approved"
_SCALAR = ("number", "percent", "text")


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    kind: str
    unit: str = ""
    columns: tuple[Indicator, ...] = ()


@dataclass(frozen=True)
class Heading:
    """What the file is of: the regime, its period and the unit (or subtree), and who printed it when."""

    regime: str
    period: str
    unit: str
    printed_by: str
    printed_at: datetime

    def lines(self) -> list[str]:
        when = self.printed_at.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")
        return [
            self.regime,
            f"Kỳ báo cáo: {self.period}",
            f"Đơn vị: {self.unit}",
            f"In bởi {self.printed_by} lúc {when}",
        ]


@dataclass(frozen=True)
class UnitReport:
    unit: str
    state: str
    values: Mapping[str, Any]


def indicators_of(raw: Sequence[Mapping[str, Any]]) -> list[Indicator]:
    return [
        Indicator(
            code=i["code"],
            label=i["label"],
            kind=i["kind"],
            unit=i.get("unit") or "",
            columns=tuple(indicators_of(i.get("columns") or [])),
        )
        for i in raw
    ]


def shown(value: Any) -> str:
    """A value as the forms print it: numbers with a decimal comma, nothing for a missing value."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
        return text.replace(",", " ").replace(".", ",")
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def totals(indicators: Sequence[Indicator], reports: Sequence[UnitReport]) -> dict[str, float]:
    """The sum of each number indicator over the approved reports."""
    sums: dict[str, float] = {}
    for indicator in indicators:
        if indicator.kind != "number":
            continue
        found = [_number(r.values.get(indicator.code)) for r in reports if r.state == COUNTED]
        sums[indicator.code] = sum(v for v in found if v is not None)
    return sums


def _scalars(indicators: Sequence[Indicator]) -> list[Indicator]:
    return [i for i in indicators if i.kind in _SCALAR]


def _rollup_rows(indicators: Sequence[Indicator], reports: Sequence[UnitReport]) -> list[list[Any]]:
    columns = _scalars(indicators)
    rows: list[list[Any]] = [
        [r.unit, STATES.get(r.state, r.state), *(r.values.get(i.code) for i in columns)] for r in reports
    ]
    sums = totals(indicators, reports)
    rows.append(["Tổng (các báo cáo đã duyệt)", "", *(sums.get(i.code) for i in columns)])
    return rows


def _rollup_header(indicators: Sequence[Indicator]) -> list[str]:
    return [
        "Đơn vị",
        "Trạng thái",
        *(f"{i.label} ({i.unit})" if i.unit else i.label for i in _scalars(indicators)),
    ]


# ---- CSV -------------------------------------------------------------------------------------------


def _csv(rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([as_text(v) if isinstance(v, str) else ("" if v is None else v) for v in row])
    return out.getvalue().encode("utf-8")


def report_csv(indicators: Sequence[Indicator], report: UnitReport) -> bytes:
    """One row per value: the indicator's code and label, the table row and column for a table."""
    rows: list[list[Any]] = [["ma_chi_tieu", "chi_tieu", "dong", "cot", "gia_tri"]]
    for indicator in indicators:
        value = report.values.get(indicator.code)
        if indicator.kind != "table":
            rows.append([indicator.code, indicator.label, "", "", value])
            continue
        for number, line in enumerate(value or [], start=1):
            rows.extend([indicator.code, indicator.label, number, c.code, line.get(c.code)] for c in indicator.columns)
    return _csv(rows)


def rollup_csv(indicators: Sequence[Indicator], reports: Sequence[UnitReport]) -> bytes:
    return _csv([_rollup_header(indicators), *_rollup_rows(indicators, reports)])


# ---- XLSX ------------------------------------------------------------------------------------------


def _xlsx(heading: Heading, tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Báo cáo"
    bold = Font(bold=True)
    for line in heading.lines():
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=13)
    widths: dict[int, int] = {}
    first_header = 0
    for title, header, rows in tables:
        sheet.append([])
        if title:
            sheet.append([title])
            sheet.cell(sheet.max_row, 1).font = bold
        sheet.append(list(header))
        first_header = first_header or sheet.max_row
        for column in range(1, len(header) + 1):
            cell = sheet.cell(sheet.max_row, column)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for row in rows:
            sheet.append(["" if v is None else v for v in row])
        for index, text in enumerate(header):
            longest = max([len(str(text)), *(len(shown(r[index])) for r in rows if index < len(r))])
            widths[index] = max(widths.get(index, 0), min(60, longest + 2))
    for index, width in widths.items():
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = f"A{first_header + 1}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _report_tables(indicators: Sequence[Indicator], report: UnitReport) -> list[tuple[str, list[str], list[list[Any]]]]:
    scalar_rows = [[i.label, i.unit, report.values.get(i.code)] for i in indicators if i.kind != "table"]
    tables: list[tuple[str, list[str], list[list[Any]]]] = [
        (f"Trạng thái: {STATES.get(report.state, report.state)}", ["Chỉ tiêu", "Đơn vị tính", "Giá trị"], scalar_rows)
    ]
    for i in indicators:
        if i.kind == "table":
            lines = [
                [n, *(line.get(c.code) for c in i.columns)] for n, line in enumerate(report.values.get(i.code) or [], 1)
            ]
            tables.append((i.label, ["STT", *(c.label for c in i.columns)], lines))
    return tables


def report_xlsx(heading: Heading, indicators: Sequence[Indicator], report: UnitReport) -> bytes:
    return _xlsx(heading, _report_tables(indicators, report))


def rollup_xlsx(heading: Heading, indicators: Sequence[Indicator], reports: Sequence[UnitReport]) -> bytes:
    return _xlsx(heading, [("", _rollup_header(indicators), _rollup_rows(indicators, reports))])


# ---- PDF -------------------------------------------------------------------------------------------

_BODY = ParagraphStyle("body", fontName="QLCBSerif", fontSize=9, leading=11)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName="QLCBSerif-Bold", fontSize=12, leading=15)
_HEAD = ParagraphStyle("head", parent=_BODY, fontName="QLCBSerif-Bold")


def _pdf(
    heading: Heading, tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]], *, wide: bool
) -> bytes:
    out = io.BytesIO()
    size = landscape(A4) if wide else A4
    document = SimpleDocTemplate(
        out,
        pagesize=size,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        initialFontName="QLCBSerif",  # else the canvas names Helvetica, which no PDF of ours embeds
    )
    document.title = heading.regime
    story: list[Any] = [Paragraph(heading.regime, _TITLE)]
    story += [Paragraph(line, _BODY) for line in heading.lines()[1:]]
    for title, header, rows in tables:
        story.append(Spacer(1, 0.4 * cm))
        if title:
            story.append(Paragraph(title, _TITLE))
        cells = [[Paragraph(str(h), _HEAD) for h in header]]
        cells += [[Paragraph(shown(v), _BODY) for v in row] for row in rows]
        table = Table(cells, repeatRows=1, colWidths=[(size[0] - 3 * cm) / len(header)] * len(header))
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), "QLCBSerif"),
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
    document.build(story)
    return out.getvalue()


def report_pdf(heading: Heading, indicators: Sequence[Indicator], report: UnitReport) -> bytes:
    return _pdf(heading, _report_tables(indicators, report), wide=False)


def rollup_pdf(heading: Heading, indicators: Sequence[Indicator], reports: Sequence[UnitReport]) -> bytes:
    header = _rollup_header(indicators)
    return _pdf(heading, [("", header, _rollup_rows(indicators, reports))], wide=len(header) > 4)


# ---- the chart -------------------------------------------------------------------------------------


def by_state(reports: Sequence[UnitReport]) -> dict[str, int]:
    """How many reports are in each state, every state named (0 when none)."""
    counts = dict.fromkeys(STATES, 0)
    for report in reports:
        counts[report.state] = counts.get(report.state, 0) + 1
    return counts


def state_chart(title: str, counts: Mapping[str, int], image_format: str) -> bytes:
    """A bar per state, its count above it; `image_format` "svg" or "png".

    matplotlib is imported here, at the first chart, not with the gateway: it is a good part of the
    gateway's start (every replica's, every restart's) and most replicas never draw a chart."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.add_subplot()
    labels = [STATES.get(state, state) for state in counts]
    bars = axes.bar(labels, list(counts.values()), color="#2f6f9f")
    axes.bar_label(bars)
    axes.set_title(title)
    axes.set_ylabel("Số báo cáo")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.autofmt_xdate(rotation=20)
    figure.tight_layout()
    out = io.BytesIO()
    canvas = FigureCanvasSVG(figure) if image_format == "svg" else FigureCanvasAgg(figure)
    canvas.print_figure(out, format=image_format)
    return out.getvalue()
