"""A report's submission and a template version laid out as PDF, in the template's order, with
Vietnamese text in DejaVu Serif (Debian's fonts-dejavu-core, from the directory the settings name):
reportlab embeds the subset it uses, so the file reads the same anywhere.

The document names what it is in its metadata (`Keywords`: `qlcb:<kind>:<owner>:<version>`), so a
copy handed back can be matched with the report and version it was made for."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from qlcb_reports.regimes.indicators import Indicator

FONT_FILES = {"QLCBSerif": "DejaVuSerif.ttf", "QLCBSerif-Bold": "DejaVuSerif-Bold.ttf"}
KIND_LABELS = {"number": "Số", "percent": "Tỷ lệ (%)", "text": "Văn bản", "table": "Bảng"}


class FontsMissing(RuntimeError):
    pass


def register_fonts(directory: Path) -> None:
    """Registers the fonts with reportlab (once per process; again is harmless)."""
    missing = [name for name in FONT_FILES.values() if not (directory / name).is_file()]
    if missing:
        raise FontsMissing(
            f"the signed reports' fonts {', '.join(missing)} are not in {directory} "
            "(install Debian's fonts-dejavu-core, or set QLCB_REPORTS_FONT_DIR)"
        )
    for name, file in FONT_FILES.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(directory / file)))


_BODY = ParagraphStyle("body", fontName="QLCBSerif", fontSize=10.5, leading=14, spaceAfter=3)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=9, leading=11.5, spaceAfter=0)
_HEAD = ParagraphStyle("head", parent=_CELL, fontName="QLCBSerif-Bold", alignment=TA_CENTER)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName="QLCBSerif-Bold", fontSize=14, leading=18, alignment=TA_CENTER)
_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
    ]
)


def keywords(kind: str, owner_id: str, version: int) -> str:
    return f"qlcb:{kind}:{owner_id}:{version}"


def parse_keywords(text: str) -> tuple[str, str, int] | None:
    parts = text.split(":")
    if len(parts) != 4 or parts[0] != "qlcb" or not parts[3].isdigit():
        return None
    return parts[1], parts[2], int(parts[3])


def _p(text: object, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".replace(",", " ").replace(".", ",")
    return f"{int(value):,}".replace(",", ".")


def _value(indicator: Indicator, value: Any) -> Flowable | str:
    if value is None or value == "":
        return "—"
    if indicator.kind != "table":
        shown = _number(value) if indicator.kind in ("number", "percent") else str(value)
        return _p(f"{shown} {indicator.unit}".strip())
    rows = value if isinstance(value, list) else []
    if not rows:
        return _p("(Không có dòng nào)")
    header = [_p(c.label, _HEAD) for c in indicator.columns]
    body = [
        [_p(_number(row.get(c.code, "")) if isinstance(row, dict) else "") for c in indicator.columns] for row in rows
    ]
    table = Table([header, *body], repeatRows=1)
    table.setStyle(_GRID)
    return table


@dataclass(frozen=True)
class Heading:
    """What the first lines of a document say."""

    regime_code: str
    regime_name: str
    legal_basis: str
    template_version: int


def _document(story: list[Flowable], *, title: str, keyword: str, author: str) -> bytes:
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        title=title,
        author=author,
        subject=title,
        keywords=[keyword],
        creator="QLCB",
        # A fixed document identifier: the same report renders the same bytes.
        invariant=True,
    ).build(story)
    return out.getvalue()


def submission_pdf(
    heading: Heading,
    *,
    assignment_id: str,
    version: int,
    unit_name: str,
    period_key: str,
    period_span: str,
    indicators: Sequence[Indicator],
    asked: Sequence[str],
    values: dict[str, Any],
    submitted_at: datetime,
    submitted_by: str,
) -> bytes:
    """The report as the unit sends it: its indicators in the template's order, each with its value."""
    shown = [i for i in indicators if not asked or i.code in asked]
    rows: list[list[Flowable | str]] = [[_p("Mã", _HEAD), _p("Chỉ tiêu", _HEAD), _p("Giá trị", _HEAD)]]
    rows += [[_p(i.code), _p(i.label), _value(i, values.get(i.code))] for i in shown]
    table = Table(rows, colWidths=[3.5 * cm, 6 * cm, 8 * cm], repeatRows=1)
    table.setStyle(_GRID)
    story: list[Flowable] = [
        _p(unit_name, _HEAD),
        Spacer(1, 6),
        _p(heading.regime_name.upper(), _TITLE),
        _p(f"Kỳ báo cáo: {period_key} ({period_span})", _BODY),
        _p(f"Chế độ báo cáo: {heading.regime_code} — căn cứ: {heading.legal_basis}", _BODY),
        _p(f"Mẫu phiên bản {heading.template_version}; báo cáo phiên bản {version}", _BODY),
        Spacer(1, 6),
        table,
        Spacer(1, 10),
        _p(f"Gửi lúc {submitted_at:%H:%M:%S ngày %d/%m/%Y} (UTC) bởi tài khoản {submitted_by}", _BODY),
        _p(f"Đơn vị báo cáo ký số: {unit_name}", _BODY),
    ]
    return _document(
        story,
        title=f"{heading.regime_name} — {unit_name} — {period_key}",
        keyword=keywords("submission", assignment_id, version),
        author=unit_name,
    )


def template_pdf(
    heading: Heading, *, regime_id: str, issuer_name: str, outline: str, indicators: Sequence[Indicator]
) -> bytes:
    """A template version as its issuer publishes it: the outline and every indicator with its rule."""
    rows: list[list[Flowable | str]] = [[_p(h, _HEAD) for h in ("Mã", "Chỉ tiêu", "Kiểu", "Đơn vị tính", "Bắt buộc")]]
    for i in indicators:
        label = i.label + "".join(f"\n– {c.label} ({KIND_LABELS.get(c.kind, c.kind)})" for c in i.columns)
        rows.append(
            [_p(i.code), _p(label), _p(KIND_LABELS.get(i.kind, i.kind)), _p(i.unit), _p("Có" if i.required else "")]
        )
    table = Table(rows, colWidths=[3.5 * cm, 6.5 * cm, 2.5 * cm, 2.5 * cm, 2.5 * cm], repeatRows=1)
    table.setStyle(_GRID)
    story: list[Flowable] = [
        _p(issuer_name, _HEAD),
        Spacer(1, 6),
        _p(heading.regime_name.upper(), _TITLE),
        _p(f"Mẫu báo cáo {heading.regime_code}, phiên bản {heading.template_version}", _BODY),
        _p(f"Căn cứ: {heading.legal_basis}", _BODY),
        _p("Đề cương", _HEAD),
        _p(outline or "(Không có)", _BODY),
        Spacer(1, 6),
        table,
    ]
    return _document(
        story,
        title=f"{heading.regime_name} — mẫu phiên bản {heading.template_version}",
        keyword=keywords("template", regime_id, heading.template_version),
        author=issuer_name,
    )
