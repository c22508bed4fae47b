"""The statistics pages against stand-ins for reports and personnel: the caller's own unit's BM01 of
today shown at once; the form's columns under their printed headers; each count of people a link to
the people it counts, which lists them linked to their records as of the form's day; a column drawn
as bars; the files; a day typed wrong said beside its box with nothing asked; reports' refusals (a
day it does not serve, a unit outside the caller's reports) said on the page, the criteria kept."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import Personnel, Verifier, invalid_argument, rpc_error, stand_in_pages

from qlcb.reports.v1 import reports_pb2
from qlcb_common.auth import Principal
from qlcb_gateway.web.pages import who

COLUMNS = [
    reports_pb2.StatisticsColumn(key="quota", label="Biên chế được giao", count="quota"),
    reports_pb2.StatisticsColumn(key="headcount", label="Tổng số", count="people"),
    reports_pb2.StatisticsColumn(key="women", label="Nữ", header="Trong đó", count="people"),
    reports_pb2.StatisticsColumn(key="party", label="Đảng viên", header="Trong đó", count="people"),
    reports_pb2.StatisticsColumn(key="age_30", label="Dưới 30", header="Độ tuổi", count="people"),
]


def _cells(*values: int | None) -> list[reports_pb2.StatisticsCell]:
    return [reports_pb2.StatisticsCell(value=v) if v is not None else reports_pb2.StatisticsCell() for v in values]


@dataclass
class Reports:
    """BM01 of Hà Nội (u1): its total, its own people and Nội Bài's; the people of one cell."""

    asked: list[Any] = field(default_factory=list)
    refusal: grpc.aio.AioRpcError | None = None

    async def ListStatisticsForms(self, request: Any, **options: Any) -> reports_pb2.ListStatisticsFormsResponse:
        return reports_pb2.ListStatisticsFormsResponse(
            forms=[
                reports_pb2.StatisticsFormSummary(form="BM01", title="Số lượng, chất lượng công chức", kind="counts"),
                reports_pb2.StatisticsFormSummary(form="BM03", title="Danh sách và tiền lương", kind="list"),
                reports_pb2.StatisticsFormSummary(form="BIENDONG", title="Biến động trong năm", kind="events"),
            ]
        )

    async def GetStatisticsForm(self, request: Any, **options: Any) -> reports_pb2.GetStatisticsFormResponse:
        self.asked.append(request)
        if self.refusal is not None:
            raise self.refusal
        if request.form == "BIENDONG":
            return reports_pb2.GetStatisticsFormResponse(
                form=request.form,
                title="Tổng hợp biến động công chức trong năm",
                unit_id=request.unit_id,
                unit_name="Cục Hải quan Hà Nội",
                as_of=request.as_of or "2026-12-04",
                kind="events",
                columns=[reports_pb2.StatisticsColumn(key="retired", label="Nghỉ hưu", header="Giảm", count="events")],
                rows=[reports_pb2.StatisticsRow(key="total", label="Tổng số", unit_id="u1", cells=_cells(3))],
                generation=1,
            )
        return reports_pb2.GetStatisticsFormResponse(
            form=request.form,
            title="Số lượng, chất lượng công chức",
            designation="Biểu mẫu BM01/BNV",
            legal_basis="Thông tư 11/2012/TT-BNV",
            unit_id=request.unit_id,
            unit_name="Cục Hải quan Hà Nội",
            as_of=request.as_of or "2026-12-04",
            kind="counts",
            columns=COLUMNS,
            rows=[
                reports_pb2.StatisticsRow(key="total", label="Tổng số", unit_id="u1", cells=_cells(120, 130, 52, 0, 9)),
                reports_pb2.StatisticsRow(
                    key="own", label="Cục Hải quan Hà Nội", unit_id="u1", cells=_cells(80, 92, 40, 0, 5)
                ),
                reports_pb2.StatisticsRow(
                    key="nb", label="Chi cục Nội Bài", unit_id="nb", cells=_cells(None, 38, 12, 0, 4)
                ),
            ],
            generation=1,
        )

    async def ListStatisticsPeople(self, request: Any, **options: Any) -> reports_pb2.ListStatisticsPeopleResponse:
        self.asked.append(request)
        person = reports_pb2.StatisticsPerson(
            person_id="p1",
            personal_id="001186000123",
            staff_number="HQ0123",
            full_name="Đặng Thị Hồng Nhung",
            date_of_birth="1986-04-09",
            sex="SEX_FEMALE",
            unit_id="nb",
        )
        return reports_pb2.ListStatisticsPeopleResponse(people=[person], total=12)


