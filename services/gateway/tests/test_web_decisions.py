"""The decision pages against stand-ins for personnel: a unit's decisions newest first with their
kind and state in Vietnamese, one decision with the people the caller may read and what it recorded,
and its cancellation: a reason asked first, sent at the version the page showed, a version changed
meanwhile said on the page, only with the session's CSRF token, offered only to a tier that may
change the kind's section."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import SESSION, DecisionPeople, Record, Verifier, invalid_argument, rpc_error, stand_in_pages

from qlcb.personnel.v1 import decision_pb2


def _decision(
    version: int = 2, state: decision_pb2.DecisionState.ValueType = decision_pb2.DECISION_STATE_APPLIED
) -> Any:
    values = {"rank_code": "01.003", "step": 4, "coefficient": "3.33"}
    return decision_pb2.Decision(
        id="d1",
        kind="regular_raise",
        number="45/QĐ-HQHN",
        decision_date="2026-06-20",
        effective_date="2026-07-01",
        body="Cục Hải quan thành phố Hà Nội",
        signer="Nguyễn Văn Ký",
        signer_post="Cục trưởng",
        state=state,
        items=[
            decision_pb2.DecisionItem(person_id="p1", values_json=json.dumps(values), entry_id="e9"),
        ],
        people_total=2,
        version=version,
        created_by="sub-qthanoi",
        created_at="2026-06-21T08:00:00+00:00",
        applied_at="2026-07-01T00:05:00+00:00" if state == decision_pb2.DECISION_STATE_APPLIED else "",
    )


@dataclass
class Decisions:
    version: int = 2
    cancelled: list[decision_pb2.CancelDecisionRequest] = field(default_factory=list)
    listed: list[decision_pb2.ListDecisionsRequest] = field(default_factory=list)

    async def ListDecisions(self, request: Any, **options: Any) -> decision_pb2.ListDecisionsResponse:
        self.listed.append(request)
        pending = _decision(1, decision_pb2.DECISION_STATE_PENDING)
        pending.id, pending.number, pending.kind = "d2", "50/QĐ-HQHN", "appointment"
        if request.page_token == "bad":
            raise invalid_argument(("page_token", "Không phải mã trang do hệ thống trả về"))
        following = "" if request.page_token else "2026-06-20_2026-06-20T01:00:00+00:00_d1"
        return decision_pb2.ListDecisionsResponse(decisions=[pending, _decision()], next_page_token=following)

    async def GetDecision(self, request: Any, **options: Any) -> decision_pb2.GetDecisionResponse:
        state = decision_pb2.DECISION_STATE_CANCELLED if self.cancelled else decision_pb2.DECISION_STATE_APPLIED
        return decision_pb2.GetDecisionResponse(decision=_decision(self.version, state))

    async def CancelDecision(self, request: Any, **options: Any) -> decision_pb2.CancelDecisionResponse:
        if request.expected_version != self.version:
            raise rpc_error(grpc.StatusCode.ABORTED, "Quyết định đã thay đổi: hãy đọc lại")
        self.cancelled.append(request)
        self.version += 1
        return decision_pb2.CancelDecisionResponse(decision=_decision(self.version))


@dataclass
class Page:
    client: TestClient
    decisions: Decisions
    verifier: Verifier


@pytest.fixture
def page() -> Iterator[Page]:
    decisions, verifier = Decisions(), Verifier()
    with stand_in_pages(verifier, personnel=DecisionPeople(), decisions=decisions, record=Record()) as client:
        yield Page(client, decisions, verifier)


def _cancel(page: Page, *, version: str = "2", csrf: str = SESSION.csrf_token, **form: str) -> Any:
    return page.client.post("/web/decisions/d1/cancel", data={"csrf_token": csrf, "version": version} | form)


def test_a_units_decisions_are_listed_with_their_kind_and_state_and_the_units_below_on_request(page: Page) -> None:
    response = page.client.get("/web/units/hn/decisions")
    assert response.status_code == 200
    rows = parsed(response.text).one("table").find_all("tr")[1:]
    assert [row.attrs["id"] for row in rows] == ["decision-d2", "decision-d1"]
    assert [cell.all_text() for cell in rows[1].find_all("td")] == [
        "45/QĐ-HQHN",
        "Quyết định nâng bậc lương thường xuyên",
        "20/06/2026",
        "01/07/2026",
        "Cục Hải quan thành phố Hà Nội",
        "2",
        "Đã áp dụng",
    ]
    assert "Chờ ngày hiệu lực" in rows[0].all_text()
    assert page.decisions.listed[-1].include_subtree is False
    page.client.get("/web/units/hn/decisions", params={"subtree": "1"})
    assert (page.decisions.listed[-1].unit_id, page.decisions.listed[-1].include_subtree) == ("hn", True)
    page.client.get("/web/persons/p1/decisions")
    assert page.decisions.listed[-1].person_id == "p1"


def test_the_decisions_page_a_page_at_a_time_by_the_listings_own_token(page: Page) -> None:
    first = parsed(page.client.get("/web/units/hn/decisions", params={"subtree": "1"}).text)
    assert page.decisions.listed[-1].page_size == 50
    following = first.one("a", rel="next").attrs["href"]
    assert parse_qs(urlsplit(following).query) == {
        "subtree": ["1"],
        "after": ["2026-06-20_2026-06-20T01:00:00+00:00_d1"],
    }
    second = parsed(page.client.get(following).text)
    assert page.decisions.listed[-1].page_token == "2026-06-20_2026-06-20T01:00:00+00:00_d1"
    assert second.find_all("a", rel="next") == [], "the last page"
    (back,) = [a for a in second.one("nav", class_="pages").find_all("a") if a.all_text() == "Trang đầu"]
    assert parse_qs(urlsplit(back.attrs["href"]).query) == {"subtree": ["1"]}
    refused = page.client.get("/web/persons/p1/decisions", params={"after": "bad"})
    assert refused.status_code == 422


def test_a_decision_shows_the_people_the_caller_reads_and_what_it_recorded(page: Page) -> None:
    shown = parsed(page.client.get("/web/decisions/d1").text)
    assert shown.one("h1").all_text() == "Quyết định nâng bậc lương thường xuyên số 45/QĐ-HQHN"
    assert shown.one(id="decision-state").all_text().startswith("Đã áp dụng, áp dụng ngày 01/07/2026")
    row = shown.one("tr", id="item-p1")
    assert "Nguyễn Văn An" in row.all_text()
    assert "3.33" in row.all_text()
    assert "Mã ngạch Chuyên viên (01.003)" in row.all_text(), "a catalog's code after its label"
    assert "Đã ghi" in row.all_text()
    assert "1 người ngoài phạm vi tài khoản của bạn được xem." in shown.one(id="people").all_text()
    assert shown.one(id="decision-recorded").all_text() == "Vũ Thị Hà (qthanoi), 21/06/2026 15:00"
    assert (
        shown.one("form", action="http://gateway.test/web/decisions/d1/cancel")
        .one("input", name="version")
        .attrs["value"]
        == "2"
    )


def test_a_cancellation_needs_a_reason_then_is_sent_at_the_version_shown(page: Page) -> None:
    missing = _cancel(page, reason="  ")
    assert missing.status_code == 422
    assert parsed(missing.text).one(id="f-reason-error").all_text() == "Bắt buộc nhập"
    assert _cancel(page, reason="x" * 501).status_code == 422
    assert page.decisions.cancelled == []

    done = _cancel(page, reason="Nhầm người trong danh sách", cancel_number="46/QĐ-HQHN")
    assert done.status_code == 303
    assert done.headers["location"] == "http://gateway.test/web/decisions/d1"
    [sent] = page.decisions.cancelled
    assert (sent.decision_id, sent.expected_version, sent.reason, sent.cancel_number) == (
        "d1",
        2,
        "Nhầm người trong danh sách",
        "46/QĐ-HQHN",
    )
    after = parsed(page.client.get("/web/decisions/d1").text)
    assert after.one(id="decision-state").all_text().startswith("Đã hủy")
    assert after.find_all("form", action="http://gateway.test/web/decisions/d1/cancel") == []


def test_a_version_changed_meanwhile_or_the_form_sent_twice_is_said_on_the_page(page: Page) -> None:
    assert _cancel(page, reason="Nhầm").status_code == 303
    again = _cancel(page, reason="Nhầm")
    assert again.status_code == 409
    assert "Quyết định đã thay đổi: hãy đọc lại" in parsed(again.text).one(id="faults").all_text()
    assert len(page.decisions.cancelled) == 1


@pytest.mark.parametrize("csrf", ["", "csrf-of-another-session"])
def test_a_cancellation_without_the_sessions_token_changes_nothing(page: Page, csrf: str) -> None:
    assert _cancel(page, csrf=csrf, reason="Nhầm").status_code == 403
    assert _cancel(page, version="", reason="Nhầm").status_code == 400
    assert _cancel(page, version="9" * 12, reason="Nhầm").status_code == 400, "no version a backend could hold"
    assert page.decisions.cancelled == []


def test_a_tier_that_may_not_change_the_section_is_not_offered_the_cancellation(page: Page) -> None:
    page.verifier.roles = frozenset({"sector-viewer"})
    shown = parsed(page.client.get("/web/decisions/d1").text)
    assert shown.find_all("form", action="http://gateway.test/web/decisions/d1/cancel") == []
