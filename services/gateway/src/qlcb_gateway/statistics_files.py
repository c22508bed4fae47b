"""A statutory statistics form as a file: XLSX and PDF in the printed layout (the form's code and
title, the unit, the day, the headers merged over their runs of columns, the rows, the signature
block) and CSV for programs (the column keys as headers). Pure: given the form as the API answers
it, they write bytes. The PDF is set in the DejaVu fonts the gateway registers at its start (as the
resume's, `resume_files.register_fonts`), embedded in the file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A3, A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from qlcb_gateway.exports import BOM, as_text


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    header: str


@dataclass(frozen=True)
class FormRow:
    key: str
    label: str
    unit_id: str
    cells: list[int | str | None]


@dataclass(frozen=True)
class FilledForm:
    code: str
    title: str
    legal_basis: str
    notes: list[str]
    unit_name: str
    as_of: date
    columns: list[Column]
    rows: list[FormRow]
    kind: str = "counts"
    """"counts" or "events" (a row per unit, its name beside), "list" (a row per person, named in a column)."""
    designation: str = ""
    """The form's name for itself in the top corner ("Biểu mẫu BM01/BNV"); empty: none printed."""


_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_BOLD = Font(bold=True)


def _runs(columns: list[Column]) -> list[tuple[str, int, int]]:
    """The header of each run of neighbouring columns sharing it, with the run's first and last index."""
    runs: list[tuple[str, int, int]] = []
    for i, column in enumerate(columns):
        if runs and column.header and runs[-1][0] == column.header and runs[-1][2] == i - 1:
            runs[-1] = (column.header, runs[-1][1], i)
        else:
            runs.append((column.header, i, i))
    return runs


def form_xlsx(form: FilledForm, printed_by: str, printed_at: datetime) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = form.code
    width = len(form.columns) + 2
    last = get_column_letter(width)
    sheet["A1"] = form.designation
    sheet["A1"].font = _BOLD
    sheet.merge_cells(f"A2:{last}2")
    sheet["A2"] = form.title.upper()
    sheet["A2"].font = Font(bold=True, size=13)
    sheet["A2"].alignment = _CENTRE
    sheet.merge_cells(f"A3:{last}3")
    sheet["A3"] = f"Đơn vị: {form.unit_name} — Số liệu tại ngày {form.as_of:%d/%m/%Y}"
    sheet["A3"].alignment = _CENTRE
    top, below = 5, 6
    for column, text in ((1, "STT"), (2, "Tên đơn vị")):
        sheet.merge_cells(start_row=top, start_column=column, end_row=below, end_column=column)
        sheet.cell(top, column, text)
    for header, first, end in _runs(form.columns):
        if header:
            if end > first:
                sheet.merge_cells(start_row=top, start_column=first + 3, end_row=top, end_column=end + 3)
            sheet.cell(top, first + 3, header)
            for i in range(first, end + 1):
                sheet.cell(below, i + 3, form.columns[i].label)
        else:
            sheet.merge_cells(start_row=top, start_column=first + 3, end_row=below, end_column=first + 3)
            sheet.cell(top, first + 3, form.columns[first].label)
    numbering = below + 1
    for column in range(1, width + 1):
        sheet.cell(numbering, column, column)
    for row_number in range(top, numbering + 1):
        for column in range(1, width + 1):
            cell = sheet.cell(row_number, column)
            cell.alignment, cell.border, cell.font = _CENTRE, _BOX, _BOLD
    at, number = numbering, 0
    for row in form.rows:
        at += 1
        number += row.key != "total"
        sheet.cell(at, 1, "" if row.key == "total" else number)
        sheet.cell(at, 2, row.label)
        for i, value in enumerate(row.cells):
            sheet.cell(at, i + 3, value)
        for column in range(1, width + 1):
            sheet.cell(at, column).border = _BOX
            if row.key == "total":
                sheet.cell(at, column).font = _BOLD
    at += 2
    for note in form.notes:
        sheet.cell(at, 1, f"Ghi chú: {note}")
        at += 1
    at += 1
    right = max(width - 5, 3)
    sheet.cell(at, 2, "NGƯỜI LẬP BIỂU").font = _BOLD
    sheet.cell(at, right, f"Ngày {printed_at:%d} tháng {printed_at:%m} năm {printed_at:%Y}")
    sheet.cell(at + 1, 2, "(Ký, ghi rõ họ tên)")
    sheet.cell(at + 1, right, "THỦ TRƯỞNG ĐƠN VỊ").font = _BOLD
    sheet.cell(at + 2, right, "(Ký tên, đóng dấu)")
    sheet.cell(at + 5, 2, printed_by)
    sheet.cell(at + 7, 1, form.legal_basis).font = Font(italic=True, size=9)
    sheet.column_dimensions["B"].width = 36
    sheet.freeze_panes = f"C{numbering + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---- PDF -------------------------------------------------------------------------------------------

