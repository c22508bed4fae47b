"""The resume form 2C-BNV/2008 on paper: personnel's resumes (their items already worded) laid out as
PDF, with Vietnamese fonts embedded, or as DOCX, which officers file and amend in Word. Several
resumes make one file, each from a new page: a unit's batch prints at once.

The PDF uses DejaVu Serif, from the directory the gateway's settings name (Debian's
fonts-dejavu-core): reportlab embeds the subset it uses, so the file reads the same anywhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Cm, Pt
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from qlcb.personnel.v1 import resume_pb2

PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FORM = "Mẫu 2C-BNV/2008"
TITLE = "SƠ YẾU LÝ LỊCH CÁN BỘ, CÔNG CHỨC"
WITHHELD = "(Không thuộc phạm vi được xem)"
NONE = "(Không có)"
FONT_FILES = {"QLCBSerif": "DejaVuSerif.ttf", "QLCBSerif-Bold": "DejaVuSerif-Bold.ttf"}
"""Both in Debian's fonts-dejavu-core; its italic is not (fonts-dejavu-extra), so nothing is set in italic."""


class FontsMissing(RuntimeError):
    pass


def register_fonts(directory: Path) -> None:
    """Registers the PDF's fonts with reportlab (once per process; again is harmless)."""
    missing = [name for name in FONT_FILES.values() if not (directory / name).is_file()]
    if missing:
        raise FontsMissing(
            f"the resume's fonts {', '.join(missing)} are not in {directory} "
            "(install Debian's fonts-dejavu-core, or set QLCB_GATEWAY_RESUME_FONT_DIR)"
        )
    for name, file in FONT_FILES.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(directory / file)))
    pdfmetrics.registerFontFamily(
        "QLCBSerif", normal="QLCBSerif", bold="QLCBSerif-Bold", italic="QLCBSerif", boldItalic="QLCBSerif-Bold"
    )


@dataclass(frozen=True)
class Printing:
    """Who printed the file and when, said at the foot of each page."""

    by: str
    at: datetime


def _day(iso: str) -> str:
    return f"{date.fromisoformat(iso):%d/%m/%Y}" if iso else ""


# ---- PDF ----------------------------------------------------------------------------------------

_BODY = ParagraphStyle("body", fontName="QLCBSerif", fontSize=10.5, leading=14, spaceAfter=2)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=9, leading=11.5, spaceAfter=0)
_HEAD = ParagraphStyle("head", parent=_CELL, fontName="QLCBSerif-Bold", alignment=TA_CENTER)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName="QLCBSerif-Bold", fontSize=14, leading=18, alignment=TA_CENTER)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=9.5, leading=12)
_CENTRE = ParagraphStyle("centre", parent=_BODY, alignment=TA_CENTER)
_WIDTH = A4[0] - 3.5 * cm


def _table(rows: list[list[Any]], style: Sequence[tuple[Any, ...]] = (), **layout: Any) -> Table:
    """A table whose own font is the embedded one (reportlab's default would name Helvetica)."""
    table = Table(rows, **layout)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "QLCBSerif"), *style]))
    return table


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _pdf_item(item: resume_pb2.ResumeItem) -> list[Any]:
    said = f"<b>{escape(item.number)}) {escape(item.label)}:</b> "
    if item.withheld:
        return [Paragraph(said + WITHHELD, _BODY)]
    if not item.columns:
        return [Paragraph(said + escape(item.text).replace("\n", "<br/>"), _BODY)]
    rows = [[_p(c, _HEAD) for c in item.columns]]
    rows += [[_p(cell, _CELL) for cell in row.cells] for row in item.rows]
    if not item.rows:
        rows.append([_p(NONE, _CELL)] + [_p("", _CELL)] * (len(item.columns) - 1))
    table = _table(
        rows,
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
        ],
        colWidths=_widths(len(item.columns)),
        repeatRows=1,
    )
    return [Paragraph(said, _BODY), table, Spacer(1, 4)]


def _widths(columns: int) -> list[float]:
    shares = {2: [0.25, 0.75], 3: [0.3, 0.4, 0.3], 4: [0.15, 0.25, 0.1, 0.5], 5: [0.24, 0.24, 0.2, 0.14, 0.18]}
    return [_WIDTH * share for share in shares.get(columns, [1 / columns] * columns)]


