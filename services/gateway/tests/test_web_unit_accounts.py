"""A unit's account quotas and issuing a purpose account, against a stand-in for identity's REST API:
each kind's quota with what is used and left; the issue form offered to the unit's account admins
with the tiers each may issue, the quota form to the system admin only; what is typed wrong said by
its field with nothing sent; the body sent as identity takes it; identity's refusals said; a new
account opened on its own page; only with the session's CSRF token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import SESSION, QuotaUnits, Verifier, stand_in_pages

QUOTA = {"unit_path": "/TCHQ/HQHN/NB", "kind": "user", "limit": 3, "used": 2, "set_by": "quantri"}
QUOTA_SET_AT = "2026-11-02T03:00:00+00:00"


@dataclass
class Identity:
    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    refusal: httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/v1/quotas":
            assert request.url.params["unit_path"] == "/TCHQ/HQHN/NB"
            return httpx.Response(200, json=[QUOTA | {"set_at": QUOTA_SET_AT}])
        if request.method == "GET":
            return httpx.Response(200, json=[])  # the delegations and names other parts of a page ask
        if self.refusal is not None:
            return self.refusal
        body = json.loads(request.content)
        self.sent.append((request.method, request.url.path, body))
        if request.url.path == "/v1/purpose-accounts":
            return httpx.Response(201, json={"account": body | {"id": "a9", "username": "nb.nhansu3"}})
        return httpx.Response(200, json=body | {"set_by": "quantri"})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url="http://identity.test", transport=httpx.MockTransport(self))


@dataclass
class Page:
    client: TestClient
    identity: Identity
    verifier: Verifier


@pytest.fixture
def page() -> Iterator[Page]:
    identity, verifier = Identity(), Verifier()
    with stand_in_pages(verifier, personnel=QuotaUnits(), identity=identity.client()) as client:
        yield Page(client, identity, verifier)


def _post(page: Page, what: str, csrf: str = SESSION.csrf_token, **form: str) -> Any:
    return page.client.post(f"/web/purpose-accounts/units/nb/{what}", data={"csrf_token": csrf} | form)


def _options(html: Any, name: str) -> list[str]:
    return [o.attrs["value"] for o in html.one("select", name=name).find_all("option") if o.attrs["value"]]


def test_the_quotas_are_read_with_what_is_used_and_the_forms_offered_by_tier(page: Page) -> None:
    html = parsed(page.client.get("/web/purpose-accounts/units/nb").text)
    assert [td.all_text() for td in html.one("tr", id="quota-user").find_all("td")] == [
        "Tài khoản người dùng",
        "3",
        "2",
        "1",
        "quantri",
    ]
    assert _options(html.one("section", id="issue"), "tier") == ["local-officer"], "a local admin issues officers"
    assert html.find_all("section", id="quota") == [], "quotas are the system admin's"

    page.verifier.roles = frozenset({"system-admin"})
    html = parsed(page.client.get("/web/purpose-accounts/units/nb").text)
    assert "local-admin" in _options(html.one("section", id="issue"), "tier")
    assert _options(html.one("section", id="quota"), "kind") == ["user", "admin"]

    page.verifier.roles = frozenset({"unit-leader"})
    html = parsed(page.client.get("/web/purpose-accounts/units/nb").text)
    assert html.find_all("section", id="issue") == [], "a unit's head hands accounts over, it does not issue them"


def test_an_account_is_issued_for_a_purpose_and_opened_on_its_page(page: Page) -> None:
    refused = _post(page, "issue", purpose="", tier="system-admin")
    assert refused.status_code == 422
    html = parsed(refused.text)
    assert html.one(id="f-purpose-error").all_text() == "Bắt buộc nhập"
    assert html.one(id="f-tier-error").all_text() == "Không có trong danh mục", "a tier the form does not offer"
    assert page.identity.sent == []

    done = _post(page, "issue", purpose="Nhân sự 3", tier="local-officer")
    assert done.status_code == 303
    assert done.headers["location"] == "http://gateway.test/web/purpose-accounts/a9?done=issued"
    assert page.identity.sent == [
        (
            "POST",
            "/v1/purpose-accounts",
            {"unit_path": "/TCHQ/HQHN/NB", "purpose": "Nhân sự 3", "tier": "local-officer"},
        )
    ]


def test_the_system_admin_sets_a_quota_and_identitys_refusals_are_said(page: Page) -> None:
    page.verifier.roles = frozenset({"system-admin"})
    assert _post(page, "quota", kind="user", limit="1001").status_code == 422
    done = _post(page, "quota", kind="admin", limit="1")
    assert done.headers["location"] == "http://gateway.test/web/purpose-accounts/units/nb?done=quota"
    assert page.identity.sent == [("PUT", "/v1/quotas", {"unit_path": "/TCHQ/HQHN/NB", "kind": "admin", "limit": 1})]
    assert parsed(page.client.get(done.headers["location"]).text).one(id="done").all_text() == "Đã đặt định mức."

    message = "Đơn vị /TCHQ/HQHN/NB đã dùng hết định mức 3 tài khoản loại user"
    page.identity.refusal = httpx.Response(409, json={"detail": {"code": "FAILED_PRECONDITION", "message": message}})
    full = _post(page, "issue", purpose="Nhân sự 4", tier="local-officer")
    assert full.status_code == 409
    assert message in parsed(full.text).one(id="faults").all_text()
    assert parsed(full.text).one("input", name="purpose").attrs["value"] == "Nhân sự 4"


@pytest.mark.parametrize("csrf", ["", "csrf-of-another-session"])
def test_nothing_is_issued_or_set_without_the_sessions_token(page: Page, csrf: str) -> None:
    page.verifier.roles = frozenset({"system-admin"})
    assert _post(page, "issue", csrf=csrf, purpose="Nhân sự 3", tier="local-officer").status_code == 403
    assert _post(page, "quota", csrf=csrf, kind="user", limit="5").status_code == 403
    assert page.identity.sent == []