@dataclass
class Page:
    client: TestClient
    reports: Reports
    verifier: Verifier


@pytest.fixture
def page() -> Iterator[Page]:
    reports, verifier = Reports(), Verifier()
    with stand_in_pages(verifier, personnel=Personnel(), reports=reports) as client:
        yield Page(client, reports, verifier)


def test_the_callers_own_units_bm01_of_today_is_shown_with_its_headers_as_printed(page: Page) -> None:
    response = page.client.get("/web/statistics")
    assert response.status_code == 200, response.text
    (asked,) = page.reports.asked
    assert (asked.form, asked.unit_id, asked.as_of) == ("BM01", "u1", "")
    html = parsed(response.text)
    assert "Thống kê" in [a.all_text() for a in html.one("nav").find_all("a")]
    header = html.one("table", id="form-table").one("thead").find_all("tr")
    assert [(th.all_text(), th.attrs.get("colspan"), th.attrs.get("rowspan")) for th in header[0].find_all("th")] == [
        ("Đơn vị", None, "2"),
        ("Biên chế được giao", None, "2"),
        ("Tổng số", None, "2"),
        ("Trong đó", "2", None),
        ("Độ tuổi", None, None),
    ]
    assert [th.all_text() for th in header[1].find_all("th")] == ["Nữ", "Đảng viên", "Dưới 30"]
    assert html.one(id="form-day").all_text() == "04/12/2026"
    assert html.one("figcaption").all_text().startswith("Tổng số theo đơn vị"), "people drawn first, not the quota"
    choices = [o.all_text().strip() for o in html.one("select", name="unit_id").find_all("option")][1:]
    assert choices == ["Cục Hải quan Hà Nội (HQHN)", "Chi cục Nội Bài (HQHN-NB)"], "dissolved units are not offered"


def test_each_count_of_people_links_to_those_it_counts_and_a_quota_nobody_gave_says_so(page: Page) -> None:
    html = parsed(page.client.get("/web/statistics").text)
    nb = html.one("tr", id="row-nb")
    cells = {td.attrs["data-column"]: td for td in nb.find_all("td")}
    assert cells["quota"].all_text() == "chưa giao"
    assert cells["party"].find_all("a") == [], "nobody to list behind a zero"
    (link,) = cells["women"].find_all("a")
    target = urlsplit(link.attrs["href"])
    assert target.path == "/web/statistics/BM01/people"
    assert parse_qs(target.query) == {"unit_id": ["u1"], "row": ["nb"], "column": ["women"], "as_of": ["2026-12-04"]}
    assert link.all_text() == "12 Nữ, Chi cục Nội Bài"

    listed = page.client.get(link.attrs["href"])
    assert listed.status_code == 200, listed.text
    asked = page.reports.asked[-1]
    assert (asked.row, asked.column, asked.as_of, asked.page, asked.page_size) == ("nb", "women", "2026-12-04", 1, 100)
    people = parsed(listed.text)
    assert people.one("h1").all_text() == "Trong đó: Nữ — Chi cục Nội Bài"
    assert people.one(id="listed-total").all_text() == "12"
    (row,) = people.one("table", id="people").one("tbody").find_all("tr")
    assert [td.all_text() for td in row.find_all("td")] == [
        "Đặng Thị Hồng Nhung",
        "09/04/1986",
        "Nữ",
        "HQ0123",
        "Chi cục Nội Bài",
    ]
    assert urlsplit(row.one("a").attrs["href"]).path == "/web/persons/p1"


def test_a_column_is_drawn_as_bars_across_the_units_below_the_total(page: Page) -> None:
    html = parsed(page.client.get("/web/statistics", params={"form": "BM01", "unit_id": "u1", "chart": "women"}).text)
    chart = html.one("figure", id="chart")
    bars = chart.find_all("rect")
    assert [float(b.attrs["width"]) for b in bars] == [420.0, 126.0], "40 and 12 women against the largest"
    assert chart.one("title").all_text() == "Nữ theo đơn vị: Cục Hải quan Hà Nội 40; Chi cục Nội Bài 12"
    options = chart.one("select", name="chart").find_all("option")
    assert [o.attrs["value"] for o in options if "selected" in o.attrs] == ["women"]


