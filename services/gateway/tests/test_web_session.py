"""The web pages' session cookie and what a page does with it, against stand-ins for Keycloak (its
token endpoint, through httpx's mock transport) and for the backends; the real ones are driven in
tests/integration/test_web.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
from cryptography.fernet import Fernet
from html_tree import parsed
from web_stand_ins import IDLE, ISSUER, SESSION, Clock, Page, logged_in, pages_on_stand_ins, set_cookies

from qlcb_common.auth import Principal
from qlcb_gateway.web.pages import who
from qlcb_gateway.web.session import (
    PATH,
    SESSION_COOKIE,
    SessionCookies,
    SessionExpired,
    SessionRefused,
)


@pytest.fixture
def page() -> Iterator[Page]:
    with pages_on_stand_ins() as made:
        yield made


def test_a_session_spans_several_cookies_and_reads_back_whole() -> None:
    cookies = SessionCookies(Fernet.generate_key().decode(), IDLE)
    values, headers = set_cookies(cookies, SESSION, secure=True)
    assert len(values) > 1, "a session of three tokens is larger than one cookie may be"
    assert all(len(header) < 4000 for header in headers)
    assert all("HttpOnly" in h and "SameSite=lax" in h and "Secure" in h and "Path=/web" in h for h in headers)
    assert cookies.read(values) == SESSION
    assert not any(SESSION.access_token[:20] in value for value in values.values()), "the tokens are sealed"


def test_a_changed_cookie_or_one_sealed_with_another_key_is_refused() -> None:
    cookies = SessionCookies(Fernet.generate_key().decode(), IDLE)
    sealed = cookies.seal(SESSION)
    tampered = sealed[:40] + ("A" if sealed[40] != "A" else "B") + sealed[41:]
    with pytest.raises(SessionRefused):
        cookies.open(tampered)
    with pytest.raises(SessionRefused):
        SessionCookies(Fernet.generate_key().decode(), IDLE).open(sealed)
    forged = Fernet(Fernet.generate_key()).encrypt(json.dumps({"access_token": "x"}).encode()).decode()
    with pytest.raises(SessionRefused):
        cookies.open(forged)


def test_a_session_left_idle_too_long_has_expired() -> None:
    clock = Clock()
    cookies = SessionCookies(Fernet.generate_key().decode(), IDLE, clock=clock)
    sealed = cookies.seal(SESSION)
    clock.now += IDLE
    assert cookies.open(sealed) == SESSION
    clock.now += 1
    with pytest.raises(SessionExpired):
        cookies.open(sealed)


def test_a_page_without_a_usable_session_goes_to_the_login_and_names_the_page(page: Page) -> None:
    response = page.client.get("/web/units")
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path == "/web/login"
    assert parse_qs(target.query)["next"] == ["/web/units"]

    logged_in(page)
    page.clock.now += IDLE + 1
    expired = page.client.get("/web/?x=1")
    assert expired.status_code == 303
    assert parse_qs(urlsplit(expired.headers["location"]).query)["next"] == ["/web/?x=1"]

    page.client.cookies.set(f"{SESSION_COOKIE}0", "not-a-sealed-session", path=PATH)
    assert page.client.get("/web/").status_code == 303


def test_the_login_goes_to_keycloak_with_pkce_and_binds_its_state_to_the_browser(page: Page) -> None:
    response = page.client.get("/web/login", params={"next": "https://evil.example/"})
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{ISSUER}/protocol/openid-connect/auth"
    assert query["client_id"] == ["qlcb-gateway"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://gateway.test/web/callback"]
    login_cookie = response.headers["set-cookie"]
    assert "HttpOnly" in login_cookie
    assert "SameSite=lax" in login_cookie
    assert "Path=/web" in login_cookie

    wrong_state = page.client.get("/web/callback", params={"code": "c", "state": "another"})
    assert wrong_state.status_code == 400
    assert "Phiên đăng nhập không hợp lệ" in wrong_state.text
    assert page.keycloak.exchanged == [], "no code is exchanged for a login this browser did not begin"

    logged = page.client.get("/web/callback", params={"code": "c", "state": query["state"][0]})
    assert logged.status_code == 303
    assert logged.headers["location"] == "/web/", "another site asked as `next` is never where the login ends"
    [exchange] = page.keycloak.exchanged
    assert (exchange["code"], exchange["redirect_uri"]) == (["c"], ["http://gateway.test/web/callback"])
    assert len(exchange["code_verifier"][0]) >= 43, "the PKCE verifier the challenge was made of"
    assert page.cookies.read(dict(page.client.cookies.items())) is not None, "the session is set"

    page.client.cookies.clear()
    no_login_begun = page.client.get("/web/callback", params={"code": "c", "state": query["state"][0]})
    assert no_login_begun.status_code == 400


@pytest.mark.parametrize(
    ("asked", "lands_on"),
    [
        ("/web/persons/p1?as_of=2026-01-01", "/web/persons/p1?as_of=2026-01-01"),
        ("https://evil.example/web/", "/web/"),
        ("//evil.example/web/", "/web/"),
        ("/web\\@evil.example", "/web/"),
        ("/web/\\evil.example", "/web/"),
        ("/metrics", "/web/"),
        (None, "/web/"),
    ],
)
def test_a_login_ends_on_a_page_of_this_site_and_nowhere_else(page: Page, asked: str | None, lands_on: str) -> None:
    begun = page.client.get("/web/login", params={"next": asked} if asked is not None else {})
    state = parse_qs(urlsplit(begun.headers["location"]).query)["state"][0]
    logged = page.client.get("/web/callback", params={"code": "c", "state": state})
    assert (logged.status_code, logged.headers["location"]) == (303, lands_on)


def test_an_expired_access_token_is_refreshed_and_the_session_sealed_again(page: Page) -> None:
    page.verifier.valid = {"access-2"}
    logged_in(page)
    response = page.client.get("/web/")
    assert response.status_code == 200
    assert page.keycloak.refreshed == [SESSION.refresh_token]
    renewed = page.cookies.read(dict(page.client.cookies.items()))
    assert renewed is not None
    assert (renewed.access_token, renewed.refresh_token) == ("access-2", "refresh-2")
    assert renewed.id_token == SESSION.id_token, "kept for the logout's hint"
    assert renewed.csrf_token == SESSION.csrf_token


def test_a_refused_refresh_goes_back_to_the_login(page: Page) -> None:
    page.verifier.valid = set()
    page.keycloak.refuse = True
    logged_in(page)
    response = page.client.get("/web/units")
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["location"]).query)["next"] == ["/web/units"]


def test_a_session_whose_account_was_disabled_ends_at_its_next_request(page: Page) -> None:
    """Its access token still verifies; Keycloak's userinfo no longer serves it."""
    logged_in(page)
    assert page.client.get("/web/units/u1").status_code == 200
    assert page.keycloak.asked == [SESSION.access_token], "Keycloak asked with the page's token"
    page.keycloak.ended = True
    response = page.client.get("/web/units/u1")
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["location"]).query)["next"] == ["/web/units/u1"]
    assert page.client.cookies.get(SESSION_COOKIE) is None, "the session's cookie is cleared"
    assert page.keycloak.refreshed == [], "nothing else is tried with the ended session"


