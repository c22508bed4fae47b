"""A statutory statistics form as a file: XLSX in the printed layout (the form's code and title, the
unit, the day, the headers merged over their runs of columns, the rows, the signature block) and
CSV for programs (the column keys as headers). Pure: given the form as the API answers it, they
write bytes."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

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
    sheet["A1"] = f"Biểu mẫu {form.code}/BNV"
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


def form_csv(form: FilledForm) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "unit_id", "label", *(c.key for c in form.columns)])
    for row in form.rows:
        values = ["" if v is None else v for v in row.cells]
        writer.writerow([row.key, row.unit_id, as_text(row.label), *values])
    return (BOM + out.getvalue()).encode("utf-8")
