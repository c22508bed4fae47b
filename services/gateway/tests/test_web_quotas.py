"""A unit's staffing quota page against stand-ins for personnel: what it was given against the people
in service, the units right below it, every time it was given newest first; the form only for the
tiers that give quotas, what is wrong said beside each field before personnel is asked, the quota
sent for the year shown, personnel's refusal said with what was typed kept; only with the session's
CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import QUOTA_UNITS, SESSION, QuotaUnits, Verifier, invalid_argument, rpc_error, stand_in_pages

from qlcb.personnel.v1 import quota_pb2


@dataclass
class Quotas:
    given: list[quota_pb2.SetUnitQuotaRequest] = field(default_factory=list)
    fails: grpc.aio.AioRpcError | None = None
    reported: list[quota_pb2.GetQuotaReportRequest] = field(default_factory=list)

    async def GetQuotaReport(self, request: Any, **options: Any) -> quota_pb2.GetQuotaReportResponse:
        self.reported.append(request)
        return quota_pb2.GetQuotaReportResponse(
            year=request.year,
            as_of="2026-12-04",
            lines=[
                quota_pb2.QuotaLine(
                    unit_id="u1", name=QUOTA_UNITS["u1"][0], quota=120, allocated=40, headcount=130, own_headcount=92
                ),
                quota_pb2.QuotaLine(
                    unit_id="nb", name=QUOTA_UNITS["nb"][0], parent_id="u1", quota=40, headcount=38, own_headcount=38
                ),
            ],
        )

    async def ListUnitQuotaChanges(self, request: Any, **options: Any) -> quota_pb2.ListUnitQuotaChangesResponse:
        def change(quota: int, kind: str, day: str, number: str, previous: int | None) -> quota_pb2.UnitQuotaChange:
            made = quota_pb2.UnitQuotaChange(
                unit_id="u1",
                year=request.year,
                quota=quota,
                change=kind,
                effective_date=day,
                decision=number,
                recorded_at=f"{day}T02:00:00+00:00",
                recorded_by="sub-qthanoi",
            )
            if previous is not None:
                made.previous_quota = previous
            return made

        return quota_pb2.ListUnitQuotaChangesResponse(
            changes=[
                change(110, "assigned", "2026-01-01", "5/QĐ-TCHQ", None),
                change(120, "changed", "2026-07-01", "88/QĐ-TCHQ", 110),
            ]
        )

    async def SetUnitQuota(self, request: Any, **options: Any) -> quota_pb2.SetUnitQuotaResponse:
        if self.fails is not None:
            raise self.fails
        self.given.append(request)
        return quota_pb2.SetUnitQuotaResponse()


@dataclass
class Page:
    client: TestClient
    quotas: Quotas
    verifier: Verifier


@pytest.fixture
def page() -> Iterator[Page]:
    quotas, verifier = Quotas(), Verifier()
    with stand_in_pages(verifier, personnel=QuotaUnits(), quotas=quotas) as client:
        yield Page(client, quotas, verifier)


def _give(page: Page, csrf: str = SESSION.csrf_token, **form: str) -> Any:
    return page.client.post("/web/units/u1/quota?year=2026", data={"csrf_token": csrf} | form)


def test_the_quota_is_read_against_the_people_in_service_with_the_units_below_and_each_time_it_was_given(
    page: Page,
) -> None:
    shown = parsed(page.client.get("/web/units/u1/quota", params={"year": "2026"}).text)
    assert shown.one("h1").all_text() == "Biên chế năm 2026 — Cục Hải quan thành phố Hà Nội"
    facts = shown.one("dl", id="quota-facts")
    assert [d.all_text() for d in facts.find_all("dd")] == [
        "120",
        "40",
        "80",
        "130 (tại chính đơn vị 92)",
        "+10 (vượt biên chế)",
    ]
    assert "Có mặt ngày 04/12/2026" in facts.all_text()
    below = shown.one("tr", id="below-nb")
    assert below.one("a").attrs["href"] == "http://gateway.test/web/units/nb/quota?year=2026"
    assert [cell.all_text() for cell in below.find_all("td")] == ["Chi cục Hải quan Nội Bài", "40", "38", "−2"]
    rows = shown.one("section", id="history").find_all("tr")[1:]
    assert [[cell.all_text() for cell in row.find_all("td")][:6] for row in rows] == [
        ["01/07/2026", "88/QĐ-TCHQ", "120", "110", "Thay đổi", "Vũ Thị Hà (qthanoi)"],
        ["01/01/2026", "5/QĐ-TCHQ", "110", "—", "Giao lần đầu", "Vũ Thị Hà (qthanoi)"],
    ]
    assert shown.find_all("section", id="give") == [], "a unit's admin does not give quotas"
    assert page.quotas.reported[-1].include_subtree

    page.client.get("/web/units/u1/quota", params={"year": "năm nay"})
    assert page.quotas.reported[-1].year >= 2026, "what is not a year shows this year"


def test_the_sectors_hr_gives_a_quota_checked_here_first_then_by_personnel(page: Page) -> None:
    page.verifier.roles = frozenset({"sector-hr"})
    form = parsed(page.client.get("/web/units/u1/quota", params={"year": "2026"}).text).one("section", id="give")
    assert "Phân bổ từ biên chế của Tổng cục Hải quan" in form.all_text()

    refused = _give(page, quota="-3", effective_date="32/01/2026", decision="")
    assert refused.status_code == 422
    shown = parsed(refused.text)
    assert shown.one(id="f-quota-error").all_text() == "Phải từ 0 đến 1000000"
    assert shown.one(id="f-effective_date-error").all_text() == "Không phải một ngày (ngày/tháng/năm)"
    assert shown.one(id="f-decision-error").all_text() == "Bắt buộc nhập"
    assert page.quotas.given == []

    done = _give(page, quota="125", effective_date="01/12/2026", decision="140/QĐ-TCHQ")
    assert done.status_code == 303
    assert done.headers["location"] == "http://gateway.test/web/units/u1/quota?year=2026&done=1"
    [given] = page.quotas.given
    assert (given.unit_id, given.year, given.quota, given.effective_date, given.decision) == (
        "u1",
        2026,
        125,
        "2026-12-01",
        "140/QĐ-TCHQ",
    )
    assert parsed(page.client.get(done.headers["location"]).text).one(id="done").all_text() == "Đã ghi biên chế."


def test_personnels_refusal_is_said_with_what_was_typed_kept(page: Page) -> None:
    page.verifier.roles = frozenset({"sector-hr"})
    page.quotas.fails = rpc_error(
        grpc.StatusCode.FAILED_PRECONDITION,
        "Biên chế năm 2026 của u1 (500) vượt phần còn lại của đơn vị cấp trên root ngày 2026-12-01",
    )
    conflict = _give(page, quota="500", effective_date="2026-12-01", decision="141/QĐ-TCHQ")
    assert conflict.status_code == 409
    shown = parsed(conflict.text)
    assert "vượt phần còn lại của đơn vị cấp trên" in shown.one(id="faults").all_text()
    assert shown.one("input", name="quota").attrs["value"] == "500"

    page.quotas.fails = invalid_argument(
        ("effective_date", "Biên chế năm 2026 được giao từ một ngày của năm 2025 hoặc 2026")
    )
    refused = _give(page, quota="500", effective_date="2024-12-01", decision="141/QĐ-TCHQ")
    assert refused.status_code == 422
    assert parsed(refused.text).one(id="f-effective_date-error").all_text().startswith("Biên chế năm 2026 được giao")


@pytest.mark.parametrize("csrf", ["", "csrf-of-another-session"])
def test_a_quota_without_the_sessions_token_is_not_given(page: Page, csrf: str) -> None:
    page.verifier.roles = frozenset({"sector-hr"})
    assert _give(page, csrf=csrf, quota="125", effective_date="2026-12-01", decision="140/QĐ-TCHQ").status_code == 403
    assert page.quotas.given == []