def test_keycloak_down_while_a_page_asks_after_the_session_is_a_page_saying_so(page: Page) -> None:
    logged_in(page)
    page.keycloak.down = True
    response = page.client.get("/web/units")
    assert response.status_code == 503
    assert "Hệ thống tạm thời không phục vụ được" in response.text
    assert "connection refused" not in response.text


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED])
def test_a_backend_down_is_a_page_saying_so_with_the_security_headers(page: Page, code: grpc.StatusCode) -> None:
    logged_in(page)
    page.personnel.fails = code
    response = page.client.get("/web/units")
    assert response.status_code == 503
    assert "Hệ thống tạm thời không phục vụ được" in response.text
    assert "connection refused" not in response.text
    assert "Traceback" not in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "script-src" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


def test_a_refusal_is_a_page_saying_so_in_vietnamese_without_the_backends_words(page: Page) -> None:
    logged_in(page)
    page.personnel.fails = grpc.StatusCode.PERMISSION_DENIED
    refused = page.client.get("/web/units")
    assert refused.status_code == 403
    assert "Tài khoản của bạn không có quyền xem hoặc làm việc này." in refused.text
    assert "10.0.0.7" not in refused.text
    page.personnel.fails = grpc.StatusCode.UNAUTHENTICATED
    assert page.client.get("/web/units").status_code == 303, "a token the backend refuses means a new login"


