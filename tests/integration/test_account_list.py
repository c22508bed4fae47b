"""A unit's accounts as its account admin lists them (R-ACC-9): every account of the unit's
Keycloak group, in staff-list order, found by name or username with or without diacritics, with
its tiers, whether it is open and whether it is the unit's purpose account; refused to every tier
that administers no account there."""

from __future__ import annotations

import httpx

from qlcb_devstack.accounts import Account, ensure_user
from tests.support import System, new_sub_unit, unique_code

PASSWORD = "Mật khẩu danh sách 2026"


def _identity(system: System, login: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=system.services.identity_url,
        headers={"Authorization": f"Bearer {system.token(login)}"},
        timeout=60,
    )


async def test_a_units_accounts_are_listed_in_staff_order_with_tiers_and_what_its_admin_may_change(
    system: System,
) -> None:
    unit_path = (await new_sub_unit(system, system.unit_ids["HQHN"]))["path"]
    tag = unique_code("ds").lower()
    keycloak = system.infra.keycloak_admin()
    for username, tier, full_name in (
        (f"{tag}.duc", "local-officer", "Lê Văn Đức"),
        (f"{tag}.dung", "unit-leader", "Trần Thị Dung"),
        (f"{tag}.an", "self", "Nguyễn An"),
    ):
        ensure_user(keycloak, Account(username, PASSWORD, tier, unit_path, full_name))
    user_id = keycloak.get_user_id(f"{tag}.an")
    assert user_id is not None
    keycloak.update_user(user_id, {"enabled": False})
    async with _identity(system, "quantri") as sysadmin, _identity(system, "qthanoi") as admin:
        quota = await sysadmin.put("/v1/quotas", json={"unit_path": unit_path, "kind": "user", "limit": 1})
        assert quota.status_code == 200, quota.text
        issued = await admin.post(
            "/v1/purpose-accounts", json={"unit_path": unit_path, "purpose": "Văn thư", "tier": "local-officer"}
        )
        assert issued.status_code == 201, issued.text
        listed = await admin.get("/v1/accounts", params={"unit_path": unit_path})
        unaccented = await admin.get("/v1/accounts", params={"unit_path": unit_path, "q": "DUC"})
        first_page = await admin.get("/v1/accounts", params={"unit_path": unit_path, "limit": 2})
        last_page = await admin.get("/v1/accounts", params={"unit_path": unit_path, "limit": 2, "offset": 2})
        by_system_admin = await sysadmin.get("/v1/accounts", params={"unit_path": unit_path, "q": tag})
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 4
    assert body["truncated"] is False
    # By given name in Vietnamese order (An, Dung, Đức, "thư"), then the rest of the name.
    assert [a["username"] for a in body["items"]] == [
        f"{tag}.an",
        f"{tag}.dung",
        f"{tag}.duc",
        issued.json()["account"]["username"],
    ]
    an, dung, duc, purpose = body["items"]
    assert an == {
        "username": f"{tag}.an",
        "full_name": "Nguyễn An",
        "unit_path": unit_path,
        "enabled": False,
        "tiers": ["self"],
        "purpose": False,
        "administered": True,
    }
    # Hà Nội's admin sees its unit's leader account but may not change it (001 Điều 8.1.b).
    assert dung["tiers"] == ["unit-leader"]
    assert dung["administered"] is False
    assert duc["tiers"] == ["local-officer"]
    assert duc["administered"] is True
    assert duc["enabled"] is True
    assert purpose["purpose"] is True
    assert purpose["full_name"] == "Văn thư"
    assert [a["full_name"] for a in unaccented.json()["items"]] == ["Lê Văn Đức"]
    assert first_page.json()["total"] == 4
    assert len(first_page.json()["items"]) == 2
    assert [a["username"] for a in last_page.json()["items"]] == [duc["username"], purpose["username"]]
    assert [a["administered"] for a in by_system_admin.json()["items"]] == [True, True, True]


async def test_the_units_below_are_listed_with_it_when_asked_each_account_with_its_unit(system: System) -> None:
    parent = await new_sub_unit(system, system.unit_ids["HQHN"])
    team = await new_sub_unit(system, parent["id"], "Đội kiểm thử danh sách tài khoản")
    keycloak = system.infra.keycloak_admin()
    ensure_user(keycloak, Account(unique_code("ds").lower(), PASSWORD, "local-officer", team["path"], "Vũ Văn Đội"))
    ensure_user(keycloak, Account(unique_code("ds").lower(), PASSWORD, "self", parent["path"], "Đỗ Thị Cục"))
    async with _identity(system, "qthanoi") as admin:
        own = await admin.get("/v1/accounts", params={"unit_path": parent["path"]})
        tree = await admin.get("/v1/accounts", params={"unit_path": parent["path"], "subtree": "true"})
    assert [a["full_name"] for a in own.json()["items"]] == ["Đỗ Thị Cục"]
    listed = [(a["full_name"], a["unit_path"]) for a in tree.json()["items"]]
    assert listed == [("Đỗ Thị Cục", parent["path"]), ("Vũ Văn Đội", team["path"])], "the unit first, then below"
    assert tree.json()["total"] == 2


async def test_the_list_is_refused_outside_the_admins_units_and_bad_criteria_are_named(system: System) -> None:
    async with (
        _identity(system, "qthanoi") as admin,
        _identity(system, "quantri") as sysadmin,
        _identity(system, "nhansu1.hanoi") as officer,
    ):
        other_province = await admin.get("/v1/accounts", params={"unit_path": "/TCHQ/HQHCM"})
        not_an_admin = await officer.get("/v1/accounts", params={"unit_path": "/TCHQ/HQHN"})
        no_such_unit = await sysadmin.get("/v1/accounts", params={"unit_path": "/TCHQ/KHONGCO"})
        bad_path = await admin.get("/v1/accounts", params={"unit_path": "HQHN"})
        no_path = await admin.get("/v1/accounts")
        zero = await admin.get("/v1/accounts", params={"unit_path": "/TCHQ/HQHN", "limit": 0})
        long_q = await admin.get("/v1/accounts", params={"unit_path": "/TCHQ/HQHN", "q": "Đức " * 40})
    assert other_province.status_code == 403
    assert not_an_admin.status_code == 403
    assert no_such_unit.status_code == 404
    for refused, field in ((bad_path, "unit_path"), (no_path, "unit_path"), (zero, "limit"), (long_q, "q")):
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["query", field]
