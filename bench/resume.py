"""The resume form at scale (issue 9, Performance: "Resume PDF p95"): people of the whole-record
benchmark's load, each one's sơ yếu lý lịch printed as a PDF through the gateway
(`GET /v1/persons/{id}/resume`: personnel's whole-record read noted in the audit trail, the items
drawn, the form laid out with its fonts embedded), one after the other by the system admin; beside
the floor any such PDF costs: the same person's current rows read by one raw SQL query and laid out
by reportlab bare, one paragraph per row in the same embedded font, in this process.

The run checks itself: every PDF must open and name its person on its first page, and every raw
read must find the person's rows."""

from __future__ import annotations

import io
import os
import random
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import asyncpg
import httpx
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate

from bench.record_read import Loaded, Percentiles
from qlcb_gateway.settings import GatewaySettings

SAMPLE_SEED = 11
BARE_FONT = "BenchDejaVuSerif"


@dataclass(frozen=True)
class Sizes:
    """`resumes` people's PDFs timed each way, after `warmup` of others."""

    resumes: int = 300
    warmup: int = 20

    def __post_init__(self) -> None:
        if min(self.resumes, self.warmup) < 1:
            raise ValueError("at least one resume and one warm-up")


SMOKE = Sizes(resumes=3, warmup=1)


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    loaded: Loaded
    ours: Percentiles
    raw: Percentiles
    pages: float
    """Pages of the gateway's PDFs, on average."""
    kilobytes: float
    """Size of the gateway's PDFs, on average."""
    rows: float
    """Current entries the raw query read per person, on average."""
    load_average: tuple[float, float]
    checked: dict[str, int]
    """"named": PDFs whose first page names their person; "raw reads": people whose rows the raw read found."""


_RAW = (
    'SELECT p.full_name, e.section, e.valid_from, e.valid_to, e."values"::text AS entry_values'
    " FROM persons p LEFT JOIN record_entries e ON e.person_id = p.id AND e.superseded_at IS NULL"
    " AND NOT e.retracted WHERE p.id = $1 ORDER BY e.section, e.valid_from"
)


def _bare_pdf(rows: Sequence[asyncpg.Record]) -> bytes:
    """The rows as paragraphs in the embedded font: the least a PDF of a record is."""
    style = ParagraphStyle("bare", fontName=BARE_FONT, fontSize=10.5, leading=14)
    story: list[Flowable] = [Paragraph(escape(rows[0]["full_name"].upper()), style)]
    story += [
        Paragraph(escape(f"{r['section']} {r['valid_from'] or ''}–{r['valid_to'] or ''}: {r['entry_values']}"), style)
        for r in rows
        if r["section"] is not None
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, initialFontName=BARE_FONT).build(story)
    return buffer.getvalue()


def _register_bare_font() -> None:
    if BARE_FONT not in pdfmetrics.getRegisteredFontNames():
        folder = Path(GatewaySettings.model_fields["resume_font_dir"].default)
        pdfmetrics.registerFont(TTFont(BARE_FONT, str(folder / "DejaVuSerif.ttf")))


async def measure(
    gateway_url: str, token: Callable[[], str], dsn: str, loaded: Loaded, sizes: Sizes = Sizes()
) -> Result:
    _register_bare_font()
    connection = await asyncpg.connect(dsn)
    try:
        ids = [r["id"] for r in await connection.fetch("SELECT id FROM persons ORDER BY id")]
        people = random.Random(SAMPLE_SEED).sample(ids, sizes.warmup + sizes.resumes)
        ours: list[float] = []
        raw: list[float] = []
        pdfs: list[tuple[str, bytes]] = []
        row_counts: list[int] = []
        load_before = os.getloadavg()[0]
        async with httpx.AsyncClient(
            base_url=gateway_url, timeout=120, headers={"Authorization": f"Bearer {token()}"}
        ) as api:
            for n, person_id in enumerate(people):
                started = time.perf_counter()
                response = await api.get(f"/v1/persons/{person_id}/resume")
                printed = time.perf_counter()
                rows = await connection.fetch(_RAW, person_id)
                _bare_pdf(rows)
                done = time.perf_counter()
                if response.status_code != 200:
                    raise RuntimeError(f"GET resume: {response.status_code} {response.text[:300]}")
                if n < sizes.warmup:
                    continue
                ours.append(printed - started)
                raw.append(done - printed)
                pdfs.append((rows[0]["full_name"], response.content))
                row_counts.append(sum(1 for r in rows if r["section"] is not None))
        load_after = os.getloadavg()[0]
    finally:
        await connection.close()
    pages = []
    named = 0
    for full_name, content in pdfs:
        reader = PdfReader(io.BytesIO(content))
        pages.append(len(reader.pages))
        named += full_name.upper() in unicodedata.normalize("NFC", reader.pages[0].extract_text())
    if named != len(pdfs):
        raise RuntimeError(f"{len(pdfs) - named} of {len(pdfs)} resumes do not name their person")
    if any(count == 0 for count in row_counts):
        raise RuntimeError("a raw read found no rows of a loaded person")
    return Result(
        sizes=sizes,
        loaded=loaded,
        ours=Percentiles.of(ours),
        raw=Percentiles.of(raw),
        pages=sum(pages) / len(pages),
        kilobytes=sum(len(c) for _, c in pdfs) / len(pdfs) / 1024,
        rows=sum(row_counts) / len(row_counts),
        load_average=(load_before, load_after),
        checked={"named": named, "raw reads": len(row_counts)},
    )
