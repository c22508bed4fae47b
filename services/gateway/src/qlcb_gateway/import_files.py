"""The files of the bulk import (issue 9.4): the templates an officer downloads, and the reading of
the file they send back.

- Templates: CSV (UTF-8 with a byte-order mark, the header row alone) and XLSX (the header row
  frozen, columns sized and typed, and a second sheet "Hướng dẫn" saying for each column whether it
  is required, how to write it and which catalog codes it takes).
- Reading: XLSX by openpyxl in read-only mode (a row at a time from the file on disk, never the
  workbook whole), the first sheet, its first row the header; CSV as UTF-8 with or without a
  byte-order mark, comma- or semicolon-separated. Each cell becomes text (a date cell its ISO day,
  a whole number without ".0"). A cell holding a formula is refused naming it (C5), as is data in a
  column without a header; the header must be the template's (the required columns there, no column
  it does not have, none twice). Blank rows are skipped; row numbers stay the spreadsheet's."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TextIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from qlcb_common.import_templates import Column, Format, Template
from qlcb_common.limits import MAX_REPORTED_ERRORS
from qlcb_gateway.exports import BOM, XLSX_TYPE

MEDIA_TYPES = {"text/csv": "csv", XLSX_TYPE: "xlsx"}
GUIDE_SHEET = "Hướng dẫn"
DATA_SHEET = "Dữ liệu"
MAX_CODES_LISTED = 80
"""Codes of a catalog the guide lists; a longer catalog (the communes) is named, to look up."""
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Fault:
    row: int
    column: str
    reason: str


@dataclass
class Faults(Exception):
    """What is wrong with the file itself (its header, a formula, its encoding): nothing of it is imported."""

    found: list[Fault] = field(default_factory=list)

    def add(self, row: int, column: str, reason: str) -> None:
        if len(self.found) < MAX_REPORTED_ERRORS:
            self.found.append(Fault(row, column, reason))


def _words(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def match_header(template: Template, header: Sequence[str]) -> list[str | None]:
    """The template field of each column of the file (None: a column without a header), or the
    faults of the header: a required column missing, a column the template does not have, one twice."""
    by_words = {_words(c.header): c for c in template.columns}
    faults = Faults()
    fields: list[str | None] = []
    seen: set[str] = set()
    for index, given in enumerate(header, start=1):
        words = _words(given)
        column = by_words.get(words)
        if not words:
            fields.append(None)
        elif column is None:
            faults.add(1, given.strip(), f"Cột «{given.strip()}» (cột {get_column_letter(index)}) không có trong mẫu")
            fields.append(None)
        elif column.field in seen:
            faults.add(1, column.header, f"Cột «{column.header}» có hai lần")
            fields.append(None)
        else:
            seen.add(column.field)
            fields.append(column.field)
    for column in template.columns:
        if column.required and column.field not in seen:
            faults.add(1, column.header, f"Thiếu cột bắt buộc «{column.header}»")
    if template.one_of and not seen & set(template.one_of):
        headers = " hoặc ".join(f"«{template.header_of(f)}»" for f in template.one_of)
        faults.add(1, template.header_of(template.one_of[0]), f"Cần cột {headers}")
    if faults.found:
        raise faults
    return fields


def cell_text(value: Any) -> str:
    """A cell's value as the text personnel reads: days ISO, whole numbers without a decimal point."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Upload:
    """An uploaded file, read a row at a time: `header`, then `rows` (number, the cell of each
    column of the header). Raises `Faults` for a file that cannot be read, when opened or midway."""

    header: list[str]

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class XlsxUpload(Upload):
    def __init__(self, path: Path) -> None:
        try:
            self._book = load_workbook(path, read_only=True, data_only=False)
        except Exception as exc:
            raise Faults([Fault(0, "", "Không đọc được tệp XLSX (tệp hỏng hoặc không phải XLSX)")]) from exc
        sheet = self._book.worksheets[0]
        self._rows = sheet.iter_rows()
        first = next(self._rows, ())
        self._formulas(1, first, Faults(), raise_found=True)
        self.header = [cell_text(c.value).strip() for c in first]

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.header)
        faults = Faults()
        for number, cells in enumerate(self._rows, start=2):
            self._formulas(number, cells, faults)
            texts = [cell_text(c.value) for c in cells]
            if not any(t.strip() for t in texts):
                continue
            _stray(number, texts, self.header, faults)
            if not faults.found:
                yield number, texts[:width] + [""] * (width - len(texts))
        if faults.found:
            raise faults

    def _formulas(self, number: int, cells: Sequence[Any], faults: Faults, *, raise_found: bool = False) -> None:
        header = getattr(self, "header", [])
        for index, cell in enumerate(cells, start=1):
            if getattr(cell, "data_type", None) == "f":
                column = header[index - 1] if index <= len(header) else ""
                where = f"{get_column_letter(index)}{number}"
                faults.add(
                    number, column, f"Ô {where} chứa công thức: chỉ nhận giá trị, hãy dán giá trị thay công thức"
                )
        if raise_found and faults.found:
            raise faults

    def close(self) -> None:
        self._book.close()


