"""The purpose accounts pages against a stand-in for identity's REST API: the accounts in the caller's
reach with who holds each today, narrowed to a unit's subtree; one account's holders newest first;
the handover and release forms offered only where identity says the caller may, their body sent as
identity takes it, what is typed wrong said by its field with nothing sent, identity's refusals
beside the field they name, a post without the form's token refused, a tier identity refuses
refused the page."""

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

from qlcb_common.auth import Principal
from qlcb_gateway.web.pages import who

HELD: dict[str, Any] = {
    "id": "a1",
    "unit_path": "/TCHQ/HQHN/NB",
    "purpose": "Nhân sự 1",
    "tier": "local-officer",
    "username": "hqhn-nb.nhansu1",
    "issued_at": "2026-01-02T03:00:00+00:00",
    "unlinked": False,
    "holder": {"holder_name": "Lê Thị Một", "valid_from": "2026-11-27", "valid_to": None, "recorded_by": "qthanoi"},
    "manageable": True,
}
UNHELD = HELD | {"id": "a2", "purpose": "Nhân sự 2", "username": "hqhn-nb.nhansu2", "holder": None}
HISTORY = [
    {"holder_name": "Trần Văn Hai", "valid_from": "2026-01-05", "valid_to": "2026-11-27", "recorded_by": "qthanoi"},
    HELD["holder"],
]
HANDOVER = {"holder_name": "Phạm Thị Ba", "holder_email": "pham.thi.ba@haiquan.example", "since": "04/12/2026"}


