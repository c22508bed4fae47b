"""The account requests page on stand-in backends: the open requests with their units' names, tiers
and due dates, a step offered only where identity says it is the caller's, a rejection needing its
reason, identity's refusal said on the page, a stale form refused, identity down said plainly, and a
tier that takes no part in requests refused the page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from html_tree import parsed
from web_stand_ins import SESSION, Page, logged_in, pages_on_stand_ins

PAST = (datetime.now(UTC) - timedelta(days=1)).isoformat()
FUTURE = (datetime.now(UTC) + timedelta(days=2)).isoformat()


@pytest.fixture
def screen() -> Iterator[Page]:
    with pages_on_stand_ins() as made:
        yield made


def _request(request_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": request_id,
        "holder_name": "Đặng Thị Thu",
        "unit_path": "/TCHQ/HQHN/NB",
        "account_types": ["local-officer"],
        "status": "submitted",
        "submitted_at": PAST,
        "due_at": FUTURE,
        "username": None,
        "next_step": "consent",
        "yours": False,
        "rejectable": False,
        **fields,
    }


def _csrf(screen: Page) -> str:
    html = parsed(screen.client.get("/web/account-requests").text)
    token: str = html.find_all("input", name="csrf_token")[0].attrs["value"]
    return token


def _posts(screen: Page) -> list[httpx.Request]:
    return [r for r in screen.identity.asked if r.method == "POST"]


def test_open_requests_are_listed_with_the_step_that_is_the_callers(screen: Page) -> None:
    screen.identity.items = [
        _request("r1", due_at=PAST, status="consented", next_step="approve", yours=True, rejectable=True),
        _request("r2", holder_name="Lò Văn Pá", account_types=["local-officer", "self"]),
    ]
    logged_in(screen)
    response = screen.client.get("/web/account-requests")
    assert response.status_code == 200
    html = parsed(response.text)
    summary = html.one(id="summary")
    assert summary.text.startswith("2 đề nghị đang xử lý trong phạm vi của bạn")
    assert summary.one("strong").all_text() == "1 chờ bạn xử lý"
    first = html.one("tr", id="request-r1")
    assert [td.all_text() for td in first.find_all("td")][:4] == [
        "Đặng Thị Thu",
        "Chi cục Nội Bài",
        "Cán bộ nhân sự đơn vị",
        "Chờ phê duyệt",
    ]
    assert "Quá hạn" in first.all_text()
    assert [b.all_text() for b in first.find_all("button")] == ["Phê duyệt", "Từ chối đề nghị"]
    second = html.one("tr", id="request-r2")
    assert second.find_all("button") == [], "neither the consent nor a rejection is this admin's"
    assert "Chờ người khác" in second.all_text()
    assert "Quá hạn" not in second.all_text()
    asked = screen.identity.asked[-1]
    assert (asked.url.path, asked.headers["authorization"]) == (
        "/v1/account-requests",
        f"Bearer {SESSION.access_token}",
    )


def test_a_step_goes_to_identity_with_the_callers_token_and_returns_to_the_list(screen: Page) -> None:
    screen.identity.items = [_request("r1", status="consented", next_step="approve", yours=True)]
    logged_in(screen)
    done = screen.client.post("/web/account-requests/r1/approve", data={"csrf_token": _csrf(screen)})
    assert done.status_code == 303
    assert done.headers["location"].endswith("/web/account-requests?done=approve#request-r1")
    (sent,) = _posts(screen)
    assert (sent.url.path, sent.headers["authorization"]) == (
        "/v1/account-requests/r1/approve",
        f"Bearer {SESSION.access_token}",
    )
    shown = parsed(screen.client.get("/web/account-requests", params={"done": "approve"}).text)
    assert shown.one(id="done").all_text() == "Đã phê duyệt đề nghị."


def test_a_rejection_needs_its_reason_and_sends_it(screen: Page) -> None:
    screen.identity.items = [_request("r1", rejectable=True)]
    logged_in(screen)
    token = _csrf(screen)
    blank = screen.client.post("/web/account-requests/r1/reject", data={"csrf_token": token, "reason": "  "})
    assert blank.status_code == 422
    html = parsed(blank.text)
    assert html.one(id="reason-r1-error").all_text() == "Bắt buộc nhập"
    assert html.one("details").attrs.get("open") is not None
    assert _posts(screen) == [], "nothing asked of identity"
    sent = screen.client.post("/web/account-requests/r1/reject", data={"csrf_token": token, "reason": "Sai đơn vị"})
    assert sent.status_code == 303
    (asked,) = _posts(screen)
    assert json.loads(asked.content) == {"reason": "Sai đơn vị"}


def test_identitys_refusal_is_said_on_the_page(screen: Page) -> None:
    screen.identity.items = [_request("r1", yours=True)]
    screen.identity.refusal = httpx.Response(
        403, json={"detail": {"code": "PERMISSION_DENIED", "message": "Người đã lập đề nghị này không được đồng ý"}}
    )
    logged_in(screen)
    refused = screen.client.post("/web/account-requests/r1/consent", data={"csrf_token": _csrf(screen)})
    assert refused.status_code == 403
    assert "Người đã lập đề nghị này không được đồng ý" in parsed(refused.text).one(id="faults").all_text()


def test_a_form_without_the_sessions_token_or_of_an_unknown_step_is_refused(screen: Page) -> None:
    screen.identity.items = [_request("r1", yours=True)]
    logged_in(screen)
    assert screen.client.post("/web/account-requests/r1/consent", data={"csrf_token": "x"}).status_code == 403
    assert screen.client.post("/web/account-requests/r1/delete", data={"csrf_token": _csrf(screen)}).status_code == 404
    assert _posts(screen) == []


def test_identity_down_is_said_plainly_and_the_home_page_shows_the_rest_of_what_waits(screen: Page) -> None:
    logged_in(screen)
    screen.identity.down = True
    down = screen.client.get("/web/account-requests")
    assert down.status_code == 503
    assert "Hệ thống tạm thời không phục vụ được" in down.text
    home = screen.client.get("/web/")
    assert home.status_code == 200
    assert 'id="account-requests"' not in home.text
    assert parsed(home.text).one("a", id="reports-to-send").all_text() == "3 báo cáo phải gửi"
    screen.identity.down = False
    screen.identity.refusal = httpx.Response(500, json={"detail": "boom"})
    failed = screen.client.post("/web/account-requests/r1/consent", data={"csrf_token": _csrf(screen)})
    assert failed.status_code == 503


def test_a_tier_without_a_part_in_requests_is_neither_offered_nor_shown_the_page(screen: Page) -> None:
    screen.verifier.roles = frozenset({"self"})
    logged_in(screen)
    home = screen.client.get("/web/")
    assert "Đề nghị cấp tài khoản" not in [a.all_text() for a in parsed(home.text).one("nav").find_all("a")]
    assert 'id="account-requests"' not in home.text
    assert screen.client.get("/web/account-requests").status_code == 403
    # Only the notices every page shows, asked whoever is signed in.
    asked = [r.url.path for r in screen.identity.asked if r.url.path != "/v1/notices"]
    assert asked == [], "identity is not asked for a tier it refuses"
