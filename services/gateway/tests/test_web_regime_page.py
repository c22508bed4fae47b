"""Opening a report period from its regime's page, against stand-ins for reports: the form offered to
the tiers that issue regimes only, a periodic regime's period of today offered; what is typed wrong
said by its field with nothing sent; an ad hoc period's dates sent as reports takes them; reports'
refusals said beside the field they name (a period opened already: 409), or as a refused page; the
new period said with how many units it was handed to; only with the session's CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import PERIOD, REGIME, SESSION, ReportUnits, Verifier, invalid_argument, rpc_error, stand_in_pages

from qlcb.reports.v1 import regimes_pb2, workflow_pb2
from qlcb_common.days import VIETNAM
from qlcb_gateway.web.regime_page import key_of

AD_HOC = regimes_pb2.Regime(
    id="r2",
    code="BC-DX",
    name="Báo cáo đột xuất về cán bộ nghỉ hưu sớm",
    kind="ad_hoc",
    legal_basis="Công văn 12/TCHQ-TCCB",
    issuer_unit_id="hn",
    templates=REGIME.templates,
    created_at="2026-01-01T00:00:00+00:00",
)


class Regimes:
    async def GetRegime(self, request: Any, **options: Any) -> regimes_pb2.GetRegimeResponse:
        found = {"r1": REGIME, "r2": AD_HOC}.get(request.regime_id)
        if found is None:
            raise rpc_error(grpc.StatusCode.NOT_FOUND, "no regime")
        return regimes_pb2.GetRegimeResponse(regime=found)


@dataclass
class Periods:
    periods: list[workflow_pb2.Period] = field(default_factory=lambda: [PERIOD])
    opened: list[workflow_pb2.OpenPeriodRequest] = field(default_factory=list)
    refusal: grpc.aio.AioRpcError | None = None

    async def ListPeriods(self, request: Any, **options: Any) -> workflow_pb2.ListPeriodsResponse:
        return workflow_pb2.ListPeriodsResponse(periods=self.periods)

    async def OpenPeriod(self, request: Any, **options: Any) -> workflow_pb2.OpenPeriodResponse:
        if self.refusal is not None:
            raise self.refusal
        self.opened.append(request)
        period = workflow_pb2.Period(
            id="p2",
            regime_id=request.regime_id,
            key=request.period,
            starts_on=request.starts_on or "2026-12-01",
            ends_on=request.ends_on or "2026-12-31",
            deadline=request.deadline or "2027-01-08",
            template_version=1,
            opened_at="2026-12-04T01:00:00+00:00",
        )
        self.periods.insert(0, period)
        return workflow_pb2.OpenPeriodResponse(period=period, assignments=14)


@dataclass
class Page:
    client: TestClient
    periods: Periods
    verifier: Verifier


@pytest.fixture
def page() -> Iterator[Page]:
    periods, verifier = Periods(), Verifier(roles=frozenset({"sector-hr"}))
    backends = {"report_regimes": Regimes(), "report_assignments": periods}
    with stand_in_pages(verifier, personnel=ReportUnits(), **backends) as client:
        yield Page(client, periods, verifier)


def _open(page: Page, form: dict[str, str], regime: str = "r1", *, csrf: str = SESSION.csrf_token) -> Any:
    return page.client.post(f"/web/reports/{regime}/periods", data={"csrf_token": csrf} | form)


def test_the_period_key_of_a_day_is_that_of_the_regimes_frequency() -> None:
    day = date(2026, 8, 14)
    assert [key_of(f, day) for f in ("month", "quarter", "half_year", "year")] == [
        "2026-08",
        "2026-Q3",
        "2026-H2",
        "2026",
    ]


def test_the_sector_hr_is_offered_this_periods_key_and_a_local_admin_no_form(page: Page) -> None:
    html = parsed(page.client.get("/web/reports/r1").text)
    today = datetime.now(VIETNAM).date()
    assert html.one("input", id="f-period").attrs["value"] == f"{today.year}-{today.month:02d}"
    assert html.one("label", **{"for": "f-period"}).all_text() == "Kỳ (như 2026-11) *"
    page.verifier.roles = frozenset({"local-admin"})
    assert parsed(page.client.get("/web/reports/r1").text).find_all("section", id="open-period") == []


def test_a_period_opened_is_said_with_how_many_units_it_was_handed_to(page: Page) -> None:
    response = _open(page, {"period": " 2026-12 "})
    assert response.status_code == 303
    assert [(r.regime_id, r.period, r.starts_on) for r in page.periods.opened] == [("r1", "2026-12", "")]
    target = urlsplit(response.headers["location"])
    assert (target.path, parse_qs(target.query)) == ("/web/reports/r1", {"opened": ["p2"], "assigned": ["14"]})
    html = parsed(page.client.get(f"{target.path}?{target.query}").text)
    notice = html.one("p", id="opened")
    assert notice.one("a").all_text() == "2026-12"
    assert urlsplit(notice.one("a").attrs["href"]).path == "/web/report-periods/p2"
    assert "giao báo cáo cho 14 đơn vị thực hiện, hạn gửi 08/01/2027." in notice.all_text()
    assert html.one("tr", id="period-p2").one("a").all_text() == "2026-12"


def test_an_ad_hoc_periods_dates_typed_as_officers_do_are_sent_as_reports_takes_them(page: Page) -> None:
    form = {"period": "2026-dot-1", "starts_on": "01/10/2026", "ends_on": "2026-11-30", "deadline": "15/12/2026"}
    assert _open(page, form, "r2").status_code == 303
    sent = page.periods.opened[0]
    assert (sent.period, sent.starts_on, sent.ends_on, sent.deadline) == (
        "2026-dot-1",
        "2026-10-01",
        "2026-11-30",
        "2026-12-15",
    )


def test_what_is_typed_wrong_is_said_by_its_field_and_nothing_is_sent(page: Page) -> None:
    empty = parsed(_open(page, {"period": ""}).text)
    assert empty.one("p", id="f-period-error").all_text() == "Bắt buộc nhập"
    spaced = _open(page, {"period": "2026 12"})
    assert spaced.status_code == 422
    assert parsed(spaced.text).one("p", id="f-period-error").all_text() == "Chỉ gồm chữ không dấu, số, dấu chấm, gạch"
    bad_day = parsed(
        _open(page, {"period": "dot-1", "starts_on": "31/02/2026", "ends_on": "", "deadline": ""}, "r2").text
    )
    assert bad_day.one("p", id="f-starts_on-error").all_text() == "Không phải một ngày (ngày/tháng/năm)"
    assert bad_day.one("p", id="f-ends_on-error").all_text() == "Bắt buộc nhập"
    assert page.periods.opened == []


def test_reports_refusals_are_said_beside_their_field_or_as_a_refused_page(page: Page) -> None:
    page.periods.refusal = invalid_argument(("period", "Năm của kỳ báo cáo từ 2000 đến 2027"))
    wrong_year = _open(page, {"period": "2031-01"})
    assert wrong_year.status_code == 422
    html = parsed(wrong_year.text)
    assert html.one("p", id="f-period-error").all_text() == "Năm của kỳ báo cáo từ 2000 đến 2027"
    assert html.one("input", id="f-period").attrs["value"] == "2031-01", "what was typed is kept"
    page.periods.refusal = rpc_error(grpc.StatusCode.ALREADY_EXISTS, "Kỳ báo cáo 2026-11 của chế độ BC-NS đã được mở")
    twice = _open(page, {"period": "2026-11"})
    assert twice.status_code == 409
    assert (
        parsed(twice.text).one("p", id="f-period-error").all_text() == "Kỳ báo cáo 2026-11 của chế độ BC-NS đã được mở"
    )
    page.periods.refusal = rpc_error(grpc.StatusCode.PERMISSION_DENIED, "no")
    assert _open(page, {"period": "2026-12"}).status_code == 403


def test_a_form_without_the_sessions_token_is_refused_and_nothing_opened(page: Page) -> None:
    assert _open(page, {"period": "2026-12"}, csrf="forged").status_code == 403
    assert page.periods.opened == []
