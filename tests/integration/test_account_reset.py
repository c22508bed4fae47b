"""Lost password or suspected theft (R-ACC-9): reported, then reset by an admin in scope with a
new first-login password delivered once; a theft also ends the account's sessions."""

from __future__ import annotations

import httpx
import pytest

from qlcb_devstack.accounts import Account, ensure_user, password_token
from tests.support import System, claim_credential, mailed_code, unique_code

PASSWORD = "Mật khẩu cũ 2026"


def _holder(system: System, unit_path: str = "/TCHQ/HQHN/HQHN-BHN") -> str:
    username = unique_code("holder").lower()
    ensure_user(system.infra.keycloak_admin(), Account(username, PASSWORD, "local-officer", unit_path, "Hà Văn Mất"))
    return username


def _identity(system: System, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=system.services.identity_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


async def test_a_stolen_password_is_reset_once_and_old_sessions_end(system: System) -> None:
    username = _holder(system)
    holder_token = password_token(system.infra.keycloak.base_url, username, PASSWORD)
    async with _identity(system, holder_token) as holder, _identity(system, system.token("qthanoi")) as admin:
        no_report = await admin.post(f"/v1/accounts/{username}/reset")
        reported = await holder.post(f"/v1/accounts/{username}/incidents", json={"kind": "stolen", "note": "lộ"})
        self_reset = await holder.post(f"/v1/accounts/{username}/reset")
        reset = await admin.post(f"/v1/accounts/{username}/reset")
        second = await admin.post(f"/v1/accounts/{username}/reset")
    assert no_report.status_code == 409
    assert reported.status_code == 201, reported.text
    assert self_reset.status_code == 403
    assert reset.status_code == 201, reset.text
    assert second.status_code == 409, "one report, one reset"
    admin_api = system.infra.keycloak_admin()
    user_id = admin_api.get_user_id(username)
    assert user_id is not None
    assert admin_api.get_sessions(user_id) == []
    with pytest.raises(httpx.HTTPStatusError):
        password_token(system.infra.keycloak.base_url, username, PASSWORD)
    # The new first-login password reaches the holder's address on record, never the admin.
    holder_address = f"{username}@qlcb.example"
    assert reset.json()["delivered_to"] == f"{username[0]}***@qlcb.example"
    code = await mailed_code(system, holder_address)
    assert code not in reset.text
    assert system.infra.mail.messages_to("qthanoi@qlcb.example") == []
    credential = await claim_credential(system, code)
    assert credential.status_code == 200
    assert credential.json()["username"] == username
    assert admin_api.get_user(user_id)["requiredActions"] == ["UPDATE_PASSWORD"]


async def test_an_admin_cannot_reset_outside_its_subtree(system: System) -> None:
    username = _holder(system, "/TCHQ/HQHCM/HQHCM-TSN")
    async with _identity(system, system.token("qthanoi")) as admin:
        reported = await admin.post(f"/v1/accounts/{username}/incidents", json={"kind": "lost"})
    async with _identity(system, system.token("quantri")) as sysadmin:
        log = (await sysadmin.get("/v1/audit", params={"target": username})).json()
    assert reported.status_code == 404, "outside its subtree, as if there were no such account"
    assert log[0]["outcome"] == "refused"


async def test_an_unknown_account_or_kind_is_named(system: System) -> None:
    async with _identity(system, system.token("qthanoi")) as admin:
        missing = await admin.post("/v1/accounts/nobody-here/incidents", json={"kind": "lost"})
        bad_kind = await admin.post(f"/v1/accounts/{_holder(system)}/incidents", json={"kind": "forgot"})
    assert missing.status_code == 404
    assert bad_kind.status_code == 422
    assert bad_kind.json()["detail"][0]["loc"] == ["body", "kind"]


async def test_an_account_reads_with_its_tiers_sections_and_incidents_to_its_admin_and_holder(system: System) -> None:
    username = _holder(system)
    holder_token = password_token(system.infra.keycloak.base_url, username, PASSWORD)
    async with _identity(system, holder_token) as holder, _identity(system, system.token("qthanoi")) as admin:
        granted = await admin.put(f"/v1/accounts/{username}/sections", json={"sections": ["training", "identity"]})
        assert granted.status_code == 200, granted.text
        assert (await holder.post(f"/v1/accounts/{username}/incidents", json={"kind": "lost"})).status_code == 201
        by_admin = await admin.get(f"/v1/accounts/{username}")
        by_holder = await holder.get(f"/v1/accounts/{username}")
        assert (await admin.post(f"/v1/accounts/{username}/reset")).status_code == 201
        after_reset = (await admin.get(f"/v1/accounts/{username}")).json()
        others = await holder.get("/v1/accounts/qthanoi")
    async with _identity(system, system.token("thutruong.hcm")) as elsewhere:
        outside = await elsewhere.get(f"/v1/accounts/{username}")
    async with _identity(system, system.token("quantri")) as sysadmin:
        unknown = await sysadmin.get("/v1/accounts/nobody-here")

    assert by_admin.status_code == 200, by_admin.text
    seen = by_admin.json()
    assert (seen["full_name"], seen["unit_path"], seen["tiers"], seen["enabled"], seen["own"]) == (
        "Hà Văn Mất",
        "/TCHQ/HQHN/HQHN-BHN",
        ["local-officer"],
        True,
        False,
    )
    assert seen["sections"] == ["identity", "training"]
    assert [(i["kind"], i["reported_by"], i["reset_at"]) for i in seen["incidents"]] == [("lost", username, None)]
    assert by_holder.json() | {"own": False} == seen, "its holder reads the same account"
    assert by_holder.json()["own"] is True
    assert after_reset["incidents"][0]["reset_at"] is not None
    assert others.status_code == 403, "a holder reads no other account"
    assert outside.status_code == 403, "a unit head administers no account"
    assert unknown.status_code == 404


async def test_the_accounts_behind_recorded_subjects_are_named_to_any_tier_and_unknown_ones_left_out(
    system: System,
) -> None:
    username = _holder(system)
    holder_token = password_token(system.infra.keycloak.base_url, username, PASSWORD)
    tierless = unique_code("khongcap").lower()
    ensure_user(system.infra.keycloak_admin(), Account(tierless, PASSWORD, "offline_access", None, "Lê Không Cấp"))
    tierless_token = password_token(system.infra.keycloak.base_url, tierless, PASSWORD)
    async with _identity(system, holder_token) as holder, _identity(system, system.token("canbo.noibai")) as self_:
        holder_subject = (await holder.get("/v1/me")).json()["subject"]
        async with _identity(system, system.token("qthanoi")) as admin:
            admin_subject = (await admin.get("/v1/me")).json()["subject"]
        unknown = "00000000-0000-0000-0000-000000000000"
        named = await self_.get(
            "/v1/account-names",
            params=[("id", admin_subject), ("id", unknown), ("id", holder_subject), ("id", admin_subject)],
        )
        too_many = await self_.get("/v1/account-names", params=[("id", f"s{n}") for n in range(101)])
        odd = await self_.get("/v1/account-names", params={"id": "a b"})
    async with _identity(system, tierless_token) as nobody:
        refused = await nobody.get("/v1/account-names", params={"id": admin_subject})

    assert named.status_code == 200, named.text
    assert [(n["id"], n["username"]) for n in named.json()] == [(admin_subject, "qthanoi"), (holder_subject, username)]
    assert named.json()[1]["full_name"] == "Hà Văn Mất"
    assert (too_many.status_code, too_many.json()["detail"][0]["loc"]) == (422, ["query", "id"])
    assert (odd.status_code, odd.json()["detail"][0]["loc"][:2]) == (422, ["query", "id"])
    assert refused.status_code == 403, "an account without a tier is told no names"
