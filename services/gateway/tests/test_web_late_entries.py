"""Entries made after their deadline, on the page of a unit's tree, against a stand-in for personnel's
deadlines: the last 30 days asked by default, with the unit's tree; the limits and their basis, each
unit's entries and late ones with the total, the late entries with their section, dates and Vietnam's
time of entry; a period typed wrong said beside its box with nothing asked, personnel's refusal of
it likewise; a unit whose reports the caller does not read refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import grpc
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import Deadlines, Personnel, Verifier, invalid_argument, rpc_error, stand_in_pages

from qlcb_common.days import VIETNAM


@dataclass
class Page:
    client: TestClient
    deadlines: Deadlines


@pytest.fixture
def page() -> Iterator[Page]:
    deadlines = Deadlines()
    with stand_in_pages(Verifier(), personnel=Personnel(), deadlines=deadlines) as client:
        yield Page(client, deadlines)


def test_the_last_30_days_late_entries_of_the_units_tree_are_listed_with_the_limits(page: Page) -> None:
    response = page.client.get("/web/units/u1/late-entries")
    assert response.status_code == 200
    today = datetime.now(VIETNAM).date()
    [asked] = page.deadlines.asked
    assert (asked.unit_id, asked.include_subtree, asked.page_size, asked.page_token) == ("u1", True, 100, "")
    assert (asked.from_date, asked.to_date) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    html = parsed(response.text)
    assert html.one("p", id="limits").all_text() == (
        "Thời hạn nhập tính từ ngày phát sinh (ngày có hiệu lực): Cập nhật hồ sơ: 3 ngày làm việc (QĐ 1234)."
    )
    assert [td.all_text() for td in html.one("tr", id="late-total").find_all("td")] == ["40", "2", "5%"]
    rows = html.one("table", id="late-entries").one("tbody").find_all("tr")
    assert [td.all_text() for td in rows[0].find_all("td")] == [
        "Nguyễn Văn An",
        "Diễn biến lương (ngạch, bậc, hệ số)",
        "Cập nhật hồ sơ",
        "02/11/2026",
        "05/11/2026",
        "10/11/2026 09:30",
        "s-officer",
        "3",
    ]


def test_a_period_is_asked_as_typed_and_a_page_token_passed_on(page: Page) -> None:
    html = parsed(page.client.get("/web/units/u1/late-entries?start=2026-01-01&end=2026-03-31&page=tok-2").text)
    [asked] = page.deadlines.asked
    assert (asked.from_date, asked.to_date, asked.page_token) == ("2026-01-01", "2026-03-31", "tok-2")
    assert html.one("input", id="f-start").attrs["value"] == "2026-01-01"
    first = [a.attrs["href"] for a in html.one("nav", **{"aria-label": "Trang"}).find_all("a")]
    assert first == ["/web/units/u1/late-entries?start=2026-01-01&end=2026-03-31"]


def test_a_period_typed_wrong_or_refused_is_said_beside_its_box(page: Page) -> None:
    wrong = page.client.get("/web/units/u1/late-entries?start=31-12-2026")
    assert wrong.status_code == 422
    assert parsed(wrong.text).one(id="f-start-error").all_text() == "Từ ngày: Không phải một ngày"
    assert page.deadlines.asked == []
    page.deadlines.fails = invalid_argument(("to_date", "Kỳ dài nhất 366 ngày"))
    refused = page.client.get("/web/units/u1/late-entries?start=2020-01-01&end=2026-01-01")
    assert refused.status_code == 422
    assert parsed(refused.text).one(id="f-end-error").all_text() == "Đến ngày: Kỳ dài nhất 366 ngày"


def test_a_unit_whose_reports_the_caller_does_not_read_is_refused(page: Page) -> None:
    page.deadlines.fails = rpc_error(grpc.StatusCode.PERMISSION_DENIED, "no")
    assert page.client.get("/web/units/u1/late-entries").status_code == 403
