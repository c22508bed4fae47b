"""Reports as files (issue 11 point 6, R-REP-5), on the running system: one unit's report and a
period's roll-up as XLSX, PDF and CSV in the template's layout, the chart of reports by state as
SVG and PNG with its figures as JSON; each within the caller's reach, and bad input refused."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.integration.test_report_workflow import (
    ABOVE,
    ELSEWHERE,
    ISSUER,
    VALID,
    _as,
    _assignments,
    _branch,
    _open,
    _regime,
    _send,
    _step,
)
from tests.support import System, eventually

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def period(system: System) -> dict[str, object]:
    """A period of three sub-units: C1 approved (40 posts), C2 sent and waiting (25), C3 untouched."""
    units = await _branch(system, "C1<P", "C2<P", "C3<P")
    opened = await _open(system, await _regime(system, units["P"]), "2027-03")
    assigned = await _assignments(system, opened["period"]["id"])
    async with _as(system, ABOVE) as api, _as(system, ISSUER) as approver:
        await _send(api, assigned[units["C1"]], VALID | {"danh_sach": [{"ho_ten": "Lê Thị Hoà", "so_nam": 31}]})
        await _send(api, assigned[units["C2"]], VALID | {"so_bien_che": 25, "ghi_chu": "=cmd|' /C calc'!A0"})
        assert (await _step(approver, assigned[units["C1"]], "approve")).status_code == 200
    return {"period_id": opened["period"]["id"], "units": units, "assigned": assigned}


async def test_a_report_is_exported_in_its_templates_layout(system: System, period: dict[str, object]) -> None:
    units, assigned = period["units"], period["assigned"]
    report = assigned[units["C1"]]  # type: ignore[index]
    async with _as(system, ABOVE) as api:
        xlsx = await api.get(f"/v1/report-assignments/{report['id']}/export", params={"format": "xlsx"})
        pdf = await api.get(f"/v1/report-assignments/{report['id']}/export", params={"format": "pdf"})
        as_csv = await api.get(f"/v1/report-assignments/{report['id']}/export", params={"format": "csv"})
    assert xlsx.status_code == 200, xlsx.text
    assert "attachment" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Báo cáo số lượng, chất lượng cán bộ"]
    assert ["Đơn vị: Tổ báo cáo C1"] in rows
    assert ["Số biên chế được giao", "người", 40] in rows
    assert ["Tỷ lệ nữ", 42.5] in rows
    assert [1, "Lê Thị Hoà", 31] in rows  # the table indicator, as a table of its own

    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Số biên chế được giao" in text
    assert "Lê Thị Hoà" in text

    assert as_csv.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert lines[0] == ["ma_chi_tieu", "chi_tieu", "dong", "cot", "gia_tri"]
    assert ["danh_sach", "Danh sách cán bộ nghỉ hưu trong kỳ", "1", "ho_ten", "Lê Thị Hoà"] in lines


async def test_the_rollup_lists_each_unit_and_sums_only_what_was_approved(
    system: System, period: dict[str, object]
) -> None:
    units = period["units"]
    async with _as(system, ISSUER) as api:
        xlsx = await api.get(
            f"/v1/report-periods/{period['period_id']}/rollup",
            params={"format": "xlsx", "unit_id": units["P"]},  # type: ignore[index]
        )
        as_csv = await api.get(f"/v1/report-periods/{period['period_id']}/rollup", params={"format": "csv"})
    assert xlsx.status_code == 200, xlsx.text
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = next(r for r in rows if r[0] == "Đơn vị")
    assert header[:4] == ["Đơn vị", "Trạng thái", "Số biên chế được giao (người)", "Số có mặt (người)"]
    body = {r[0]: r for r in rows[rows.index(header) + 1 :]}
    assert body["Tổ báo cáo C1"][1:3] == ["Đã duyệt", 40]
    assert body["Tổ báo cáo C2"][1:3] == ["Đã gửi, chờ duyệt", 25]
    assert body["Tổ báo cáo C3"][1] == "Chưa soạn"
    # Only the approved report counts towards the sum the level above may rely on.
    assert body["Tổng (các báo cáo đã duyệt)"][2] == 40
    # A formula typed as a value stays text.
    assert body["Tổ báo cáo C2"][header.index("Ghi chú")] == "=cmd|' /C calc'!A0"
    assert sheet["A1"].value == "Báo cáo số lượng, chất lượng cán bộ"

    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    c2 = next(line for line in lines if line[0] == "Tổ báo cáo C2")
    assert c2[header.index("Ghi chú")] == "'=cmd|' /C calc'!A0"


async def test_the_chart_counts_reports_by_state_and_gives_its_figures(
    system: System, period: dict[str, object]
) -> None:
    async with _as(system, ISSUER) as api:
        figures = await api.get(f"/v1/report-periods/{period['period_id']}/chart", params={"format": "json"})
        svg = await api.get(f"/v1/report-periods/{period['period_id']}/chart", params={"format": "svg"})
        png = await api.get(f"/v1/report-periods/{period['period_id']}/chart", params={"format": "png"})
    assert figures.status_code == 200, figures.text
    counts = {c["state"]: c["reports"] for c in figures.json()["counts"]}
    assert counts == {"not_started": 1, "draft": 0, "submitted": 1, "returned": 0, "approved": 1}
    assert svg.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_files_show_nothing_beyond_the_callers_reach_and_bad_input_is_named(
    system: System, period: dict[str, object]
) -> None:
    units, assigned = period["units"], period["assigned"]
    report = assigned[units["C1"]]  # type: ignore[index]
    async with _as(system, ELSEWHERE) as stranger:
        refused = await stranger.get(f"/v1/report-assignments/{report['id']}/export")
        rollup = await stranger.get(f"/v1/report-periods/{period['period_id']}/chart", params={"format": "json"})
    assert refused.status_code == 403, refused.text  # as the report itself answers another Cục's head
    assert "Lê Thị Hoà" not in refused.text
    assert rollup.status_code == 200, rollup.text  # the period's reports in the caller's reach: none
    assert sum(c["reports"] for c in rollup.json()["counts"]) == 0

    async with _as(system, ABOVE) as api:
        wrong = await api.get(f"/v1/report-assignments/{report['id']}/export", params={"format": "docx"})
        unknown = await api.get("/v1/report-periods/00000000-0000-0000-0000-000000000000/rollup")
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["query", "format"]
    assert unknown.status_code == 404, unknown.text


async def test_every_file_of_reports_is_in_the_audit_trail(system: System, period: dict[str, Any]) -> None:
    """R-PER-7: a report's tables may name people (C1's lists Lê Thị Hoà), so each file of one unit's
    report, and each roll-up, is an export entry of the audit trail: who, which regime's reports of
    which unit and period, the format and how many reports the file holds. The chart names nobody and
    leaves none."""
    units: dict[str, str] = period["units"]
    report = period["assigned"][units["C1"]]
    started = datetime.now(UTC)  # the module's other tests export these reports too
    async with _as(system, ABOVE) as api, _as(system, ISSUER) as issuer:
        one = await api.get(f"/v1/report-assignments/{report['id']}/export", params={"format": "pdf"})
        rollup = await issuer.get(
            f"/v1/report-periods/{period['period_id']}/rollup", params={"format": "csv", "unit_id": units["P"]}
        )
        chart = await issuer.get(f"/v1/report-periods/{period['period_id']}/chart", params={"format": "json"})
        assert (one.status_code, rollup.status_code, chart.status_code) == (200, 200, 200)

    async def exports() -> list[dict[str, Any]]:
        async with _as(system, "quantri") as admin:
            found = await admin.get("/v1/audit", params={"action": "export", "page_size": 200})
        assert found.status_code == 200, found.text
        entries: list[dict[str, Any]] = found.json()["entries"]
        return [
            e
            for e in entries
            if e["target"] == "report"
            and e["details"]["unit_id"] in units.values()
            and datetime.fromisoformat(e["occurred_at"]) >= started
        ]

    entries = await eventually(exports, lambda found: len(found) == 2, timeout=30, what="both files in the trail")
    by_account = {e["account"]: e for e in entries}
    assert set(by_account) == {ABOVE, ISSUER}
    mine, theirs = by_account[ABOVE]["details"], by_account[ISSUER]["details"]
    assert (mine["unit_id"], mine["format"], mine["rows"]) == (units["C1"], "pdf", 1)
    assert (theirs["unit_id"], theirs["format"], theirs["rows"]) == (units["P"], "csv", 3)
    assert by_account[ABOVE]["target_id"] == by_account[ISSUER]["target_id"] != ""