def test_the_staff_list_pages_with_dates_as_ddmmyyyy_and_shows_a_refused_query_beside_the_box(page: Page) -> None:
    logged_in(page)
    second = page.client.get("/web/units/u1", params={"q": "dang", "page": "2"})
    assert second.status_code == 200
    assert "30 người" in second.text
    assert "09/04/1986" in second.text
    assert "Trang 2/2" in second.text
    assert 'href="/web/units/u1?q=dang&amp;page=1&amp;sort=name"' in second.text
    assert "Trang sau" not in second.text
    assert "Trang 1/2" in page.client.get("/web/units/u1", params={"page": "x"}).text
    assert page.search.asked[-1].page_size == 25

    sizes = parsed(second.text).one(id="page-sizes")
    assert [a.attrs["href"] for a in sizes.find_all("a")] == [
        "/web/units/u1?q=dang&per=50&sort=name",
        "/web/units/u1?q=dang&per=100&sort=name",
    ], "another size starts again at the first page"
    hundred = page.client.get("/web/units/u1", params={"q": "dang", "per": "100"})
    assert (page.search.asked[-1].page_size, "Trang 1/1" in hundred.text) == (100, True)
    assert 'href="/web/units/u1?q=dang&amp;per=100&amp;sort=birth_date"' in hundred.text, "the size kept by the links"
    page.client.get("/web/units/u1", params={"per": "5000"})
    assert page.search.asked[-1].page_size == 25, "a size the page does not offer is its default"

    refused = page.client.get("/web/units/u1", params={"q": "123"})
    assert refused.status_code == 422
    assert "Họ tên phải có chữ" in refused.text
    assert 'aria-invalid="true"' in refused.text


def test_the_staff_list_filters_by_criteria_keeps_them_in_its_links_and_names_a_bad_one(page: Page) -> None:
    logged_in(page)
    sent = page.client.get(
        "/web/units/u1", params={"q": "dang", "party_member": "true", "age_min": "30", "rank": "01", "status": ""}
    )
    assert (sent.status_code, sent.headers["location"]) == (
        303,
        "/web/units/u1?q=dang&party_member=true&age_min=30&rank=01",
    ), "the filters left blank are dropped from the link"
    filtered = page.client.get(sent.headers["location"])
    assert filtered.status_code == 200
    asked = page.search.asked[-1]
    assert (asked.party_member, asked.age_min, asked.rank, asked.status) == (True, 30, "01", "")
    assert 'href="/web/units/u1?q=dang&amp;rank=01&amp;party_member=true&amp;age_min=30&amp;page=2&amp;sort=name"' in (
        filtered.text
    )
    assert "đang lọc theo 3 tiêu chí" in filtered.text
    [chosen] = [o for o in parsed(filtered.text).one(id="f-rank").find_all("option") if "selected" in o.attrs]
    assert chosen.all_text() == "Giá trị một (01)"

    calls = len(page.search.asked)
    refused = page.client.get("/web/units/u1", params={"age_min": "120", "salary_step": "ba"})
    assert refused.status_code == 422
    assert "Bậc lương: Phải là số nguyên" in refused.text
    assert "Tuổi từ: Phải từ 0 đến 100" in refused.text
    assert len(page.search.asked) == calls, "nothing searched"
    faulty = parsed(refused.text)
    assert faulty.one(id="f-age_min").attrs.get("aria-invalid") == "true"
    assert faulty.one(id="q").attrs.get("aria-invalid") is None
    app: Any = page.client.app
    asked = app.state.backends.record.catalogs_asked
    assert len(asked) == len(set(asked)) == 11, "each catalog asked once, the second page from what was kept"
    assert "provinces@2025-06-30" in asked, "and the provinces of the day before they merged"
    provinces = parsed(filtered.text).one(id="f-home_province").find_all("option")
    assert [o.all_text() for o in provinces][-2:] == ["Giá trị một (01)", "Tỉnh Hà Giang (02, đến 30/06/2025)"]


def test_the_tree_shows_each_units_quota_against_the_people_in_it_and_below_it(page: Page) -> None:
    logged_in(page)
    response = page.client.get("/web/units")
    assert response.status_code == 200
    [asked] = page.quotas.asked
    assert (asked.unit_id, asked.include_subtree, asked.as_of) == ("u1", True, "")
    assert asked.year == datetime.now(timezone(timedelta(hours=7))).year
    rows = parsed(response.text).one("table").find_all("tr")[1:]
    assert [row.attrs["id"] for row in rows] == ["unit-u1", "unit-old", "unit-nb"], "in tree order"
    cells = [[cell.all_text() for cell in row.find_all("td")] for row in rows]
    assert cells[0] == ["Cục Hải quan Hà Nội", "HQHN", "120", "130", "+10 (vượt biên chế)"]
    assert rows[0].attrs["class"] == "over"
    assert cells[1] == ["Đội đã giải thể", "HQHN-D9", "—", "—", "—"]
    assert cells[2] == ["Chi cục Nội Bài", "HQHN-NB", "40", "38", "−2"]