def _pdf_header(resume: resume_pb2.Resume) -> list[Any]:
    top = _table(
        [
            [
                _p(f"Cơ quan, đơn vị có thẩm quyền quản lý CBCC: {resume.managing_body}", _SMALL),
                _p(FORM, ParagraphStyle("form", parent=_SMALL, fontName="QLCBSerif-Bold", alignment=2)),
            ],
            [_p(f"Cơ quan, đơn vị sử dụng CBCC: {resume.employing_unit}", _SMALL), _p("", _SMALL)],
            [_p("", _SMALL), _p(f"Số hiệu cán bộ, công chức: {resume.staff_number}", _SMALL)],
        ],
        colWidths=[_WIDTH * 0.62, _WIDTH * 0.38],
    )
    photo = _table(
        [[_p("Ảnh màu\n(4 × 6 cm)", _CENTRE)]],
        [("BOX", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")],
        colWidths=[3 * cm],
        rowHeights=[4 * cm],
    )
    title = _table(
        [[photo, _p(TITLE, _TITLE)]], [("VALIGN", (0, 0), (-1, -1), "MIDDLE")], colWidths=[3.5 * cm, _WIDTH - 3.5 * cm]
    )
    return [top, Spacer(1, 6), title, Spacer(1, 8)]


def _signatures() -> Table:
    left = _p("Người khai\nTôi xin cam đoan những lời khai trên đây là đúng sự thật\n(Ký tên, ghi rõ họ tên)", _CENTRE)
    right = _p(
        "Ngày …… tháng …… năm ……\nThủ trưởng cơ quan, đơn vị quản lý và sử dụng CBCC\n(Ký tên, đóng dấu)", _CENTRE
    )
    return _table(
        [[left, right]],
        [("VALIGN", (0, 0), (-1, -1), "TOP")],
        colWidths=[_WIDTH / 2, _WIDTH / 2],
        rowHeights=[3.5 * cm],
    )


def write_pdf(resumes: Sequence[resume_pb2.Resume], printing: Printing, path: Path) -> None:
    story: list[Any] = []
    for n, resume in enumerate(resumes):
        if n:
            story.append(PageBreak())
        story += _pdf_header(resume)
        for item in resume.items:
            story += _pdf_item(item)
        story.append(Spacer(1, 10))
        story.append(KeepTogether([_signatures()]))
    names = ", ".join(r.full_name for r in resumes[:3]) + ("…" if len(resumes) > 3 else "")

    def foot(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("QLCBSerif", 7.5)
        canvas.drawString(
            1.75 * cm,
            1.0 * cm,
            f"Lập từ cơ sở dữ liệu QLCB lúc {printing.at:%H:%M %d/%m/%Y} bởi {printing.by}; "
            f"số liệu đến ngày {_day(resumes[0].as_of) if resumes else ''}",
        )
        canvas.drawRightString(A4[0] - 1.75 * cm, 1.0 * cm, f"Trang {document.page}")
        canvas.restoreState()

    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=1.75 * cm,
        rightMargin=1.75 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.8 * cm,
        title=f"Sơ yếu lý lịch: {names}",
        author=printing.by,
        subject=FORM,
        # Else each page names Helvetica, a font the file would not carry.
        initialFontName="QLCBSerif",
    )
    document.build(story, onFirstPage=foot, onLaterPages=foot)


# ---- DOCX ---------------------------------------------------------------------------------------


def write_docx(resumes: Sequence[resume_pb2.Resume], printing: Printing, path: Path) -> None:
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(1.75)
    section.top_margin, section.bottom_margin = Cm(1.5), Cm(1.8)
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(12)
    document.core_properties.title = f"Sơ yếu lý lịch: {', '.join(r.full_name for r in resumes[:3])}"
    document.core_properties.author = printing.by
    document.core_properties.subject = FORM
    footer = section.footer.paragraphs[0]
    footer.text = f"Lập từ cơ sở dữ liệu QLCB lúc {printing.at:%H:%M %d/%m/%Y} bởi {printing.by}"
    for n, resume in enumerate(resumes):
        if n:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _docx_resume(document, resume)
    document.save(str(path))


def _docx_resume(document: Any, resume: resume_pb2.Resume) -> None:
    header = document.add_table(rows=3, cols=2)
    header.cell(0, 0).text = f"Cơ quan, đơn vị có thẩm quyền quản lý CBCC: {resume.managing_body}"
    header.cell(0, 1).text = FORM
    header.cell(0, 1).paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    header.cell(1, 0).text = f"Cơ quan, đơn vị sử dụng CBCC: {resume.employing_unit}"
    header.cell(2, 1).text = f"Số hiệu cán bộ, công chức: {resume.staff_number}"
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(TITLE)
    run.bold = True
    run.font.size = Pt(14)
    document.add_paragraph(f"Số liệu đến ngày {_day(resume.as_of)}").alignment = WD_ALIGN_PARAGRAPH.CENTER
    for item in resume.items:
        line = document.add_paragraph()
        line.add_run(f"{item.number}) {item.label}: ").bold = True
        if item.withheld:
            line.add_run(WITHHELD).italic = True
            continue
        if not item.columns:
            line.add_run(item.text)
            continue
        table = document.add_table(rows=1, cols=len(item.columns))
        table.style = "Table Grid"
        for cell, heading in zip(table.rows[0].cells, item.columns, strict=True):
            cell.text = heading
            for run in cell.paragraphs[0].runs:
                run.bold = True
        for row in item.rows:
            for cell, value in zip(table.add_row().cells, row.cells, strict=False):
                cell.text = value
        if not item.rows:
            table.add_row().cells[0].text = NONE
    signatures = document.add_table(rows=1, cols=2)
    signatures.cell(
        0, 0
    ).text = "Người khai\nTôi xin cam đoan những lời khai trên đây là đúng sự thật\n(Ký tên, ghi rõ họ tên)"
    signatures.cell(
        0, 1
    ).text = "Ngày …… tháng …… năm ……\nThủ trưởng cơ quan, đơn vị quản lý và sử dụng CBCC\n(Ký tên, đóng dấu)"
    for cell in signatures.rows[0].cells:
        for paragraph in cell.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
