"""Reading an import file without servers: the header against the template, a formula named by its
cell, CSV with or without a byte-order mark and with either separator, cells as text, blank rows
skipped with the spreadsheet's row numbers kept; the XLSX template read back as its own header."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from qlcb_common.import_templates import Template, template
from qlcb_gateway import import_files
from qlcb_gateway.import_files import Faults, cell_text, match_header, open_upload


def _template(kind: str) -> Template:
    found = template(kind)
    assert found is not None
    return found


PERSONS = _template("persons")
EVALUATIONS = _template("evaluations")
HEADERS = [c.header for c in PERSONS.columns]


def _xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def _rows(path: Path, kind: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    upload = open_upload(path, kind)
    try:
        return upload.header, list(upload.rows())
    finally:
        upload.close()


def test_the_header_maps_columns_to_fields_in_any_order_case_and_spacing() -> None:
    header = ["  họ và  TÊN ", "Số định danh cá nhân", "Ngày sinh", "Giới tính", "Mã đơn vị", "Số hiệu cán bộ", ""]
    assert match_header(PERSONS, header) == [
        *("full_name", "personal_id", "date_of_birth", "sex", "unit_code", "staff_number"),
        None,
    ]


def test_a_header_not_the_templates_names_each_missing_unknown_or_repeated_column() -> None:
    header = ["Số định danh cá nhân", "Họ tên", "Ngày sinh", "Ngày sinh", "Mã đơn vị", "Số hiệu cán bộ"]
    with pytest.raises(Faults) as refused:
        match_header(PERSONS, header)
    found = {(f.row, f.column) for f in refused.value.found}
    assert found == {(1, "Họ tên"), (1, "Ngày sinh"), (1, "Họ và tên"), (1, "Giới tính")}
    assert any("B" in f.reason for f in refused.value.found if f.column == "Họ tên"), "names the column's letter"


def test_a_section_file_needs_the_personal_id_or_the_staff_number() -> None:
    with pytest.raises(Faults) as refused:
        match_header(EVALUATIONS, ["Ngày", "Số quyết định", "Năm đánh giá", "Mức xếp loại"])
    assert [f.reason for f in refused.value.found] == ["Cần cột «Số định danh cá nhân» hoặc «Số hiệu cán bộ»"]
    assert match_header(EVALUATIONS, ["Số hiệu cán bộ", "Ngày", "Số quyết định", "Năm đánh giá", "Mức xếp loại"])


def test_cells_become_the_text_personnel_reads() -> None:
    assert cell_text(datetime(1990, 3, 4)) == "1990-03-04"
    assert cell_text(2021.0) == "2021"
    assert cell_text(4.98) == "4.98"
    assert cell_text(None) == ""
    assert cell_text("001085012345") == "001085012345"


def test_xlsx_rows_keep_their_spreadsheet_numbers_and_skip_blank_rows(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "a.xlsx",
        [HEADERS, ["001", "N1", "An", datetime(1990, 1, 2), "Nam", "HQ"], [None] * 6, ["002", "N2", "Bình"]],
    )
    header, rows = _rows(path, "xlsx")
    assert header == HEADERS
    assert rows == [(2, ["001", "N1", "An", "1990-01-02", "Nam", "HQ"]), (4, ["002", "N2", "Bình", "", "", ""])]


def test_an_xlsx_formula_is_refused_naming_its_cell_and_column(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "f.xlsx",
        [HEADERS, ["001", "N1", "An", "1990-01-02", "Nam", "HQ"], ["002", "N2", "=A2&B2", "1990-01-02", "Nam", "HQ"]],
    )
    with pytest.raises(Faults) as refused:
        _rows(path, "xlsx")
    [fault] = refused.value.found
    assert (fault.row, fault.column) == (3, "Họ và tên")
    assert "C3" in fault.reason


def test_data_outside_the_templates_columns_is_refused(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "w.xlsx", [HEADERS, ["001", "N1", "An", "1990-01-02", "Nam", "HQ", "thừa"]])
    with pytest.raises(Faults) as refused:
        _rows(path, "xlsx")
    assert ["G2" in f.reason for f in refused.value.found] == [True]


def test_a_file_that_is_no_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"PK\x03\x04 nothing")
    with pytest.raises(Faults) as refused:
        open_upload(path, "xlsx")
    assert "XLSX" in refused.value.found[0].reason


@pytest.mark.parametrize("bom", ["\ufeff", ""], ids=["bom", "no-bom"])
@pytest.mark.parametrize("separator", [",", ";"])
def test_csv_in_utf8_with_or_without_bom_and_either_separator(tmp_path: Path, bom: str, separator: str) -> None:
    path = tmp_path / "a.csv"
    lines = [separator.join(HEADERS), separator.join(["001", "N1", "Đặng Thị Ánh", "04/03/1990", "Nữ", "HQ"]), ""]
    path.write_text(bom + "\r\n".join(lines), encoding="utf-8")
    header, rows = _rows(path, "csv")
    assert header == HEADERS
    assert rows == [(2, ["001", "N1", "Đặng Thị Ánh", "04/03/1990", "Nữ", "HQ"])]


def test_csv_not_in_utf8_or_with_a_formula_is_refused(tmp_path: Path) -> None:
    latin = tmp_path / "l.csv"
    latin.write_bytes(",".join(HEADERS).encode() + b"\r\n001,N1,\xc0n,1990-01-01,Nam,HQ\r\n")
    with pytest.raises(Faults) as refused:
        _rows(latin, "csv")
    assert "UTF-8" in refused.value.found[0].reason
    formula = tmp_path / "f.csv"
    formula.write_text(",".join(HEADERS) + "\r\n001,N1,=1+1,1990-01-01,Nam,HQ\r\n", encoding="utf-8")
    with pytest.raises(Faults) as refused:
        _rows(formula, "csv")
    assert [(f.row, f.column) for f in refused.value.found] == [(2, "Họ và tên")]


def test_the_xlsx_template_is_read_back_as_its_own_header_with_its_guide(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    import_files.xlsx_template(EVALUATIONS, {"evaluation_levels": [("HTXSNV", "Hoàn thành xuất sắc")]}, path)
    header, rows = _rows(path, "xlsx")
    assert match_header(EVALUATIONS, header) == [c.field for c in EVALUATIONS.columns]
    assert rows == []
    book = load_workbook(path)
    assert book.sheetnames == ["Dữ liệu", "Hướng dẫn"]
    assert book["Dữ liệu"].freeze_panes == "A2"
    guide = [row for row in book["Hướng dẫn"].iter_rows(values_only=True) if row[1] == "Mức xếp loại"]
    assert guide == [("J", "Mức xếp loại", "Có", guide[0][3], "HTXSNV — Hoàn thành xuất sắc")]