def test_the_files_are_offered_for_the_unit_and_day_shown(page: Page) -> None:
    html = parsed(
        page.client.get("/web/statistics", params={"form": "BM01", "unit_id": "nb", "as_of": "2021-06-30"}).text
    )
    links = [urlsplit(a.attrs["href"]) for a in html.one(id="exports").find_all("a")]
    assert [u.path for u in links] == [f"/web/statistics/BM01/export.{x}" for x in ("xlsx", "pdf", "csv")]
    assert all(parse_qs(u.query) == {"unit_id": ["nb"], "as_of": ["2021-06-30"]} for u in links)
    assert page.reports.asked[-1].as_of == "2021-06-30"
    assert page.client.get("/web/statistics/BM01/export.doc").status_code == 404


def test_each_file_tells_reports_its_format_for_the_audit_and_a_form_shown_tells_none(page: Page) -> None:
    page.client.get("/web/statistics", params={"form": "BM03", "unit_id": "u1"})
    for extension in ("xlsx", "csv"):
        exported = page.client.get(f"/web/statistics/BM03/export.{extension}", params={"unit_id": "u1"})
        assert exported.status_code == 200, exported.text
    assert [asked.export_format for asked in page.reports.asked] == ["", "xlsx", "csv"]


@pytest.mark.parametrize(
    ("query", "where", "reason"),
    [
        ({"as_of": "31/02/2026"}, "f-as_of-error", "Không phải một ngày (ngày/tháng/năm)"),
        ({"form": "BM99"}, "f-form-error", "Không có trong danh mục"),
        ({"unit_id": "elsewhere"}, "f-unit_id-error", "Không có trong danh mục"),
    ],
)
def test_what_is_typed_wrong_is_said_beside_its_box_and_reports_is_not_asked(
    page: Page, query: dict[str, str], where: str, reason: str
) -> None:
    response = page.client.get("/web/statistics", params={"form": "BM01", "unit_id": "u1"} | query)
    assert response.status_code == 422
    assert parsed(response.text).one(id=where).all_text() == reason
    assert page.reports.asked == []


def test_reports_refusals_are_said_on_the_page_with_the_criteria_kept(page: Page) -> None:
    page.reports.refusal = invalid_argument(("as_of", "Ngày 05/12/2026 sau hôm nay"))
    refused = page.client.get("/web/statistics", params={"form": "BM01", "unit_id": "u1", "as_of": "2026-12-05"})
    assert refused.status_code == 422
    html = parsed(refused.text)
    assert html.one(id="f-as_of-error").all_text() == "Ngày 05/12/2026 sau hôm nay"
    assert html.one("input", name="as_of").attrs["value"] == "2026-12-05"
    assert html.find_all("table", id="form-table") == []

    page.reports.refusal = rpc_error(grpc.StatusCode.PERMISSION_DENIED, "reports: /TCHQ/HQHCM outside /TCHQ/HQHN")
    denied = page.client.get("/web/statistics", params={"form": "BM01", "unit_id": "nb"})
    assert denied.status_code == 403
    assert parsed(denied.text).one(id="faults").find_all("li")[0].all_text() == (
        "Bạn không được xem số liệu thống kê của đơn vị này."
    )
    assert "HQHCM" not in denied.text, "reports' own words are not shown"


def test_a_tier_without_the_reports_is_refused_the_page_and_not_offered_it(page: Page) -> None:
    page.verifier.roles = frozenset({"self"})
    refused = page.client.get("/web/statistics")
    assert refused.status_code == 403
    assert page.reports.asked == []
    assert (
        who(
            Principal(subject="s", username="canbo", roles=page.verifier.roles, unit_path="/TCHQ/HQHN", token="t")
        ).reads_statistics
        is False
    )


def test_a_count_of_the_years_movements_links_to_each_movement_with_the_unit_then(page: Page) -> None:
    html = parsed(page.client.get("/web/statistics", params={"form": "BIENDONG", "unit_id": "u1"}).text)
    (link,) = html.one("tr", id="row-total").find_all("a")
    assert urlsplit(link.attrs["href"]).path == "/web/statistics/BIENDONG/people"
    listed = parsed(page.client.get(link.attrs["href"]).text)
    counted = listed.one(id="counted")
    assert "ô này đếm  lượt từ ngày 01/01 của năm" in counted.all_text()
    assert [strong.all_text() for strong in counted.find_all("strong")] == ["3", "12"]
    headers = [th.all_text() for th in listed.one("table", id="people").one("thead").find_all("th")]
    assert headers[-1] == "Đơn vị khi biến động"
