"""The realm as code: applied by identity at start-up, drift reported and corrected, and the
password policy (R-ACC-7) and brute-force protection enforced by Keycloak itself."""

from __future__ import annotations

import os
import subprocess
import sys

import grpc
import httpx
import pytest
from keycloak.exceptions import KeycloakError

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_devstack.stack import realm_file
from tests.support import RETIRED_AUDIENCE, System, api_audiences, audience_mapper, eventually, unique_code


async def _drift(system: System) -> list[dict[str, str]]:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.services.identity_url, headers=headers, timeout=60) as api:
        response = await api.get("/v1/realm/drift")
    assert response.status_code == 200, response.text
    drift: list[dict[str, str]] = response.json()
    return drift


def _realm_command(system: System, action: str) -> subprocess.CompletedProcess[str]:
    keycloak = system.infra.keycloak
    env = dict(
        os.environ,
        QLCB_IDENTITY_KEYCLOAK_URL=keycloak.base_url,
        QLCB_IDENTITY_KEYCLOAK_ADMIN_USERNAME=keycloak.admin_user,
        QLCB_IDENTITY_KEYCLOAK_ADMIN_PASSWORD=keycloak.admin_password,
        QLCB_IDENTITY_REALM_FILE=str(realm_file()),
    )
    return subprocess.run(
        [sys.executable, "-m", "qlcb_identity", "realm", action], env=env, capture_output=True, text=True, timeout=120
    )


async def test_the_live_realm_matches_its_definition(system: System) -> None:
    assert await _drift(system) == []
    assert _realm_command(system, "diff").returncode == 0


async def test_drift_is_reported_then_corrected_by_the_command(system: System) -> None:
    admin = system.infra.keycloak_admin("qlcb")
    master = system.infra.keycloak_admin("master")
    master.update_realm("qlcb", {"passwordPolicy": "length(4)", "bruteForceProtected": False})
    admin.update_realm_role("local-admin", {"name": "local-admin", "description": "sửa tay"})
    # What a realm created from an older realm file still has.
    cli = admin.get_client_id("qlcb-cli")
    assert cli is not None
    admin.add_mapper_to_client(cli, audience_mapper(RETIRED_AUDIENCE))
    # Holders able to edit their own granted sections on Keycloak's account page.
    profile = admin.get_realm_users_profile()
    for attribute in profile["attributes"]:
        if attribute["name"] == "qlcb_sections":
            attribute["permissions"]["edit"] = ["admin", "user"]
    admin.update_realm_users_profile(profile)
    try:
        fields = {(d["kind"], d["name"], d["field"]) for d in await _drift(system)}
        assert ("realm", "qlcb", "passwordPolicy") in fields
        assert ("realm", "qlcb", "bruteForceProtected") in fields
        assert ("role", "local-admin", "description") in fields
        assert ("mapper", f"qlcb-cli audience {RETIRED_AUDIENCE}", "*") in fields
        assert ("profile attribute", "qlcb_sections", "permissions.edit") in fields
        diff = _realm_command(system, "diff")
        assert diff.returncode == 1
        assert "passwordPolicy" in diff.stdout
    finally:
        applied = _realm_command(system, "apply")
    assert applied.returncode == 0, applied.stderr
    assert "corrected" in applied.stdout
    assert await _drift(system) == []
    (sections,) = [a for a in admin.get_realm_users_profile()["attributes"] if a["name"] == "qlcb_sections"]
    assert sections["permissions"]["edit"] == ["admin"]
    assert RETIRED_AUDIENCE not in api_audiences(
        password_token(system.infra.keycloak.base_url, "quantri", system.passwords["quantri"])
    )


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Ab1!xyz", "invalidPasswordMinLength"),
        ("abcdefgh1", "invalidPasswordRegexPattern"),
        ("ABCDEFGH!", "invalidPasswordRegexPattern"),
        ("Pre{username}1!", "invalidPasswordNotContainsUsername"),
    ],
)
def test_password_policy_names_the_broken_rule(system: System, password: str, rule: str) -> None:
    admin = system.infra.keycloak_admin("qlcb")
    username = unique_code("pw").lower()
    user_id = ensure_user(admin, Account(username, "Hợp lệ 2026", "self", None, "Thử Mật Khẩu"))
    with pytest.raises(KeycloakError) as error:
        admin.set_user_password(user_id, password.format(username=username), temporary=False)
    assert rule in str(error.value)


def test_three_of_four_classes_pass_and_history_is_kept(system: System) -> None:
    admin = system.infra.keycloak_admin("qlcb")
    username = unique_code("pw").lower()
    user_id = ensure_user(admin, Account(username, "abc DEF 12", "self", None, "Thử Lịch Sử"))
    for acceptable in ("lower UPPER", "lower 1234", "UPPER 1234x"):
        admin.set_user_password(user_id, acceptable, temporary=False)
    with pytest.raises(KeycloakError) as error:
        admin.set_user_password(user_id, "abc DEF 12", temporary=False)
    assert "invalidPasswordHistory" in str(error.value)


def test_brute_force_locks_the_account_for_a_while(system: System) -> None:
    admin = system.infra.keycloak_admin("qlcb")
    username = unique_code("bf").lower()
    ensure_user(admin, Account(username, "Đúng mật khẩu 1", "self", None, "Thử Khóa"))
    base = system.infra.keycloak.base_url
    for _ in range(5):
        with pytest.raises(httpx.HTTPStatusError):
            password_token(base, username, "Sai mật khẩu 1")
    with pytest.raises(httpx.HTTPStatusError) as error:
        password_token(base, username, "Đúng mật khẩu 1")
    assert error.value.response.status_code in (400, 401)


@pytest.mark.parametrize("client_id", ["qlcb-identity", "qlcb-reports"])
async def test_service_clients_get_tokens_for_the_api_they_call(system: System, client_id: str) -> None:
    """Identity and reports call personnel: their service tokens are meant for personnel alone."""
    admin = system.infra.keycloak_admin("qlcb")
    internal_id = admin.get_client_id(client_id)
    assert internal_id is not None, f"{client_id} is defined in the realm file"
    secret = admin.get_client_secrets(internal_id)["value"]
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        response = await api.post(
            f"{system.infra.issuer}/protocol/openid-connect/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
        response.raise_for_status()
        token = response.json()["access_token"]
        me = await api.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api_audiences(token) == {"qlcb-personnel"}
    async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await personnel_pb2_grpc.PersonnelServiceStub(channel).GetUnit(
                personnel_pb2.GetUnitRequest(id=system.root_unit_id),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=10,
            )
    # Personnel knows the caller (the token is meant for it) and finds no tier on a service account.
    assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED, error.value.details()
    assert me.status_code == 401
    assert "qlcb-gateway" in me.json()["detail"]["message"]


async def test_changes_made_in_keycloak_directly_reach_the_audit_log(system: System) -> None:
    admin = system.infra.keycloak_admin("qlcb")
    username = unique_code("direct").lower()
    user_id = admin.create_user({"username": username, "enabled": True})
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.services.identity_url, headers=headers, timeout=30) as api:

        async def entries() -> list[dict[str, str]]:
            response = await api.get("/v1/audit", params={"target": f"users/{user_id}"})
            found: list[dict[str, str]] = response.json()
            return found

        log = await eventually(entries, lambda e: len(e) > 0, timeout=60, what="the admin event in the audit log")
    assert log[0]["action"] == "keycloak.CREATE.USER"
    assert log[0]["actor_username"].startswith("keycloak:")