@dataclass
class Identity:
    """Identity's purpose accounts as it answers the caller's token."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=lambda: {"a1": dict(HELD), "a2": dict(UNHELD)})
    asked: list[httpx.Request] = field(default_factory=list)
    refusal: httpx.Response | None = None
    listing_refused: bool = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request)
        parts = request.url.path.split("/")
        if request.url.path == "/v1/notices":
            return httpx.Response(200, json=[])
        if request.method == "GET" and request.url.path == "/v1/purpose-accounts":
            if self.listing_refused:
                return httpx.Response(403, json={"detail": {"code": "PERMISSION_DENIED", "message": "Không có quyền"}})
            items = list(self.accounts.values())
            return httpx.Response(200, json={"items": items, "total": len(items)})
        if request.method == "GET" and len(parts) == 4:
            found = self.accounts.get(parts[3])
            return httpx.Response(200, json=found) if found else httpx.Response(404, json={"detail": {}})
        if request.method == "GET" and parts[-1] == "holders":
            return httpx.Response(200, json=HISTORY)
        if self.refusal is not None:
            return self.refusal
        if parts[-1] == "holders":
            sent = json.loads(request.content)
            return httpx.Response(201, json=sent | {"valid_to": None, "delivered_to": "p***@haiquan.example"})
        return httpx.Response(200, json={**HELD["holder"], "valid_to": json.loads(request.content)["until"]})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url="http://identity.test", transport=httpx.MockTransport(self))

    def posted(self) -> list[httpx.Request]:
        return [r for r in self.asked if r.method == "POST"]


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


def test_the_accounts_in_reach_are_listed_with_who_holds_each_today(page: Page) -> None:
    response = page.client.get("/web/purpose-accounts")
    assert response.status_code == 200, response.text
    html = parsed(response.text)
    rows = html.one("table", id="purpose-accounts").one("tbody").find_all("tr")
    assert [[td.all_text() for td in row.find_all("td")] for row in rows] == [
        ["Chi cục Nội Bài", "Nhân sự 1", "hqhn-nb.nhansu1", "Cán bộ nhân sự đơn vị", "Lê Thị Một, từ 27/11/2026"],
        ["Chi cục Nội Bài", "Nhân sự 2", "hqhn-nb.nhansu2", "Cán bộ nhân sự đơn vị", "Chưa có người giữ"],
    ]
    assert urlsplit(rows[0].one("a").attrs["href"]).path == "/web/purpose-accounts/a1"
    assert "Tài khoản dùng chung" in [a.all_text() for a in html.one("nav").find_all("a")]
    assert page.identity.asked[-1].url.params["limit"] == "500"

    narrowed = parsed(page.client.get("/web/purpose-accounts", params={"unit_id": "nb"}).text)
    assert dict(page.identity.asked[-1].url.params) == {"limit": "500", "unit_path": "/TCHQ/HQHN/NB"}
    assert narrowed.one("a", id="unit-accounts").attrs["href"] == "http://gateway.test/web/purpose-accounts/units/nb"
    assert html.find_all("a", id="unit-accounts") == [], "the quotas are a unit's: offered once one is chosen"


def test_an_account_shows_its_holders_newest_first_and_the_forms_identity_lets_the_caller_use(page: Page) -> None:
    html = parsed(page.client.get("/web/purpose-accounts/a1").text)
    assert html.one(id="holder").all_text() == "Lê Thị Một, từ 27/11/2026"
    history = html.one("section", id="history").one("tbody").find_all("tr")
    assert [[td.all_text() for td in row.find_all("td")] for row in history] == [
        ["Lê Thị Một", "27/11/2026", "nay", "qthanoi"],
        ["Trần Văn Hai", "05/01/2026", "27/11/2026", "qthanoi"],
    ]
    assert len(html.find_all("section", id="hand-over")) == 1
    assert len(html.find_all("section", id="release")) == 1

    unheld = parsed(page.client.get("/web/purpose-accounts/a2").text)
    assert len(unheld.find_all("section", id="hand-over")) == 1
    assert unheld.find_all("section", id="release") == [], "nobody holds it to release"
    page.identity.accounts["a1"]["manageable"] = False
    watched = parsed(page.client.get("/web/purpose-accounts/a1").text)
    assert watched.find_all("section", id="hand-over") == []
    assert watched.find_all("section", id="release") == []
    assert page.client.get("/web/purpose-accounts/zz").status_code == 404


def test_a_handover_sends_identitys_body_and_says_where_the_first_password_went(page: Page) -> None:
    sent = page.client.post("/web/purpose-accounts/a2/holders", data={"csrf_token": SESSION.csrf_token, **HANDOVER})
    assert sent.status_code == 303, sent.text
    (posted,) = page.identity.posted()
    assert posted.url.path == "/v1/purpose-accounts/a2/holders"
    assert json.loads(posted.content) == {
        "holder_name": "Phạm Thị Ba",
        "holder_email": "pham.thi.ba@haiquan.example",
        "since": "2026-12-04",
    }
    target = urlsplit(sent.headers["location"])
    assert (target.path, parse_qs(target.query)) == (
        "/web/purpose-accounts/a2",
        {"done": ["handed"], "sent_to": ["p***@haiquan.example"]},
    )
    shown = parsed(page.client.get(sent.headers["location"]).text)
    assert shown.one(id="done").all_text() == (
        "Đã giao tài khoản cho người giữ mới. Mã nhận mật khẩu lần đầu đã gửi tới p***@haiquan.example."
    )

    released = page.client.post(
        "/web/purpose-accounts/a1/release", data={"csrf_token": SESSION.csrf_token, "until": "2026-12-04"}
    )
    assert released.status_code == 303
    assert json.loads(page.identity.posted()[-1].content) == {"until": "2026-12-04"}


@pytest.mark.parametrize(
    ("changed", "where", "reason"),
    [
        ({"since": "31/02/2026"}, "f-since-error", "Không phải một ngày (ngày/tháng/năm)"),
        ({"holder_email": ""}, "f-holder_email-error", "Bắt buộc nhập"),
        ({"holder_name": "x" * 151}, "f-holder_name-error", "Dài quá 150 ký tự"),
    ],
)
def test_what_is_typed_wrong_is_said_by_its_field_and_identity_is_not_asked(
    page: Page, changed: dict[str, str], where: str, reason: str
) -> None:
    form = {"csrf_token": SESSION.csrf_token, **HANDOVER, **changed}
    refused = page.client.post("/web/purpose-accounts/a2/holders", data=form)
    assert refused.status_code == 422
    assert parsed(refused.text).one(id=where).all_text() == reason
    assert page.identity.posted() == []


def test_identitys_refusals_are_said_beside_their_field_or_above_the_forms(page: Page) -> None:
    page.identity.refusal = httpx.Response(
        422, json={"detail": [{"loc": ["body", "since"], "msg": "Không được sau hôm nay", "type": "value_error"}]}
    )
    form = {"csrf_token": SESSION.csrf_token, **HANDOVER}
    refused = page.client.post("/web/purpose-accounts/a2/holders", data=form)
    assert refused.status_code == 422
    html = parsed(refused.text)
    assert html.one(id="f-since-error").all_text() == "Không được sau hôm nay"
    assert html.one("input", name="holder_name").attrs["value"] == "Phạm Thị Ba", "what was typed is kept"
    page.identity.refusal = httpx.Response(
        412, json={"detail": {"code": "FAILED_PRECONDITION", "message": "Không có hồ sơ đang công tác ở đơn vị"}}
    )
    failed = page.client.post("/web/purpose-accounts/a2/holders", data=form)
    assert failed.status_code == 412
    assert parsed(failed.text).one(id="faults").find_all("li")[0].all_text() == "Không có hồ sơ đang công tác ở đơn vị"


def test_a_post_without_the_forms_token_is_refused_and_nothing_is_sent(page: Page) -> None:
    forged = page.client.post("/web/purpose-accounts/a1/release", data={"until": "2026-12-04"})
    assert forged.status_code == 403
    assert page.identity.posted() == []


def test_a_tier_identity_refuses_the_list_is_refused_the_page_and_not_offered_it(page: Page) -> None:
    page.identity.listing_refused = True
    assert page.client.get("/web/purpose-accounts").status_code == 403
    own = Principal(subject="s", username="canbo", roles=frozenset({"self"}), unit_path="/TCHQ/HQHN/NB", token="t")
    assert who(own).reads_purpose_accounts is False
