"""A unit's accounts on the accounts page, against a stand-in for identity's REST API: the units an
account admin administers offered, its own unit listed first; each account with its holder, tiers,
kind and state, linked to its page only where the admin may change it; the search and page asked of
identity and kept in the page links; criteria typed wrong said by their box with nothing asked;
identity's refusals and failures said; a tier that administers no account offered only the box."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from html_tree import parsed
from web_stand_ins import Personnel, Verifier, stand_in_pages

ACCOUNTS: list[dict[str, Any]] = [
    {
        "username": "an.nguyen",
        "full_name": "Nguyễn An",
        "unit_path": "/TCHQ/HQHN",
        "enabled": False,
        "tiers": ["self"],
        "purpose": False,
        "administered": True,
    },
    {
        "username": "thutruong.hanoi",
        "full_name": "Trần Thị Dung",
        "unit_path": "/TCHQ/HQHN",
        "enabled": True,
        "tiers": ["unit-leader"],
        "purpose": False,
        "administered": False,
    },
    {
        "username": "hqhn.nhansu1",
        "full_name": "Nhân sự 1",
        "unit_path": "/TCHQ/HQHN/NB",
        "enabled": True,
        "tiers": ["local-officer"],
        "purpose": True,
        "administered": True,
    },
]


@dataclass
class Identity:
    asked: list[httpx.QueryParams] = field(default_factory=list)
    answer: httpx.Response | None = None
    total: int = 3

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/accounts":
            return httpx.Response(200, json=[])  # what other parts of a page ask
        self.asked.append(request.url.params)
        if self.answer is not None:
            return self.answer
        body = {"unit_path": request.url.params["unit_path"], "items": ACCOUNTS, "total": self.total}
        return httpx.Response(200, json=body | {"truncated": False})

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
    with stand_in_pages(verifier, personnel=Personnel(), identity=identity.client()) as client:
        yield Page(client, identity, verifier)


def test_the_admins_own_unit_is_listed_first_with_each_accounts_holder_tiers_kind_and_state(page: Page) -> None:
    response = page.client.get("/web/accounts")
    assert response.status_code == 200
    html = parsed(response.text)
    assert html.one("h1").all_text() == "Tài khoản — Cục Hải quan Hà Nội"
    offered = html.one("select", id="f-unit").find_all("option")
    assert [(o.attrs["value"], o.all_text()) for o in offered] == [
        ("nb", "Chi cục Nội Bài"),
        ("u1", "Cục Hải quan Hà Nội"),
        ("old", "Đội đã giải thể (đã giải thể)"),
    ]
    assert [o.attrs["value"] for o in offered if "selected" in o.attrs] == ["u1"]
    assert page.identity.asked == [
        httpx.QueryParams({"unit_path": "/TCHQ/HQHN", "q": "", "offset": "0", "limit": "50"})
    ]
    rows = html.one("table", id="unit-accounts").one("tbody").find_all("tr")
    assert [[cell.all_text() for cell in row.find_all("td")] for row in rows] == [
        ["Nguyễn An", "an.nguyen", "Cán bộ, công chức (hồ sơ của mình)", "Cá nhân", "Đã khóa"],
        ["Trần Thị Dung", "thutruong.hanoi", "Thủ trưởng đơn vị", "Cá nhân", "Đang mở"],
        ["Nhân sự 1", "hqhn.nhansu1", "Cán bộ nhân sự đơn vị", "Dùng chung", "Đang mở"],
    ]
    links = [urlsplit(a.attrs["href"]).path for a in html.one("table", id="unit-accounts").find_all("a")]
    assert links == ["/web/accounts/an.nguyen", "/web/accounts/hqhn.nhansu1"], "the leader's account is not its"
    nav = html.one("nav", **{"aria-label": "Chính"})
    assert [a.all_text() for a in nav.find_all("a", **{"aria-current": "page"})] == ["Tài khoản"]


def test_the_search_and_page_are_asked_of_identity_and_kept_in_the_page_links(page: Page) -> None:
    page.identity.total = 120
    html = parsed(page.client.get("/web/accounts", params={"unit": "nb", "q": " Dung ", "page": "2"}).text)
    assert page.identity.asked == [
        httpx.QueryParams({"unit_path": "/TCHQ/HQHN/NB", "q": "Dung", "offset": "50", "limit": "50"})
    ]
    assert html.one("p", id="total").all_text().startswith("120 tài khoản của Chi cục Nội Bài")
    pages = html.one("nav", **{"aria-label": "Trang"})
    assert [(a.attrs["rel"], a.attrs["href"]) for a in pages.find_all("a")] == [
        ("prev", "/web/accounts?unit=nb&q=Dung&page=1"),
        ("next", "/web/accounts?unit=nb&q=Dung&page=3"),
    ]
    assert html.one("input", id="f-q").attrs["value"] == "Dung"


def test_the_units_below_are_asked_with_it_and_each_account_named_with_its_unit(page: Page) -> None:
    html = parsed(page.client.get("/web/accounts", params={"subtree": "1"}).text)
    assert page.identity.asked[0]["subtree"] == "true"
    rows = html.one("table", id="unit-accounts").one("tbody").find_all("tr")
    assert [row.find_all("td")[1].all_text() for row in rows] == [
        "Cục Hải quan Hà Nội",
        "Cục Hải quan Hà Nội",
        "Chi cục Nội Bài",
    ]
    assert "checked" in html.one("input", name="subtree").attrs
    assert (
        html.one("p", id="total").all_text().startswith("3 tài khoản của Cục Hải quan Hà Nội và các đơn vị trực thuộc")
    )


def test_criteria_typed_wrong_are_said_by_their_box_and_nothing_is_asked(page: Page) -> None:
    other = page.client.get("/web/accounts", params={"unit": "hcm"})
    long = page.client.get("/web/accounts", params={"q": "Đức " * 30})
    assert (other.status_code, long.status_code) == (422, 422)
    assert parsed(other.text).one("p", id="f-unit-error").all_text() == "Không phải đơn vị bạn quản trị tài khoản"
    assert parsed(long.text).one("p", id="f-q-error").all_text() == "Dài quá 100 ký tự"
    assert page.identity.asked == []


def test_identitys_refusal_and_failure_are_said_and_a_unit_without_accounts_is_empty(page: Page) -> None:
    page.identity.answer = httpx.Response(403, json={"detail": {"code": "PERMISSION_DENIED", "message": "Không"}})
    assert page.client.get("/web/accounts").status_code == 403
    page.identity.answer = httpx.Response(404, json={"detail": {"code": "NOT_FOUND", "message": "Không có"}})
    empty = page.client.get("/web/accounts")
    assert empty.status_code == 200
    assert parsed(empty.text).one("p", id="total").all_text().startswith("0 tài khoản")
    page.identity.answer = httpx.Response(500, json={"detail": "boom"})
    down = page.client.get("/web/accounts")
    assert down.status_code == 503
    assert "boom" not in down.text


def test_a_tier_that_administers_no_account_is_offered_only_the_box(page: Page) -> None:
    page.verifier.roles = frozenset({"local-officer"})
    html = parsed(page.client.get("/web/accounts").text)
    assert html.find_all("select", id="f-unit") == []
    assert html.find_all("table", id="unit-accounts") == []
    assert html.one("section", id="open-account").find_all("input", id="f-username") != []
    assert page.identity.asked == []
    nav = html.one("nav", **{"aria-label": "Chính"})
    assert "Tài khoản" not in [a.all_text() for a in nav.find_all("a")]
