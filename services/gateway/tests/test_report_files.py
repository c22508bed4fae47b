"""Reports as files (`qlcb_gateway.report_files`): what the level above may count on, the layouts
read back, the fonts a PDF names all embedded, and the chart in both image formats."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader

from qlcb_gateway import report_files
from qlcb_gateway.report_files import Heading, UnitReport
from qlcb_gateway.resume_files import register_fonts
from qlcb_gateway.settings import GatewaySettings

INDICATORS = report_files.indicators_of(
    [
        {"code": "so_bien_che", "label": "Số biên chế", "kind": "number", "unit": "người"},
        {"code": "ty_le_nu", "label": "Tỷ lệ nữ", "kind": "percent", "unit": "%"},
        {"code": "ghi_chu", "label": "Ghi chú", "kind": "text"},
        {
            "code": "nghi_huu",
            "label": "Nghỉ hưu",
            "kind": "table",
            "columns": [{"code": "ho_ten", "label": "Họ và tên", "kind": "text"}],
        },
    ]
)
REPORTS = [
    UnitReport("Chi cục A", "approved", {"so_bien_che": 40, "ty_le_nu": 40.5, "nghi_huu": [{"ho_ten": "Đỗ Văn Ánh"}]}),
    UnitReport("Chi cục B", "submitted", {"so_bien_che": 25}),
    UnitReport("Chi cục C", "approved", {"so_bien_che": 12, "ghi_chu": "Thiếu 1"}),
    UnitReport("Chi cục D", "not_started", {}),
]
HEADING = Heading(
    "Báo cáo biên chế", "2027-03", "Cục Hải quan Hà Nội", "vutccb", datetime(2027, 4, 2, 2, 30, tzinfo=UTC)
)


def test_only_approved_numbers_are_summed() -> None:
    assert report_files.totals(INDICATORS, REPORTS) == {"so_bien_che": 52}


def test_the_rollup_sheet_has_a_row_per_unit_then_the_sum() -> None:
    sheet = load_workbook(io.BytesIO(report_files.rollup_xlsx(HEADING, INDICATORS, REPORTS))).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[3] == ["In bởi vutccb lúc 02/04/2027 09:30"] + [None] * 4  # in Vietnam's time
    header = rows.index(["Đơn vị", "Trạng thái", "Số biên chế (người)", "Tỷ lệ nữ (%)", "Ghi chú"])
    assert rows[header + 1 :] == [
        ["Chi cục A", "Đã duyệt", 40, 40.5, None],
        ["Chi cục B", "Đã gửi, chờ duyệt", 25, None, None],
        ["Chi cục C", "Đã duyệt", 12, None, "Thiếu 1"],
        ["Chi cục D", "Chưa soạn", None, None, None],
        ["Tổng (các báo cáo đã duyệt)", None, 52, None, None],
    ]
    assert sheet.freeze_panes == f"A{header + 2}"


def _fonts(reader: PdfReader) -> dict[str, bool]:
    """Each font the pages name, and whether its program is in the file."""
    found: dict[str, bool] = {}
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for reference in resources["/Font"].values():
            font: Any = reference.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            program = descriptor.get_object() if descriptor is not None else {}
            found[str(font["/BaseFont"])] = "/FontFile2" in program
    return found


def test_a_report_pdf_embeds_every_font_it_names() -> None:
    register_fonts(GatewaySettings.model_fields["resume_font_dir"].default)
    reader = PdfReader(io.BytesIO(report_files.report_pdf(HEADING, INDICATORS, REPORTS[0])))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Số biên chế" in text
    assert "Đỗ Văn Ánh" in text
    assert "40,5" in text  # a decimal comma, as Vietnamese forms write it
    fonts = _fonts(reader)
    assert fonts
    assert all(fonts.values()), fonts


def test_the_chart_counts_every_state_and_draws_svg_and_png() -> None:
    counts = report_files.by_state(REPORTS)
    assert counts == {"not_started": 1, "draft": 0, "submitted": 1, "returned": 0, "approved": 2}
    svg = report_files.state_chart("BC — kỳ 2027-03", counts, "svg")
    assert svg.startswith(b"<?xml")
    assert b"<svg" in svg
    assert report_files.state_chart("BC — kỳ 2027-03", counts, "png").startswith(b"\x89PNG\r\n\x1a\n")
