"""The delegations page on stand-in backends: the delegations in force in Vietnamese (unit names,
tiers, sections, actions, validity), the grant form and revocations offered to the grantors only, a
grant sent as identity's body with unit codes turned into paths, what is typed wrong said by its
field before identity is asked, identity's refusal beside the field it names, a forged form refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from html_tree import parsed
from web_stand_ins import Page, logged_in, pages_on_stand_ins

IN_FORCE = {
    "id": "d1",
    "unit_path": "/TCHQ/HQHN/NB",
    "tiers": ["local-admin", "local-officer"],
    "sections": ["salary", "training"],
    "actions": ["read", "update"],
    "target_unit_path": "/TCHQ/HQHN",
    "person_ids": [],
    "valid_from": "2026-01-01",
    "valid_to": None,
    "reason": "Quyết định 12/QĐ-TCHQ",
    "granted_by": "vutccb",
    "granted_at": "2026-01-01T03:00:00+00:00",
    "revoked_at": None,
}
GRANT = {
    "unit_code": "HQHN-NB",
    "target_code": "hqhn",
    "tier.local-officer": "1",
    "section.salary": "1",
    "section.evaluation": "1",
    "action.read": "1",
    "valid_from": "01/02/2027",
    "valid_to": "",
    "reason": "Quyết định 15/QĐ-TCHQ",
}


@pytest.fixture
def screen() -> Iterator[Page]:
    with pages_on_stand_ins() as made:
        made.identity.delegations = [IN_FORCE]
        yield made


def _csrf(screen: Page) -> str:
    token: str = (
        parsed(screen.client.get("/web/delegations").text).find_all("input", name="csrf_token")[0].attrs["value"]
    )
    return token


def _sent(screen: Page) -> list[httpx.Request]:
    return [r for r in screen.identity.asked if r.method != "GET"]


def test_the_delegations_in_force_are_listed_and_a_unit_admin_is_offered_no_change(screen: Page) -> None:
    logged_in(screen)
    response = screen.client.get("/web/delegations")
    assert response.status_code == 200
    row = parsed(response.text).one("tr", id="delegation-d1")
    assert [td.all_text() for td in row.find_all("td")][:6] == [
        "Chi cục Nội Bài",
        "Quản trị đơn vị, Cán bộ nhân sự đơn vị",
        "Cây đơn vị Cục Hải quan Hà Nội",
        "Ngạch, bậc, lương, phụ cấp, Đào tạo, bồi dưỡng",
        "Xem, Sửa",
        "01/01/2026 – không thời hạn",
    ]
    assert row.find_all("button") == []
    assert 'id="grant"' not in response.text
    assert "Ủy quyền" in [a.all_text() for a in parsed(response.text).one("nav").find_all("a")]


def test_a_grantor_grants_over_a_subtree_named_by_its_code_and_revokes(screen: Page) -> None:
    screen.verifier.roles = frozenset({"sector-hr"})
    logged_in(screen)
    page = parsed(screen.client.get("/web/delegations").text)
    assert [b.all_text() for b in page.one("tr", id="delegation-d1").find_all("button")] == ["Thu hồi"]
    token = _csrf(screen)
    granted = screen.client.post("/web/delegations", data={"csrf_token": token, **GRANT})
    assert granted.status_code == 303, granted.text
    assert granted.headers["location"].endswith("/web/delegations?done=granted#delegation-d-new")
    (sent,) = _sent(screen)
    assert json.loads(sent.content) == {
        "unit_path": "/TCHQ/HQHN/NB",
        "tiers": ["local-officer"],
        "records": {"unit_path": "/TCHQ/HQHN"},
        "sections": ["evaluation", "salary"],
        "actions": ["read"],
        "valid_from": "2027-02-01",
        "valid_to": None,
        "reason": "Quyết định 15/QĐ-TCHQ",
    }
    revoked = screen.client.post("/web/delegations/d1/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert (_sent(screen)[-1].method, _sent(screen)[-1].url.path) == ("DELETE", "/v1/delegations/d1")


@pytest.mark.parametrize(
    ("changed", "where", "reason"),
    [
        ({"unit_code": "KHONGCO"}, "f-unit_code-error", "Không có đơn vị mã này trong phạm vi của bạn"),
        ({"valid_from": "31/02/2027"}, "f-valid_from-error", "Không phải một ngày (ngày/tháng/năm)"),
        ({"reason": ""}, "f-reason-error", "Bắt buộc nhập"),
        ({"tier.local-officer": None}, "f-tiers-error", "Chọn ít nhất một"),
        ({"action.read": None}, "f-actions-error", "Chọn ít nhất một"),
    ],
)
def test_what_is_typed_wrong_is_said_by_its_field_and_identity_is_not_asked(
    screen: Page, changed: dict[str, Any], where: str, reason: str
) -> None:
    screen.verifier.roles = frozenset({"sector-hr"})
    logged_in(screen)
    form = {k: v for k, v in ({**GRANT, **changed}).items() if v is not None}
    refused = screen.client.post("/web/delegations", data={"csrf_token": _csrf(screen), **form})
    assert refused.status_code == 422
    assert parsed(refused.text).one(id=where).all_text() == reason
    assert _sent(screen) == []


def test_identitys_refusal_is_said_beside_the_field_it_names(screen: Page) -> None:
    screen.verifier.roles = frozenset({"sector-hr"})
    screen.identity.refusal = httpx.Response(
        422, json={"detail": [{"loc": ["body", "valid_to"], "msg": "Phải sau ngày bắt đầu", "type": "value_error"}]}
    )
    logged_in(screen)
    refused = screen.client.post("/web/delegations", data={"csrf_token": _csrf(screen), **GRANT})
    assert refused.status_code == 422
    assert parsed(refused.text).one(id="f-valid_to-error").all_text() == "Phải sau ngày bắt đầu"
    screen.identity.refusal = httpx.Response(
        403, json={"detail": {"code": "PERMISSION_DENIED", "message": "Không được ủy quyền phần mà mình không có"}}
    )
    denied = screen.client.post("/web/delegations", data={"csrf_token": _csrf(screen), **GRANT})
    assert denied.status_code == 403
    assert "Không được ủy quyền phần mà mình không có" in parsed(denied.text).one(id="faults").all_text()


def test_a_form_without_the_sessions_token_is_refused_and_a_self_account_sees_no_page(screen: Page) -> None:
    screen.verifier.roles = frozenset({"sector-hr"})
    logged_in(screen)
    assert screen.client.post("/web/delegations", data={"csrf_token": "x", **GRANT}).status_code == 403
    assert screen.client.post("/web/delegations/d1/revoke", data={"csrf_token": "x"}).status_code == 403
    assert _sent(screen) == []
    screen.verifier.roles = frozenset({"self"})
    screen.identity.delegations = []
    home = screen.client.get("/web/")
    assert "Ủy quyền" not in [a.all_text() for a in parsed(home.text).one("nav").find_all("a")]