def test_the_staff_list_sorts_by_a_columns_link_and_exports_what_it_shows(page: Page) -> None:
    logged_in(page)
    shown = page.client.get("/web/units/u1", params={"q": "dang", "subtree": "1", "sort": "birth_date"})
    assert page.search.asked[-1].sort == "birth_date"
    assert (page.search.asked[-1].q, page.search.asked[-1].include_subtree) == ("dang", True)
    header = [th for th in parsed(shown.text).one("table").find_all("th")]
    assert [th.attrs.get("aria-sort") for th in header[:2]] == [None, "ascending"]
    assert header[0].one("a").attrs["href"] == "/web/units/u1?q=dang&subtree=1&sort=name"
    exports = [a.attrs["href"] for a in parsed(shown.text).one(id="export").find_all("a")]
    assert exports == [
        "http://gateway.test/web/units/u1/export.csv?q=dang&subtree=1&sort=birth_date",
        "http://gateway.test/web/units/u1/export.xlsx?q=dang&subtree=1&sort=birth_date",
    ]
    page.client.get("/web/units/u1", params={"sort": "salary"})
    assert page.search.asked[-1].sort == "name", "an order that is not one is by name"


def test_the_logout_needs_the_forms_csrf_token_then_ends_the_keycloak_session(page: Page) -> None:
    logged_in(page)
    refused = page.client.post("/web/logout", data={})
    assert refused.status_code == 403
    assert "Yêu cầu bị từ chối" in refused.text
    assert page.client.post("/web/logout", data={"csrf_token": "csrf-2"}).status_code == 403
    assert page.client.get("/web/").status_code == 200, "a refused logout leaves the session"

    done = page.client.post("/web/logout", data={"csrf_token": SESSION.csrf_token})
    assert done.status_code == 303
    target = urlsplit(done.headers["location"])
    assert target.path.endswith("/protocol/openid-connect/logout")
    query = parse_qs(target.query)
    assert query["id_token_hint"] == [SESSION.id_token]
    assert query["post_logout_redirect_uri"] == ["http://gateway.test/web/logged-out"]
    assert page.client.get("/web/").status_code == 303, "the cookies are cleared"


def test_the_home_page_says_what_waits_in_the_callers_unit_and_lists_the_retirements(page: Page) -> None:
    logged_in(page)
    home = page.client.get("/web/")
    assert home.status_code == 200
    assert "1 hồ sơ điều động chờ tiếp nhận" in home.text
    assert "2 người đến tuổi nghỉ hưu trong 6 tháng tới" in home.text
    assert parsed(home.text).one("a", id="reports-to-send").all_text() == "3 báo cáo phải gửi"
    assert parsed(home.text).one("a", id="reports-to-approve").all_text() == "1 báo cáo chờ duyệt"
    assert [request.limit for request in page.reports.asked] == [1], "the totals only"
    assert page.client.get("/web/").text.count('id="account-requests"') == 1
    assert parsed(home.text).one("a", id="account-requests").all_text() == "0 đề nghị cấp tài khoản chờ bạn xử lý"
    late = parsed(home.text).one("a", id="late-entries")
    assert late.all_text() == "2 mục hồ sơ nhập quá hạn trong 30 ngày qua"
    assert late.attrs["href"] == "http://gateway.test/web/units/u1/late-entries"
    listed = page.client.get("/web/units/u1/retirements", params={"months": "12"})
    assert listed.status_code == 200
    assert listed.text.index("Trịnh Văn Hưu") < listed.text.index("Lý Văn Trí")
    assert "28/02/2026" in listed.text
    assert '<option value="12" selected>' in listed.text


def test_the_account_holder_is_named_family_first() -> None:
    claims = {"name": "Hà Vũ Thị", "given_name": "Hà", "family_name": "Vũ Thị"}
    principal = Principal(subject="s", username="u", roles=frozenset(), unit_path=None, token="t", claims=claims)
    assert who(principal).name == "Vũ Thị Hà"
    assert who(replace(principal, claims={"name": "Quản trị"})).name == "Quản trị"
