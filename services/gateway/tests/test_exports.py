"""The export's writers (R-PER-5): the CSV opens as UTF-8 with its byte-order mark and Vietnamese
headers; the XLSX has its title, criteria and exporter above a frozen header row, sized columns,
dates as dates shown dd/mm/yyyy, text in NFC; and in neither does a cell become a formula."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from qlcb.personnel.v1 import personnel_pb2
from qlcb_gateway.exports import COLUMNS, CsvRows, Heading, Row, XlsxRows

UNITS = {"u1": "Chi cục Hải quan cửa khẩu sân bay quốc tế Nội Bài"}
HEADERS = [
    *("STT", "Họ và tên", "Ngày sinh", "Giới tính"),
    *("Số định danh cá nhân", "Số hiệu cán bộ", "Đơn vị", "Trạng thái"),
]
FIRST = ["Nguyễn Thị Ánh", "Nữ", "001085012345", "HQ-001", UNITS["u1"], "Đang công tác"]
"""The first row's cells but its number and birth date."""


def _person(name: str, born: str = "1985-03-14", **fields: object) -> personnel_pb2.Person:
    values: dict[str, object] = {
        "id": "p",
        "personal_id": "001085012345",
        "staff_number": "HQ-001",
        "full_name": name,
        "date_of_birth": born,
        "sex": personnel_pb2.SEX_FEMALE,
        "unit_id": "u1",
        "status": personnel_pb2.PERSON_STATUS_ACTIVE,
    } | fields
    return personnel_pb2.Person(**values)  # type: ignore[arg-type]


NAMES = [
    unicodedata.normalize("NFD", "Nguyễn Thị Ánh"),
    '=HYPERLINK("http://example.invalid","Bấm")',
    "+84 Trần Văn Cộng",
    "-Lê Văn Trừ",
    "@Phạm Văn A",
    "#N/A",
]


def _rows() -> list[Row]:
    people = [_person(name) for name in NAMES]
    people[1].sex = personnel_pb2.SEX_MALE
    people[2].status = personnel_pb2.PERSON_STATUS_RETIRED
    return [Row.of(n, person, UNITS) for n, person in enumerate(people, start=1)]


def test_a_row_says_each_value_in_vietnamese_words_and_nfc() -> None:
    first, second, third, *_ = _rows()
    assert first.full_name == "Nguyễn Thị Ánh" == unicodedata.normalize("NFC", first.full_name)
    assert (first.sex, first.status, first.born) == ("Nữ", "Đang công tác", date(1985, 3, 14))
    assert (second.sex, third.status) == ("Nam", "Nghỉ hưu")
    assert first.unit == UNITS["u1"]
    unknown = Row.of(1, _person("Lạ", unit_id="u9"), UNITS)
    assert unknown.unit == "u9", "a unit whose name was not told shows its id"


def test_the_csv_is_utf8_with_a_bom_and_no_cell_is_a_formula() -> None:
    writer = CsvRows()
    data = writer.start() + writer.rows(_rows()[:3]) + writer.rows(_rows()[3:])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    assert rows[1] == ["1", FIRST[0], "1985-03-14", *FIRST[1:]]
    assert [r[1] for r in rows[2:]] == [
        '\'=HYPERLINK("http://example.invalid","Bấm")',
        "'+84 Trần Văn Cộng",
        "'-Lê Văn Trừ",
        "'@Phạm Văn A",
        "#N/A",
    ]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "5", "6"]


def test_the_sheet_has_its_heading_a_frozen_header_sized_columns_and_dates_as_dates(tmp_path: Path) -> None:
    path = tmp_path / "danh-sach.xlsx"
    heading = Heading(["Đơn vị: Cục Hải quan Hà Nội", "Giới tính: Nữ"], "qthanoi", datetime(2026, 12, 2, 9, 5))
    writer = XlsxRows(path, heading)
    writer.append(_rows()[:2])
    writer.append(_rows()[2:])
    writer.close()

    sheet = load_workbook(path).active
    assert sheet is not None
    assert sheet["A1"].value == "DANH SÁCH CÁN BỘ, CÔNG CHỨC"
    assert sheet["A1"].font.bold
    assert sheet["A2"].value == "Tiêu chí: Đơn vị: Cục Hải quan Hà Nội; Giới tính: Nữ"
    assert sheet["A3"].value == "Người xuất: qthanoi — 09:05 ngày 02/12/2026 (giờ Việt Nam)"
    assert writer.header_row == 5
    assert [c.value for c in sheet[5]] == HEADERS
    assert sheet.freeze_panes == "A6"
    widths = [sheet.column_dimensions[letter].width for letter in "ABCDEFGH"]
    assert widths == [c.width for c in COLUMNS]

    table = [[c.value for c in row] for row in sheet.iter_rows(min_row=6, max_row=11)]
    assert table[0] == [1, FIRST[0], datetime(1985, 3, 14), *FIRST[1:]]
    assert sheet["C6"].is_date
    assert sheet["C6"].number_format == "DD/MM/YYYY"
    # Text stays text, whatever it begins with: no formula, no error value.
    assert [row[1] for row in table[1:]] == NAMES[1:]
    assert {sheet.cell(row=r, column=2).data_type for r in range(6, 12)} == {"s"}
    assert sheet["E6"].data_type == "s", "the personal id keeps its leading zeros"
    assert sheet["A13"].value == "Tổng số: 6 người"


def test_a_sheet_without_criteria_says_it_holds_the_whole_scope(tmp_path: Path) -> None:
    path = tmp_path / "trong.xlsx"
    writer = XlsxRows(path, Heading([], "quantri", datetime(2026, 12, 2, 14, 30)))
    writer.close()
    sheet = load_workbook(path).active
    assert sheet is not None
    assert sheet["A2"].value == "Tiêu chí: mọi hồ sơ trong phạm vi của tài khoản"
    assert [c.value for c in sheet[5]] == HEADERS
    assert sheet["A7"].value == "Tổng số: 0 người"
