"""A statistics form as a file: the XLSX prints the form's title, unit and day, merges each header
over its run of columns (and a lone column's label over both header rows), then the rows and the
signature block; the PDF prints the same in embedded Vietnamese fonts, on A3 when A4 is too narrow;
the CSV keys its columns for programs and leaves an unassigned quota empty."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import replace
from datetime import date, datetime

from openpyxl import load_workbook
from pypdf import PdfReader

from qlcb_gateway.resume_files import register_fonts
from qlcb_gateway.settings import GatewaySettings
from qlcb_gateway.statistics_files import Column, FilledForm, FormRow, form_csv, form_pdf, form_xlsx

FORM = FilledForm(
    code="BM01",
    title="Số lượng, chất lượng công chức từ cấp huyện trở lên",
    legal_basis="Thông tư 11/2012/TT-BNV",
    designation="Biểu mẫu BM01/BNV",
    notes=["Mỗi người được tính ở trình độ cao nhất."],
    unit_name="Cục Hải quan Hà Nội",
    as_of=date(2026, 6, 30),
    columns=[
        Column("quota", "Biên chế được giao", ""),
        Column("headcount", "Công chức hiện có", ""),
        Column("women", "Nữ", "Trong đó"),
        Column("party", "Đảng viên", "Trong đó"),
        Column("rank_cv", "Chuyên viên và tương đương", "Ngạch công chức"),
    ],
    rows=[
        FormRow("total", "Tổng số", "u0", [None, 3, 2, 1, 1]),
        FormRow("u1", "Chi cục Nội Bài", "u1", [None, 3, 2, 1, 1]),
        FormRow("own", "Tại Cục Hải quan Hà Nội", "u0", [None, 0, 0, 0, 0]),
    ],
)


def test_the_xlsx_merges_each_header_over_its_columns_and_ends_with_the_signatures() -> None:
    sheet = load_workbook(io.BytesIO(form_xlsx(FORM, "quantri", datetime(2026, 7, 1, 9)))).active
    assert sheet is not None
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A5:A6", "B5:B6", "C5:C6", "D5:D6", "E5:F5"} <= merged
    assert (sheet["E5"].value, sheet["E6"].value, sheet["F6"].value) == ("Trong đó", "Nữ", "Đảng viên")
    assert (sheet["G5"].value, sheet["G6"].value) == ("Ngạch công chức", "Chuyên viên và tương đương")
    assert sheet["A1"].value == "Biểu mẫu BM01/BNV"
    assert sheet["A2"].value == FORM.title.upper()
    assert sheet["A3"].value == "Đơn vị: Cục Hải quan Hà Nội — Số liệu tại ngày 30/06/2026"
    assert [sheet.cell(8, c).value for c in range(2, 8)] == ["Tổng số", None, 3, 2, 1, 1]
    assert sheet.cell(9, 2).value == "Chi cục Nội Bài"
    texts = [c.value for row in sheet.iter_rows(min_row=11) for c in row if c.value]
    assert "THỦ TRƯỞNG ĐƠN VỊ" in texts
    assert "Ngày 01 tháng 07 năm 2026" in texts


def test_the_csv_keys_its_columns_for_programs() -> None:
    text = form_csv(FORM).decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["row", "unit_id", "label", "quota", "headcount", "women", "party", "rank_cv"]
    assert rows[1] == ["total", "u0", "Tổng số", "", "3", "2", "1", "1"]
    assert len(rows) == 4


def _pdf_text(content: bytes) -> tuple[str, list[tuple[int, int]]]:
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(unicodedata.normalize("NFC", page.extract_text()) for page in reader.pages)
    sizes = [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages]
    return " ".join(text.split()), sizes


def test_the_pdf_prints_the_headers_unit_day_counts_and_signatures_in_vietnamese() -> None:
    register_fonts(GatewaySettings.model_fields["resume_font_dir"].default)
    text, pages = _pdf_text(form_pdf(FORM, "quantri", datetime(2026, 7, 1, 9)))
    assert pages == [(842, 595)], "one landscape A4 page"
    for printed in (
        "Biểu mẫu BM01/BNV",
        FORM.title.upper(),
        "Đơn vị: Cục Hải quan Hà Nội — Số liệu tại ngày 30/06/2026",
        "Biên chế được giao",
        "STT Tên đơn vị Biên chế được giao Công chức hiện có Trong đó Ngạch công chức",
        "Nữ Đảng viên Chuyên viên và tương đương 1 2 3 4 5 6 7",
        "Tổng số 3 2 1 1",
        "Chi cục Nội Bài 3 2 1 1",
        "Tại Cục Hải quan Hà Nội 0 0 0 0",
        "NGƯỜI LẬP BIỂU",
        "THỦ TRƯỞNG ĐƠN VỊ",
        "Ngày 01 tháng 07 năm 2026",
        "Ghi chú: Mỗi người được tính ở trình độ cao nhất.",
    ):
        assert printed in text, printed


def test_a_form_too_wide_for_a4_prints_on_a3_and_a_list_names_people_in_its_own_column() -> None:
    register_fonts(GatewaySettings.model_fields["resume_font_dir"].default)
    columns = [Column(f"c{i}", f"Cột {i}", "Độ tuổi" if i > 10 else "") for i in range(20)]
    wide = replace(FORM, columns=columns, rows=[FormRow("total", "Tổng số", "u0", list(range(20)))])
    _, pages = _pdf_text(form_pdf(wide, "quantri", datetime(2026, 7, 1, 9)))
    assert pages == [(1191, 842)], "landscape A3"
    listed = replace(
        FORM,
        kind="list",
        columns=[Column("full_name", "Họ và tên", ""), Column("rank_code", "Mã ngạch", "")],
        rows=[FormRow("p1", "Hoàng Văn Lương", "u1", ["Hoàng Văn Lương", "08.051"])],
    )
    text, _ = _pdf_text(form_pdf(listed, "quantri", datetime(2026, 7, 1, 9)))
    assert "STT Họ và tên Mã ngạch 1 2 3 1 Hoàng Văn Lương 08.051" in text
    assert "Tên đơn vị" not in text


def test_a_form_the_regulation_gives_no_number_prints_none() -> None:
    register_fonts(GatewaySettings.model_fields["resume_font_dir"].default)
    movements = replace(FORM, code="BIENDONG", title="Tổng hợp biến động công chức trong năm", designation="")
    text, _ = _pdf_text(form_pdf(movements, "quantri", datetime(2026, 7, 1, 9)))
    assert "Biểu mẫu" not in text
    assert "Trang 1 TỔNG HỢP BIẾN ĐỘNG CÔNG CHỨC TRONG NĂM Đơn vị" in text, "the title heads the page"
    sheet = load_workbook(io.BytesIO(form_xlsx(movements, "quantri", datetime(2026, 7, 1, 9)))).active
    assert sheet is not None
    assert sheet["A1"].value is None