_PDF_BODY = ParagraphStyle("statistics-body", fontName="QLCBSerif", fontSize=9, leading=11.5)
_PDF_TITLE = ParagraphStyle(
    "statistics-title", parent=_PDF_BODY, fontName="QLCBSerif-Bold", fontSize=13, leading=17, alignment=TA_CENTER
)
_PDF_CENTRE = ParagraphStyle("statistics-centre", parent=_PDF_BODY, alignment=TA_CENTER)
_PDF_SIGN = ParagraphStyle("statistics-sign", parent=_PDF_CENTRE, fontName="QLCBSerif-Bold")
_PDF_SMALL = ParagraphStyle("statistics-small", parent=_PDF_BODY, fontSize=7.5, leading=9.5)
_PDF_MARGIN = 1.2 * cm
_A4_COLUMNS = 16
"""The most columns a form has on landscape A4; a wider one (BM01's 35) prints on landscape A3."""


def _pdf_cell(value: int | str | None, size: float, *, bold: bool = False, centred: bool = True) -> Paragraph:
    style = ParagraphStyle(
        "statistics-cell",
        fontName="QLCBSerif-Bold" if bold else "QLCBSerif",
        fontSize=size,
        leading=size * 1.2,
        alignment=TA_CENTER if centred else 0,
    )
    return Paragraph("" if value is None else escape(str(value)), style)


def _lead(form: FilledForm) -> list[str]:
    """The columns every printed form begins with: the row's number, and the unit's name beside it."""
    return ["STT"] if form.kind == "list" else ["STT", "Tên đơn vị"]


def _pdf_table(form: FilledForm, width: float) -> Table:
    """The form's grid: two header rows (a header merged over its run of columns, a lone column's
    label over both), the columns' numbers, then a row per unit (or person), the total in bold."""
    lead = _lead(form)
    named = len(lead) > 1
    offset = len(lead)
    count = offset + len(form.columns)
    size = 8.0 if count <= _A4_COLUMNS else 6.0
    top: list[Any] = [_pdf_cell(text, size, bold=True) for text in lead] + [""] * len(form.columns)
    below: list[Any] = [""] * count
    spans: list[tuple[Any, ...]] = [("SPAN", (i, 0), (i, 1)) for i in range(offset)]
    for header, first, end in _runs(form.columns):
        if header:
            top[first + offset] = _pdf_cell(header, size, bold=True)
            if end > first:
                spans.append(("SPAN", (first + offset, 0), (end + offset, 0)))
            for i in range(first, end + 1):
                below[i + offset] = _pdf_cell(form.columns[i].label, size)
        else:
            top[first + offset] = _pdf_cell(form.columns[first].label, size)
            spans.append(("SPAN", (first + offset, 0), (first + offset, 1)))
    rows: list[list[Any]] = [top, below, [_pdf_cell(n, size) for n in range(1, count + 1)]]
    number = 0
    for row in form.rows:
        total = row.key == "total"
        number += not total
        cells = [_pdf_cell("" if total else number, size, bold=total)]
        if named:
            cells.append(_pdf_cell(row.label, size, bold=total, centred=False))
        cells += [_pdf_cell(v, size, bold=total) for v in row.cells]
        rows.append(cells)
    first_width = 0.9 * cm
    label_width = (4.5 * cm if count > _A4_COLUMNS else 6 * cm) if named else 0
    rest = (width - first_width - label_width) / len(form.columns)
    widths = [first_width, *([label_width] if named else []), *([rest] * len(form.columns))]
    table = Table(rows, colWidths=widths, repeatRows=3)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), "QLCBSerif"),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, 2), colors.Color(0.92, 0.92, 0.92)),
                ("LEFTPADDING", (0, 0), (-1, -1), 1.5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 1.5),
                *spans,
            ]
        )
    )
    return table