class CsvUpload(Upload):
    def __init__(self, path: Path) -> None:
        self._file: TextIO = path.open(encoding="utf-8-sig", newline="")
        try:
            first_line = self._file.readline()
        except UnicodeDecodeError as exc:
            self._file.close()
            raise Faults([Fault(1, "", "Tệp CSV phải mã hóa UTF-8")]) from exc
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        self.header = [h.strip() for h in next(csv.reader([first_line], delimiter=delimiter), [])]
        self._reader = csv.reader(self._file, delimiter=delimiter)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.header)
        faults = Faults()
        number = 1
        try:
            for number, cells in enumerate(self._reader, start=2):
                if not any(c.strip() for c in cells):
                    continue
                _stray(number, cells, self.header, faults)
                for index, text in enumerate(cells[:width], start=1):
                    if text.startswith("="):
                        where = f"{get_column_letter(index)}{number}"
                        faults.add(number, self.header[index - 1], f"Ô {where} chứa công thức: chỉ nhận giá trị")
                if not faults.found:
                    yield number, cells[:width] + [""] * (width - len(cells))
        except UnicodeDecodeError:
            faults.add(number + 1, "", f"Tệp CSV phải mã hóa UTF-8 (lỗi từ khoảng dòng {number + 1})")
        except csv.Error as exc:
            faults.add(number + 1, "", f"Dòng {number + 1} không đọc được theo CSV: {exc}")
        if faults.found:
            raise faults

    def close(self) -> None:
        self._file.close()


def _stray(number: int, texts: Sequence[str], header: Sequence[str], faults: Faults) -> None:
    """Data in a column without a header (after the last one, or one left blank) belongs to no field."""
    for index, text in enumerate(texts, start=1):
        if text.strip() and (index > len(header) or not header[index - 1].strip()):
            faults.add(number, "", f"Ô {get_column_letter(index)}{number} có dữ liệu ở cột không có tiêu đề của mẫu")


def open_upload(path: Path, kind: str) -> Upload:
    """`kind`: csv or xlsx."""
    return XlsxUpload(path) if kind == "xlsx" else CsvUpload(path)


# ---- the templates ---------------------------------------------------------------------------------

NUMBER_FORMATS = {Format.TEXT: "@", Format.DATE: "DD/MM/YYYY", Format.NUMBER: "General"}


def csv_template(template: Template) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([c.header for c in template.columns])
    return (BOM + buffer.getvalue()).encode()


def xlsx_template(template: Template, codes: Mapping[str, Sequence[tuple[str, str]]], path: Path) -> None:
    """The workbook: the data sheet with the header (frozen, sized, each column typed), and the guide.
    `codes`: the codes and labels of each catalog a column takes, valid today."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = DATA_SHEET
    bold, centred = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, column in enumerate(template.columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.data_type = "s"
        cell.font, cell.alignment = bold, centred
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        sheet.column_dimensions[letter].number_format = NUMBER_FORMATS[column.format]
    sheet.freeze_panes = "A2"
    guide = book.create_sheet(GUIDE_SHEET)
    guide.append([f"MẪU NHẬP: {template.title.upper()}"])
    guide["A1"].font = Font(bold=True, size=14)
    for line in _notes(template):
        guide.append([line])
    guide.append([])
    guide.append(["Cột", "Tiêu đề", "Bắt buộc", "Cách ghi", "Mã được dùng"])
    for cell in guide[guide.max_row]:
        cell.font = bold
    for index, column in enumerate(template.columns, start=1):
        guide.append(
            [
                get_column_letter(index),
                column.header,
                _required(template, column),
                column.explanation,
                _codes(column, codes),
            ]
        )
    for letter, width in zip("ABCDE", (6, 30, 14, 60, 80), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.save(path)


def _notes(template: Template) -> list[str]:
    who = (
        "Mỗi dòng từ dòng 2 là một hồ sơ cán bộ mới."
        if not template.one_of
        else "Mỗi dòng từ dòng 2 là một mục của hồ sơ một người, người đó ghi bằng số định danh cá nhân "
        "và/hoặc số hiệu cán bộ (ghi cả hai thì phải của cùng một người)."
    )
    return [
        "Dòng 1 của trang «Dữ liệu» là tiêu đề cột: giữ nguyên. " + who,
        "Ngày ghi dd/mm/yyyy (hoặc yyyy-mm-dd, hoặc ô kiểu ngày). Không dùng công thức: dán giá trị.",
        "Nhập thử trước (dry_run=true): hệ thống chỉ báo lỗi từng dòng, từng cột, không ghi gì. "
        "Tệp có một dòng lỗi thì không dòng nào được ghi; nhập lại cùng tệp không tạo trùng.",
    ]


def _required(template: Template, column: Column) -> str:
    if column.field in template.one_of:
        return "Một trong hai"
    return "Có" if column.required else "Không"


def _codes(column: Column, codes: Mapping[str, Sequence[tuple[str, str]]]) -> str:
    if column.catalog is None:
        return ""
    found = codes.get(column.catalog, ())
    if not found or len(found) > MAX_CODES_LISTED:
        return f"Xem danh mục {column.catalog}: GET /v1/catalogs/{column.catalog}"
    return "; ".join(f"{code} — {label}" for code, label in found)
