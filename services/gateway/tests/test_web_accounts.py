"""The account page against a stand-in for identity's REST API: a local officer's account as its
admin sees it (holder, unit, tiers, granted sections, incidents), the sections form sending the
boxes ticked, an incident reported by field with nothing sent when typed wrong, the reset offered
only for an open incident and saying where the new password went; the holder's own account without
the admin's forms; identity's refusals said on the page; a forged post refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import SESSION, Personnel, Verifier, stand_in_pages

OFFICER: dict[str, Any] = {
    "username": "nhansu1.hanoi",
    "full_name": "Vũ Thị Hà",
    "unit_path": "/TCHQ/HQHN/NB",
    "tiers": ["local-officer"],
    "enabled": True,
    "sections": ["identity", "work_history"],
    "incidents": [
        {
            "id": "i2",
            "username": "nhansu1.hanoi",
            "kind": "stolen",
            "reported_by": "nhansu1.hanoi",
            "reported_at": "2026-12-03T02:00:00+00:00",
            "reset_at": None,
        },
        {
            "id": "i1",
            "username": "nhansu1.hanoi",
            "kind": "lost",
            "reported_by": "qthanoi",
            "reported_at": "2026-03-01T02:00:00+00:00",
            "reset_at": "2026-03-01T03:30:00+00:00",
        },
    ],
    "own": False,
}


@dataclass
class Identity:
    account: dict[str, Any] = field(default_factory=lambda: dict(OFFICER))
    asked: list[httpx.Request] = field(default_factory=list)
    refusal: httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request)
        if request.method == "GET":
            if request.url.path != f"/v1/accounts/{self.account['username']}":
                return httpx.Response(404, json={"detail": {"code": "NOT_FOUND", "message": "Không có"}})
            return httpx.Response(200, json=self.account)
        if self.refusal is not None:
            return self.refusal
        if request.url.path.endswith("/reset"):
            return httpx.Response(201, json={"incident": {}, "delivered_to": "v***@haiquan.example"})
        return httpx.Response(201 if request.method == "POST" else 200, json={})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url="http://identity.test", transport=httpx.MockTransport(self))

    def sent(self) -> list[httpx.Request]:
        return [r for r in self.asked if r.method != "GET"]


@dataclass
class Page:
    client: TestClient
    identity: Identity


@pytest.fixture
def page() -> Iterator[Page]:
    identity = Identity()
    with stand_in_pages(Verifier(), personnel=Personnel(), identity=identity.client()) as client:
        yield Page(client, identity)


def _post(page: Page, what: str, form: dict[str, str] | None = None) -> httpx.Response:
    data = {"csrf_token": SESSION.csrf_token, **(form or {})}
    response: httpx.Response = page.client.post(f"/web/accounts/nhansu1.hanoi/{what}", data=data)
    return response


def test_an_officers_account_shows_its_holder_unit_sections_and_incidents_to_its_admin(page: Page) -> None:
    response = page.client.get("/web/accounts/nhansu1.hanoi")
    assert response.status_code == 200, response.text
    html = parsed(response.text)
    facts = {dt.all_text(): dd.all_text() for dt, dd in zip(html.find_all("dt"), html.find_all("dd"), strict=True)}
    assert facts == {
        "Người giữ": "Vũ Thị Hà",
        "Đơn vị": "Chi cục Nội Bài",
        "Cấp": "Cán bộ nhân sự đơn vị",
        "Trạng thái": "Đang dùng",
        "Phần hồ sơ được giao": "Sơ yếu lý lịch, Quá trình công tác",
    }
    boxes = html.one("section", id="grant-sections").find_all("input", type="checkbox")
    ticked = [box.attrs["name"] for box in boxes if "checked" in box.attrs]
    assert ticked == ["section.identity", "section.work_history"]
    rows = html.one("section", id="incidents").one("tbody").find_all("tr")
    assert [[td.all_text() for td in row.find_all("td")] for row in rows] == [
        ["Nghi bị lộ, bị đánh cắp", "nhansu1.hanoi", "03/12/2026 09:00", "Chưa cấp lại"],
        ["Mất mật khẩu", "qthanoi", "01/03/2026 09:00", "01/03/2026 10:30"],
    ]
    assert [b.all_text() for b in html.one("section", id="incidents").find_all("button")] == [
        "Cấp lại mật khẩu",
        "Báo sự cố",
    ]


def test_the_sections_form_sends_the_boxes_ticked(page: Page) -> None:
    saved = _post(page, "sections", {"section.training": "1", "section.identity": "1"})
    assert saved.status_code == 303
    (sent,) = page.identity.sent()
    assert (sent.method, sent.url.path) == ("PUT", "/v1/accounts/nhansu1.hanoi/sections")
    assert json.loads(sent.content) == {"sections": ["identity", "training"]}
    assert parse_qs(urlsplit(saved.headers["location"]).query) == {"done": ["sections"]}


def test_a_reset_says_where_the_new_password_went_and_is_not_offered_without_an_open_incident(page: Page) -> None:
    reset = _post(page, "reset")
    assert reset.status_code == 303
    shown = parsed(page.client.get(reset.headers["location"]).text)
    assert shown.one(id="done").all_text() == (
        "Đã cấp lại mật khẩu lần đầu. Mã nhận mật khẩu mới đã gửi tới người giữ tài khoản (v***@haiquan.example)."
    )
    page.identity.account["incidents"] = OFFICER["incidents"][1:]
    closed = parsed(page.client.get("/web/accounts/nhansu1.hanoi").text)
    assert "Cấp lại mật khẩu" not in [b.all_text() for b in closed.find_all("button")]


def test_an_incident_typed_wrong_is_said_by_its_field_and_identity_is_not_asked(page: Page) -> None:
    refused = _post(page, "incidents", {"kind": "forgot", "note": "x"})
    assert refused.status_code == 422
    assert parsed(refused.text).one(id="f-kind-error").all_text() == "Không có trong danh mục"
    assert page.identity.sent() == []
    reported = _post(page, "incidents", {"kind": "lost", "note": "Quên ở nhà"})
    assert reported.status_code == 303
    assert json.loads(page.identity.sent()[0].content) == {"kind": "lost", "note": "Quên ở nhà"}


def test_identitys_refusal_is_said_on_the_page(page: Page) -> None:
    page.identity.refusal = httpx.Response(
        403, json={"detail": {"code": "PERMISSION_DENIED", "message": "Không giao được phần mà bạn không được sửa"}}
    )
    refused = _post(page, "sections", {"section.salary": "1"})
    assert refused.status_code == 403
    html = parsed(refused.text)
    assert html.one(id="faults").find_all("li")[0].all_text() == "Không giao được phần mà bạn không được sửa"
    boxes = html.one("section", id="grant-sections").find_all("input", type="checkbox")
    ticked = [box.attrs["name"] for box in boxes if "checked" in box.attrs]
    assert ticked == ["section.salary"], "what was ticked is kept"


def test_the_holders_own_account_offers_its_own_report_only(page: Page) -> None:
    page.identity.account = OFFICER | {"own": True}
    html = parsed(page.client.get("/web/accounts/nhansu1.hanoi").text)
    assert html.one("h1").all_text() == "Tài khoản nhansu1.hanoi (của bạn)"
    assert html.find_all("section", id="grant-sections") == []
    assert [b.all_text() for b in html.one("section", id="incidents").find_all("button")] == ["Báo sự cố"]


def test_an_account_identity_does_not_show_is_not_found_and_a_forged_post_is_refused(page: Page) -> None:
    assert page.client.get("/web/accounts/ai.do").status_code == 404
    opened = page.client.get("/web/accounts", params={"username": " nhansu1.hanoi "})
    assert opened.status_code == 303
    assert urlsplit(opened.headers["location"]).path == "/web/accounts/nhansu1.hanoi"
    forged = page.client.post("/web/accounts/nhansu1.hanoi/reset", data={})
    assert forged.status_code == 403
    assert page.identity.sent() == []
