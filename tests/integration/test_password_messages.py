"""The password policy's messages (R-ACC-7) say which rule a password breaks, in Vietnamese, as
the realm file states them: in the error of Keycloak's admin API when identity or a test sets a
password, and on Keycloak's own page of a first login. A message changed by hand in Keycloak is
drift that the realm sync reports and corrects."""

from __future__ import annotations

import html
import json
import re
import uuid

import httpx
import pytest
from keycloak.exceptions import KeycloakError

from qlcb_devstack.accounts import Account, ensure_user
from qlcb_devstack.realm import dev_realm
from tests.support import (
    REDIRECT_URI,
    System,
    authorization_request,
    browser_client,
    identity_realm_sync,
)

TOO_SHORT = "Mật khẩu phải dài ít nhất 8 ký tự."
THREE_OF_FOUR = (
    "Mật khẩu phải có ít nhất 3 trong 4 loại ký tự: chữ hoa (A–Z), chữ thường (a–z), chữ số (0–9), "
    "ký tự khác (kể cả dấu cách và chữ có dấu)."
)
CONTAINS_USERNAME = "Mật khẩu không được chứa tên đăng nhập."
CONTAINS_PART = (
    "Mật khẩu không được chứa một phần của tên đăng nhập (phần giữa các dấu chấm, gạch, hoặc phần chữ của nó, "
    "từ 3 ký tự), kể cả viết hoa hay có dấu."
)
REUSED = "Mật khẩu không được trùng với 5 mật khẩu gần nhất."
FIRST_PASSWORD = "Hợp lệ 2026"
LOCALIZATION = "admin/realms/qlcb/localization"


def _new_user(system: System) -> tuple[str, str]:
    username = f"pwmsg{uuid.uuid4().int % 10**10:010d}"  # digits: no part a password below could hold
    admin = system.infra.keycloak_admin("qlcb")
    return username, ensure_user(admin, Account(username, FIRST_PASSWORD, "self", None, "Thử Thông Báo"))


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1!xyz", TOO_SHORT),
        ("abcdefgh1", THREE_OF_FOUR),  # lower case and digits only
        ("Pre{username}1!", CONTAINS_USERNAME),
        ("Pwmsg@2026!", CONTAINS_PART),  # the letters that begin the username
        (FIRST_PASSWORD, REUSED),
    ],
)
def test_the_admin_api_says_which_rule_is_broken_in_vietnamese(system: System, password: str, message: str) -> None:
    username, user_id = _new_user(system)
    admin = system.infra.keycloak_admin("qlcb")
    with pytest.raises(KeycloakError) as error:
        admin.set_user_password(user_id, password.format(username=username), temporary=False)
    assert error.value.response_code == 400
    assert error.value.response_body is not None
    assert json.loads(error.value.response_body)["error_description"] == message


def _follow(browser: httpx.Client, response: httpx.Response) -> httpx.Response:
    while location := response.headers.get("location"):
        assert not location.startswith(REDIRECT_URI), "the login went through"
        response = browser.get(response.url.join(location))
    assert response.status_code in (200, 400), f"{response.url}:\n{response.text[:2000]}"
    return response


def _submit(browser: httpx.Client, page: httpx.Response, fields: dict[str, str]) -> httpx.Response:
    form = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert form, page.text[:2000]
    return _follow(browser, browser.post(html.unescape(form.group(1)), data=fields))


def test_the_first_login_page_says_which_rule_is_broken_in_vietnamese(system: System) -> None:
    username, user_id = _new_user(system)
    temporary = "Tạm thời 2026"
    system.infra.keycloak_admin("qlcb").set_user_password(user_id, temporary, temporary=True)
    params, _verifier = authorization_request()
    with browser_client() as browser:
        login = _follow(browser, browser.get(f"{system.infra.issuer}/protocol/openid-connect/auth", params=params))
        update = _submit(browser, login, {"username": username, "password": temporary})
        assert 'name="password-new"' in update.text, update.text[:3000]
        refused = _submit(browser, update, {"password-new": "abcdefgh1", "password-confirm": "abcdefgh1"})
    assert 'name="password-new"' in refused.text, "the page asks again"
    assert THREE_OF_FOUR in html.unescape(refused.text)


def _texts(system: System, locale: str) -> dict[str, str]:
    response = system.infra.keycloak_admin("qlcb").connection.raw_get(f"{LOCALIZATION}/{locale}")
    response.raise_for_status()
    texts: dict[str, str] = response.json()
    return texts


def test_a_message_changed_by_hand_is_drift_the_realm_sync_corrects(system: System) -> None:
    sync = identity_realm_sync(system)
    connection = system.infra.keycloak_admin("qlcb").connection
    key = "invalidPasswordRegexPatternMessage"
    changed = "Mật khẩu không hợp lệ"
    connection.raw_post(f"{LOCALIZATION}/vi", data=json.dumps({key: changed})).raise_for_status()
    connection.raw_delete(f"{LOCALIZATION}/en/invalidPasswordMinLengthMessage").raise_for_status()
    try:
        drift = [d for d in sync.diff() if d.kind == "localization text"]
        assert {(d.name, d.field, d.actual) for d in drift} == {
            (f"vi {key}", "text", changed),
            ("en invalidPasswordMinLengthMessage", "*", None),
        }
    finally:
        corrected = sync.apply()
    assert {d.name for d in corrected} >= {f"vi {key}", "en invalidPasswordMinLengthMessage"}
    assert [d for d in sync.diff() if d.kind == "localization text"] == []
    for locale, texts in dev_realm().localization_texts.items():
        live = _texts(system, locale)
        assert {k: live.get(k) for k in texts} == texts
