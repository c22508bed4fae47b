"""Delegated administration (R-TIER-3) through identity: a unit admin manages accounts of its
own subtree only, grants only tiers at or below its own, never its own rights; every refusal
is audited."""

from __future__ import annotations

import httpx
import pytest

from qlcb_devstack.accounts import Account, ensure_user
from tests.support import System, eventually, keycloak_admin_api, metric_value, unique_code


def _account(system: System, unit_path: str, tier: str = "self") -> str:
    username = unique_code("acc").lower()
    ensure_user(system.infra.keycloak_admin(), Account(username, "Tài khoản 2026", tier, unit_path, "Đinh Văn Quyền"))
    return username


def _identity(system: System, username: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {system.token(username)}"}
    return httpx.AsyncClient(base_url=system.services.identity_url, headers=headers, timeout=60)


def _roles_in_keycloak(system: System, username: str) -> set[str]:
    """The account's realm roles as Keycloak holds them, not as identity reports them."""
    keycloak = system.infra.keycloak_admin()
    user_id = keycloak.get_user_id(username)
    assert user_id is not None
    return {r["name"] for r in keycloak.get_realm_roles_of_user(user_id)}


async def test_a_unit_admin_grants_and_revokes_within_its_subtree(system: System) -> None:
    username = _account(system, "/TCHQ/HQHN/HQHN-NB")
    async with _identity(system, "qthanoi") as admin:
        granted = await admin.put(f"/v1/accounts/{username}/tiers/local-officer")
        assert granted.status_code == 200, granted.text
        assert granted.json()["tiers"] == ["local-officer", "self"]
        assert {"local-officer", "self"} <= _roles_in_keycloak(system, username)
        revoked = await admin.delete(f"/v1/accounts/{username}/tiers/local-officer")
    assert revoked.json()["tiers"] == ["self"]
    roles = _roles_in_keycloak(system, username)
    assert "self" in roles
    assert "local-officer" not in roles


@pytest.mark.parametrize(
    ("unit_path", "held", "tier", "status"),
    [
        ("/TCHQ/HQHN/HQHN-NB", "self", "system-admin", 403),  # above its own tier
        ("/TCHQ/HQHN/HQHN-NB", "self", "sector-hr", 403),
        ("/TCHQ/HQHCM", "self", "local-officer", 404),  # outside its subtree: as if there were none
        ("/TCHQ/HQHN", "system-admin", "local-officer", 403),  # an account holding more than it may grant
    ],
)
async def test_going_further_is_refused_and_audited(
    system: System, unit_path: str, held: str, tier: str, status: int
) -> None:
    username = _account(system, unit_path, held)
    counted_before = await metric_value(system, "identity", "qlcb_identity_refusals_total", {"source": "identity"})
    async with _identity(system, "qthanoi") as admin:
        refused = await admin.put(f"/v1/accounts/{username}/tiers/{tier}")
    counted = await metric_value(system, "identity", "qlcb_identity_refusals_total", {"source": "identity"})
    assert counted == counted_before + 1
    async with _identity(system, "quantri") as sysadmin:
        log = (await sysadmin.get("/v1/audit", params={"target": username})).json()
    assert refused.status_code == status, refused.text
    assert (log[0]["action"], log[0]["outcome"], log[0]["actor_username"]) == ("account.grant", "refused", "qthanoi")
    assert tier not in _roles_in_keycloak(system, username)


async def test_whether_an_account_exists_is_told_only_to_its_admins(system: System) -> None:
    """Probing usernames: an account outside the admin's subtree answers exactly as one that does
    not exist, and a caller who administers no accounts is refused before anything is looked up."""
    outside = _account(system, "/TCHQ/HQHCM/HQHCM-TSN")
    unknown = unique_code("nobody").lower()
    answers: dict[str, dict[str, tuple[int, dict[str, str]]]] = {}
    for caller in ("qthanoi", "nhansu1.hanoi", "thutruong.hcm"):
        async with _identity(system, caller) as client:
            answers[caller] = {}
            for name, username in (("outside", outside), ("unknown", unknown)):
                response = await client.put(f"/v1/accounts/{username}/tiers/local-officer")
                detail = response.json()["detail"]
                detail["message"] = detail["message"].replace(username, "<username>")
                answers[caller][name] = (response.status_code, detail)
    assert answers["qthanoi"]["outside"] == answers["qthanoi"]["unknown"]
    assert answers["qthanoi"]["outside"][0] == 404
    for caller in ("nhansu1.hanoi", "thutruong.hcm"):
        assert answers[caller]["outside"] == answers[caller]["unknown"]
        assert answers[caller]["outside"][0] == 403


async def test_nobody_raises_their_own_rights(system: System) -> None:
    async with _identity(system, "qthanoi") as admin:
        response = await admin.put("/v1/accounts/qthanoi/tiers/local-officer")
    assert response.status_code == 403


async def test_calling_keycloak_admin_api_directly_is_refused_and_audited(system: System) -> None:
    """The same admin, skipping identity and using its token on Keycloak's own admin API."""
    keycloak = system.infra.keycloak_admin()
    own_id = keycloak.get_user_id("qthanoi")
    assert own_id is not None
    other = _account(system, "/TCHQ/HQHN/HQHN-NB")
    other_id = keycloak.get_user_id(other)
    assert other_id is not None
    role = keycloak.get_realm_role("system-admin")
    refusals = ("qlcb_identity_refusals_total", {"source": "keycloak"})
    counted_before = await metric_value(system, "identity", *refusals)
    async with keycloak_admin_api(system, system.token("qthanoi")) as direct:
        listing = await direct.get("/users")
        raise_own = await direct.post(f"/users/{own_id}/role-mappings/realm", json=[role])
        disable = await direct.put(f"/users/{other_id}", json={"enabled": False})
    assert (listing.status_code, raise_own.status_code, disable.status_code) == (403, 403, 403)
    assert "system-admin" not in {r["name"] for r in keycloak.get_realm_roles_of_user(own_id)}
    assert keycloak.get_user(other_id)["enabled"] is True

    expected = {
        ("keycloak.ACTION.USER", "users", "GET"),
        ("keycloak.CREATE.REALM_ROLE_MAPPING", f"users/{own_id}/role-mappings/realm", "POST"),
        ("keycloak.UPDATE.USER", f"users/{other_id}", "PUT"),
    }
    async with _identity(system, "quantri") as sysadmin:

        async def refused() -> set[tuple[str, str, str]]:
            response = await sysadmin.get("/v1/audit", params={"username": "qthanoi", "outcome": "refused"})
            assert response.status_code == 200, response.text
            return {(e["action"], e["target"], (e["after"] or {}).get("method", "")) for e in response.json()}

        await eventually(refused, lambda got: expected <= got, timeout=60, what="the refusals in the audit log")
    # The counter moves just after the audit rows commit.
    await eventually(
        lambda: metric_value(system, "identity", *refusals),
        lambda counted: counted >= counted_before + len(expected),
        timeout=30,
        what="the refusals counted",
    )
