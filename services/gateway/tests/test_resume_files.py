"""The resume on paper (`qlcb_gateway.resume_files`): a gateway without its fonts says which are
missing and where it looked, rather than print a resume whose Vietnamese letters are boxes; several
resumes make one file, each from a new page, withheld items printed as such."""

from __future__ import annotations

import io
import shutil
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from qlcb.personnel.v1 import resume_pb2
from qlcb_gateway.resume_files import FontsMissing, Printing, register_fonts, write_pdf
from qlcb_gateway.settings import GatewaySettings

DEJAVU = GatewaySettings.model_fields["resume_font_dir"].default


def _resume(name: str) -> resume_pb2.Resume:
    return resume_pb2.Resume(
        full_name=name,
        as_of="2026-12-01",
        staff_number="HQ-1",
        items=[
            resume_pb2.ResumeItem(number="1", label="Họ và tên khai sinh", text=name.upper()),
            resume_pb2.ResumeItem(number="14", label="Ngạch, bậc", withheld=True),
            resume_pb2.ResumeItem(
                number="31",
                label="Diễn biến quá trình lương",
                columns=["Tháng, năm", "Mã ngạch, bậc", "Hệ số lương"],
                rows=[resume_pb2.ResumeRow(cells=["01/2015", "01.003, bậc 2", "2.67"])],
            ),
        ],
    )


def test_missing_fonts_are_named_with_the_setting_that_points_to_them(tmp_path: Path) -> None:
    shutil.copy(Path(DEJAVU) / "DejaVuSerif.ttf", tmp_path / "DejaVuSerif.ttf")
    with pytest.raises(FontsMissing) as refused:
        register_fonts(tmp_path)
    message = str(refused.value)
    assert "DejaVuSerif-Bold.ttf" in message
    assert "DejaVuSerif.ttf" not in message
    assert "QLCB_GATEWAY_RESUME_FONT_DIR" in message


def test_several_resumes_make_one_pdf_each_from_a_new_page(tmp_path: Path) -> None:
    register_fonts(Path(DEJAVU))
    path = tmp_path / "batch.pdf"
    write_pdf([_resume("Nguyễn Văn An"), _resume("Trần Thị Bình")], Printing("quantri", datetime(2026, 12, 1, 9)), path)

    pages = [unicodedata.normalize("NFC", p.extract_text()) for p in PdfReader(io.BytesIO(path.read_bytes())).pages]
    assert len(pages) == 2
    assert "NGUYỄN VĂN AN" in pages[0]
    assert "TRẦN THỊ BÌNH" in pages[1]
    assert all("(Không thuộc phạm vi được xem)" in page for page in pages)
    assert all("01.003, bậc 2" in page for page in pages)
