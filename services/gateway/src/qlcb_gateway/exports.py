"""The files an export of a search is written to (R-PER-5): CSV for other programs and XLSX for
people, both a row at a time, so that memory stays flat however many rows there are.

- CSV: UTF-8 with a byte-order mark (so that Excel reads the Vietnamese as UTF-8), the header row
  then one row per person, values as they are (dates ISO 8601, which every locale reads as dates).
- XLSX: openpyxl in write-only mode, which writes each row to a temporary file as it comes and
  its strings inline (no table of them kept in memory); above the table the title, the criteria
  and who exported it when; the header frozen, the columns sized, dates as real dates shown
  dd/mm/yyyy, and the count of rows below the table.

No cell becomes a formula: in CSV a text starting with =, +, -, @, tab or carriage return is
written after an apostrophe (what spreadsheets show as text); in XLSX every text is a string cell,
a name starting with = included."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from qlcb.personnel.v1 import personnel_pb2

TITLE = "DANH SÁCH CÁN BỘ, CÔNG CHỨC"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
FILE_TYPES = {"xlsx": XLSX_TYPE, "pdf": PDF_TYPE, "csv": CSV_TYPE}
BOM = "\ufeff"
DATE_FORMAT = "DD/MM/YYYY"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula in a CSV cell (OWASP's list)."""


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    """In characters, as Excel measures column widths."""


COLUMNS = (
    Column("STT", 7),
    Column("Họ và tên", 30),
    Column("Ngày sinh", 12),
    Column("Giới tính", 10),
    Column("Số định danh cá nhân", 22),
    Column("Số hiệu cán bộ", 16),
    Column("Đơn vị", 45),
    Column("Trạng thái", 16),
)
SEXES = {personnel_pb2.SEX_MALE: "Nam", personnel_pb2.SEX_FEMALE: "Nữ"}
STATUSES = {
    personnel_pb2.PERSON_STATUS_ACTIVE: "Đang công tác",
    personnel_pb2.PERSON_STATUS_RETIRED: "Nghỉ hưu",
    personnel_pb2.PERSON_STATUS_RESIGNED: "Thôi việc",
    personnel_pb2.PERSON_STATUS_DECEASED: "Từ trần",
    personnel_pb2.PERSON_STATUS_MOVED_OUT: "Chuyển ra ngoài ngành",
}


def attachment_headers(ascii_name: str, name: str) -> dict[str, str]:
    """Headers of a file to save, named in ASCII for clients that know no other and in Vietnamese
    (RFC 5987), never kept by a cache (a record is confidential, R-PER-7)."""
    return {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
    }


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Row:
    """One person as the files show them."""

    number: int
    full_name: str
    born: date
    sex: str
    personal_id: str
    staff_number: str
    unit: str
    status: str

    @classmethod
    def of(cls, number: int, person: personnel_pb2.Person, units: Mapping[str, str]) -> Row:
        return cls(
            number=number,
            full_name=_nfc(person.full_name),
            born=date.fromisoformat(person.date_of_birth),
            sex=SEXES.get(person.sex, ""),
            personal_id=person.personal_id,
            staff_number=person.staff_number,
            unit=_nfc(units.get(person.unit_id, person.unit_id)),
            status=STATUSES.get(person.status, ""),
        )

    def texts(self) -> tuple[str, ...]:
        """The cells that are text, in their columns' order after STT and the birth date."""
        return (self.sex, self.personal_id, self.staff_number, self.unit, self.status)


def as_text(value: str) -> str:
    """A CSV cell that no spreadsheet takes for a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


class CsvRows:
    """The CSV, piece by piece: `start` (the byte-order mark and the header row), then `rows`."""

    def start(self) -> bytes:
        return (BOM + self._lines([[c.header for c in COLUMNS]])).encode()

    def rows(self, rows: Iterable[Row]) -> bytes:
        return self._lines(
            [
                str(r.number),
                as_text(r.full_name),
                r.born.isoformat(),
                *(as_text(t) for t in r.texts()[:3]),
                as_text(r.unit),
                as_text(r.status),
            ]
            for r in rows
        ).encode()

    @staticmethod
    def _lines(rows: Iterable[Sequence[str]]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue()


@dataclass(frozen=True)
class Heading:
    """What the sheet says above its table."""

    criteria: Sequence[str]
    """Each criterion in words ("Giới tính: Nữ"); none: everything in the caller's scope."""
    account: str
    exported_at: datetime
    """When, in Vietnam's time."""

    def lines(self) -> list[str]:
        criteria = "; ".join(self.criteria) if self.criteria else "mọi hồ sơ trong phạm vi của tài khoản"
        return [
            TITLE,
            f"Tiêu chí: {criteria}",
            f"Người xuất: {self.account} — {self.exported_at:%H:%M ngày %d/%m/%Y} (giờ Việt Nam)",
        ]


class XlsxRows:
    """The workbook, written to `path` a row at a time: `append` as rows come, then `close`."""

    def __init__(self, path: Path, heading: Heading) -> None:
        self._path = path
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet("Danh sách")
        for index, column in enumerate(COLUMNS, start=1):
            self._sheet.column_dimensions[get_column_letter(index)].width = column.width
        title, *others = heading.lines()
        self.header_row = len(others) + 3
        # Set before the first row: write-only, the sheet's head is written with it.
        self._sheet.freeze_panes = f"A{self.header_row + 1}"
        self._sheet.append([self._text(title, Font(bold=True, size=14))])
        for line in others:
            self._sheet.append([self._text(line, Font(italic=True))])
        self._sheet.append([])
        bold, centred = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
        self._sheet.append([self._text(c.header, bold, centred) for c in COLUMNS])
        self._rows = 0

    def append(self, rows: Iterable[Row]) -> None:
        for row in rows:
            born = WriteOnlyCell(self._sheet, value=datetime.combine(row.born, time()))
            born.number_format = DATE_FORMAT
            self._sheet.append([row.number, self._plain(row.full_name), born, *map(self._plain, row.texts())])
            self._rows += 1

    def close(self) -> None:
        """Writes the count under the table and the file itself."""
        self._sheet.append([])
        self._sheet.append([self._text(f"Tổng số: {self._rows} người", Font(bold=True))])
        self._book.save(self._path)

    def _plain(self, value: str) -> Any:
        """A text as openpyxl writes it, a string cell, unless it would take it for something else."""
        return self._text(value) if value.startswith("=") or value in ERROR_CODES else value

    def _text(self, value: str, font: Font | None = None, alignment: Alignment | None = None) -> Any:
        """A string cell, whatever the text is (openpyxl takes "=…" for a formula, "#N/A" for an error)."""
        cell = WriteOnlyCell(self._sheet, value=value)
        cell.data_type = "s"
        if font is not None:
            cell.font = font
        if alignment is not None:
            cell.alignment = alignment
        return cell