def form_pdf(form: FilledForm, printed_by: str, printed_at: datetime) -> bytes:
    """The form as printed: landscape A4, or A3 when its columns would not fit A4."""
    wide = len(_lead(form)) + len(form.columns) > _A4_COLUMNS
    size = landscape(A3 if wide else A4)
    width = size[0] - 2 * _PDF_MARGIN
    story: list[Any] = []
    if form.designation:
        story.append(Paragraph(escape(form.designation), _PDF_SIGN.clone("statistics-code", alignment=0)))
    story += [
        Paragraph(escape(form.title.upper()), _PDF_TITLE),
        Paragraph(escape(f"Đơn vị: {form.unit_name} — Số liệu tại ngày {form.as_of:%d/%m/%Y}"), _PDF_CENTRE),
        Spacer(1, 0.3 * cm),
        _pdf_table(form, width),
        Spacer(1, 0.3 * cm),
    ]
    story += [Paragraph(escape(f"Ghi chú: {note}"), _PDF_SMALL) for note in form.notes]
    signatures = Table(
        [
            [
                Paragraph("", _PDF_CENTRE),
                Paragraph(f"Ngày {printed_at:%d} tháng {printed_at:%m} năm {printed_at:%Y}", _PDF_CENTRE),
            ],
            [Paragraph("NGƯỜI LẬP BIỂU", _PDF_SIGN), Paragraph("THỦ TRƯỞNG ĐƠN VỊ", _PDF_SIGN)],
            [Paragraph("(Ký, ghi rõ họ tên)", _PDF_CENTRE), Paragraph("(Ký tên, đóng dấu)", _PDF_CENTRE)],
            [Paragraph(escape(printed_by), _PDF_CENTRE), Paragraph("", _PDF_CENTRE)],
        ],
        colWidths=[width / 2, width / 2],
        rowHeights=[None, None, 1.8 * cm, None],
        style=TableStyle([("FONTNAME", (0, 0), (-1, -1), "QLCBSerif"), ("VALIGN", (0, 0), (-1, -1), "TOP")]),
    )
    story += [Spacer(1, 0.4 * cm), KeepTogether([signatures, Spacer(1, 0.3 * cm)])]
    story.append(Paragraph(escape(form.legal_basis), _PDF_SMALL))

    def foot(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("QLCBSerif", 7.5)
        canvas.drawString(
            _PDF_MARGIN, 0.7 * cm, f"Lập từ cơ sở dữ liệu QLCB lúc {printed_at:%H:%M %d/%m/%Y} bởi {printed_by}"
        )
        canvas.drawRightString(size[0] - _PDF_MARGIN, 0.7 * cm, f"Trang {document.page}")
        canvas.restoreState()

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=size,
        leftMargin=_PDF_MARGIN,
        rightMargin=_PDF_MARGIN,
        topMargin=_PDF_MARGIN,
        bottomMargin=_PDF_MARGIN,
        title=f"{form.code} — {form.unit_name} — {form.as_of:%d/%m/%Y}",
        author=printed_by,
        subject=form.title,
        initialFontName="QLCBSerif",  # else the canvas names Helvetica, which no PDF of ours embeds
    )
    document.build(story, onFirstPage=foot, onLaterPages=foot)
    return out.getvalue()


def form_csv(form: FilledForm) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "unit_id", "label", *(c.key for c in form.columns)])
    for row in form.rows:
        values = ["" if v is None else v for v in row.cells]
        writer.writerow([row.key, row.unit_id, as_text(row.label), *values])
    return (BOM + out.getvalue()).encode("utf-8")
