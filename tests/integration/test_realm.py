"""The realm as code: installed once by the installer's master admin, kept by identity with its
own client of the realm (which can do nothing beyond the admin roles it holds), drift reported and
corrected, the development overlay kept out of a production realm, and the password policy
(R-ACC-7) and brute-force protection enforced by Keycloak itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from keycloak.exceptions import KeycloakError

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_devstack.procs import wait_until
from qlcb_devstack.realm import client_secret, dev_overlay_file, install_realm, realm_file
from qlcb_identity.realm.definition import load
from tests.support import (
    RETIRED_AUDIENCE,
    System,
    api_audiences,
    audience_mapper,
    eventually,
    unique_code,
)

SHORT_LOCKOUT = 5
"""Seconds the brute-force test locks an account for, instead of the realm's minute."""


async def _drift(system: System) -> list[dict[str, str]]:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.services.identity_url, headers=headers, timeout=60) as api:
        response = await api.get("/v1/realm/drift")
    assert response.status_code == 200, response.text
    drift: list[dict[str, str]] = response.json()
    return drift


def _realm_command(
    system: System,
    action: str,
    *,
    file: Path | None = None,
    overlays: list[Path] | None = None,
    secret: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m qlcb_identity realm <action>` as identity runs it: its own client of the realm,
    by default the test system's realm file with the development overlay."""
    env = dict(
        os.environ,
        QLCB_ENVIRONMENT="development",
        QLCB_IDENTITY_KEYCLOAK_URL=system.infra.keycloak.base_url,
        QLCB_IDENTITY_KEYCLOAK_CLIENT_SECRET=secret or system.infra.identity_client_secret,
        QLCB_IDENTITY_REALM_FILE=str(file or realm_file()),
        QLCB_IDENTITY_REALM_OVERLAYS=json.dumps(
            [str(p) for p in ([dev_overlay_file()] if overlays is None else overlays)]
        ),
    )
    return subprocess.run(
        [sys.executable, "-m", "qlcb_identity", "realm", action], env=env, capture_output=True, text=True, timeout=120
    )


def _identity_service_account(system: System) -> str:
    admin = system.infra.keycloak_admin("qlcb")
    client = admin.get_client_id("qlcb-identity")
    assert client is not None
    user_id: str = admin.get_client_service_account_user(client)["id"]
    return user_id


def _identity_token(system: System) -> str:
    """What identity logs in with: its own client of the realm, client credentials."""
    response = httpx.post(
        f"{system.infra.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "qlcb-identity",
            "client_secret": system.infra.identity_client_secret,
        },
        timeout=30,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


async def test_the_live_realm_matches_its_definition(system: System) -> None:
    assert await _drift(system) == []
    assert _realm_command(system, "diff").returncode == 0


async def test_drift_is_reported_then_corrected_by_the_command(system: System) -> None:
    admin = system.infra.keycloak_admin("qlcb")
    master = system.infra.keycloak_admin("master")
    master.update_realm("qlcb", {"passwordPolicy": "length(4)", "bruteForceProtected": False})
    # Admin events kept forever again: refusals would pile up in Keycloak's store (16.7).
    master.update_realm("qlcb", {"attributes": {"adminEventsExpiration": "0"}})
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
    # A client the realm file no longer has (reports' unused service client), and someone "fixing"
    # identity's rights by hand.
    admin.create_client({"clientId": "qlcb-reports", "publicClient": False, "serviceAccountsEnabled": True})
    realm_management = admin.get_client_id("realm-management")
    assert realm_management is not None
    identity_account = _identity_service_account(system)
    admin.assign_client_role(
        identity_account, realm_management, [admin.get_client_role(realm_management, "realm-admin")]
    )
    try:
        fields = {(d["kind"], d["name"], d["field"]) for d in await _drift(system)}
        assert ("realm", "qlcb", "passwordPolicy") in fields
        assert ("realm", "qlcb", "bruteForceProtected") in fields
        assert ("realm", "qlcb", "attributes.adminEventsExpiration") in fields
        assert ("role", "local-admin", "description") in fields
        assert ("mapper", f"qlcb-cli audience {RETIRED_AUDIENCE}", "*") in fields
        assert ("profile attribute", "qlcb_sections", "permissions.edit") in fields
        assert ("client", "qlcb-reports", "*") in fields
        assert ("service account", "qlcb-identity", "realm-management roles") in fields
        diff = _realm_command(system, "diff")
        assert diff.returncode == 1
        assert "passwordPolicy" in diff.stdout
    finally:
        applied = _realm_command(system, "apply")
    assert applied.returncode == 0, applied.stderr
    assert "corrected" in applied.stdout
    assert await _drift(system) == []
    assert admin.get_client_id("qlcb-reports") is None
    stated = load(realm_file()).settings["attributes"]["adminEventsExpiration"]
    assert admin.get_realm("qlcb")["attributes"]["adminEventsExpiration"] == stated
    held = {r["name"] for r in admin.get_client_roles_of_user(identity_account, realm_management)}
    assert "realm-admin" not in held
    (sections,) = [a for a in admin.get_realm_users_profile()["attributes"] if a["name"] == "qlcb_sections"]
    assert sections["permissions"]["edit"] == ["admin"]
    assert RETIRED_AUDIENCE not in api_audiences(
        password_token(system.infra.keycloak.base_url, "quantri", system.passwords["quantri"])
    )


async def test_a_realm_without_backups_role_gets_it_and_backups_account_holds_it_again(system: System) -> None:
    """A realm created from a realm file older than backup's client (ADR 0025): the role its
    extension asks for is missing, so backup cannot export the realm; the sync gives it back."""
    admin = system.infra.keycloak_admin("qlcb")
    backup_client = admin.get_client_id("qlcb-backup")
    assert backup_client is not None
    admin.delete_client_role(backup_client, "realm-backup")
    try:
        fields = {(d["kind"], d["name"], d["field"]) for d in await _drift(system)}
        assert ("client role", "qlcb-backup realm-backup", "*") in fields
        assert ("service account", "qlcb-backup", "qlcb-backup roles") in fields
    finally:
        applied = _realm_command(system, "apply")
    assert applied.returncode == 0, applied.stderr
    assert await _drift(system) == []
    account = admin.get_client_service_account_user(backup_client)["id"]
    assert [r["name"] for r in admin.get_client_roles_of_user(account, backup_client)] == ["realm-backup"]


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
    username = f"pw{uuid.uuid4().int % 10**10:010d}"  # digits: no part a password below could hold
    user_id = ensure_user(admin, Account(username, "Hợp lệ 2026", "self", None, "Thử Mật Khẩu"))
    with pytest.raises(KeycloakError) as error:
        admin.set_user_password(user_id, password.format(username=username), temporary=False)
    assert rule in str(error.value)


@pytest.mark.parametrize("password", ["NộiBài@2026", "x-NOIBAI-7", "Canbo2026!", "Hà Nội noibai 1"])
def test_no_part_of_the_account_name_may_be_in_the_password(system: System, password: str) -> None:
    """002 Điều 6.5: "không được trùng với một phần tên của tài khoản": a piece of the username
    between its dots, in any case and with or without Vietnamese marks."""
    admin = system.infra.keycloak_admin("qlcb")
    username = f"canbo{uuid.uuid4().int % 10**6:06d}.noibai"
    user_id = ensure_user(admin, Account(username, "Hợp lệ 2026", "self", None, "Thử Tên Tài Khoản"))
    with pytest.raises(KeycloakError) as error:
        admin.set_user_password(user_id, password, temporary=False)
    assert "invalidPasswordNotContainsUsernamePart" in str(error.value)
    admin.set_user_password(user_id, "Nội Bài 2026", temporary=False)


def test_three_of_four_classes_pass_and_history_is_kept(system: System) -> None:
    admin = system.infra.keycloak_admin("qlcb")
    username = f"pw{uuid.uuid4().int % 10**10:010d}"  # digits: no part a password below could hold
    user_id = ensure_user(admin, Account(username, "abc DEF 12", "self", None, "Thử Lịch Sử"))
    for acceptable in ("lower UPPER", "lower 1234", "UPPER 1234x"):
        admin.set_user_password(user_id, acceptable, temporary=False)
    with pytest.raises(KeycloakError) as error:
        admin.set_user_password(user_id, "abc DEF 12", temporary=False)
    assert "invalidPasswordHistory" in str(error.value)


def test_brute_force_locks_the_account_for_a_while(system: System) -> None:
    """Wrong passwords in a row lock the account: even the right one is refused. The lockout is
    temporary: once Keycloak says it is over, without anyone clearing it, the right password works
    again. The realm's file waits a minute at first; the test shortens both waits to a few seconds
    while it runs (the mechanism is the same, and the drift check holds the realm to its file)."""
    admin = system.infra.keycloak_admin("qlcb")
    waits = ("waitIncrementSeconds", "minimumQuickLoginWaitSeconds")
    stated = {k: load(realm_file()).settings[k] for k in waits}
    assert min(stated.values()) >= 60, "a guessed password costs the guesser a minute at least"
    username = unique_code("bf").lower()
    user_id = ensure_user(admin, Account(username, "Đúng mật khẩu 1", "self", None, "Thử Khóa"))
    base = system.infra.keycloak.base_url
    admin.update_realm("qlcb", dict.fromkeys(waits, SHORT_LOCKOUT))
    try:
        for _ in range(5):
            with pytest.raises(httpx.HTTPStatusError):
                password_token(base, username, "Sai mật khẩu 1")
        with pytest.raises(httpx.HTTPStatusError) as error:
            password_token(base, username, "Đúng mật khẩu 1")
        assert error.value.response.status_code in (400, 401)
        assert admin.get_bruteforce_detection_status(user_id)["disabled"] is True
        wait_until(
            lambda: not admin.get_bruteforce_detection_status(user_id)["disabled"],
            timeout=SHORT_LOCKOUT + 30,
            what="the temporary lockout to end",
            interval=1,
        )
    finally:
        admin.update_realm("qlcb", stated)
    assert password_token(base, username, "Đúng mật khẩu 1")


async def test_identitys_token_reaches_no_qlcb_api(system: System) -> None:
    """Identity calls Keycloak's admin API and nothing else: its token is meant for none of the five APIs."""
    token = _identity_token(system)
    assert api_audiences(token) == set()
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        me = await api.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert "qlcb-gateway" in me.json()["detail"]["message"]
    async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await personnel_pb2_grpc.PersonnelServiceStub(channel).GetUnit(
                personnel_pb2.GetUnitRequest(id=system.root_unit_id),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=10,
            )
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED, error.value.details()


def test_identitys_token_does_its_work_in_its_realm_and_nothing_beyond(system: System) -> None:
    """16.6: identity holds no master credentials. Its client's token administers the qlcb realm's
    accounts and reads its admin events, but cannot read the master realm or its admins, create a
    realm, raise its own rights or take over an account by impersonation."""
    admin = system.infra.keycloak_admin("qlcb")
    realm_management = admin.get_client_id("realm-management")
    assert realm_management is not None
    realm_admin = admin.get_client_role(realm_management, "realm-admin")
    own_account = _identity_service_account(system)
    victim = admin.get_user_id("canbo.noibai")
    api = f"{system.infra.keycloak.base_url}/admin/realms"
    with httpx.Client(headers={"Authorization": f"Bearer {_identity_token(system)}"}, timeout=30) as keycloak:
        found = keycloak.get(f"{api}/qlcb/users", params={"username": "quantri", "exact": "true"})
        assert [user["username"] for user in found.json()] == ["quantri"]
        assert keycloak.get(f"{api}/qlcb/admin-events", params={"max": 1}).status_code == 200
        assert [realm["realm"] for realm in keycloak.get(api).json()] == ["qlcb"]
        refused = {
            "read the master realm": keycloak.get(f"{api}/master"),
            "list the master realm's admins": keycloak.get(f"{api}/master/users"),
            "create a realm": keycloak.post(api, json={"realm": unique_code("rogue"), "enabled": True}),
            "grant itself realm-admin": keycloak.post(
                f"{api}/qlcb/users/{own_account}/role-mappings/clients/{realm_management}", json=[realm_admin]
            ),
            "impersonate an account": keycloak.post(f"{api}/qlcb/users/{victim}/impersonation"),
        }
    assert {attempt: response.status_code for attempt, response in refused.items()} == dict.fromkeys(refused, 403)
    assert "realm-admin" not in {r["name"] for r in admin.get_client_roles_of_user(own_account, realm_management)}


@pytest.fixture
def production_realm(system: System, tmp_path: Path) -> Iterator[Path]:
    """The production realm file under a realm name of its own, installed by the master admin as an
    installer would, and removed afterwards."""
    payload = json.loads(realm_file().read_text(encoding="utf-8"))
    payload["realm"] = f"prod-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "realm-production.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    install_realm(system.infra.keycloak, load(path))
    try:
        yield path
    finally:
        system.infra.keycloak_admin("master").delete_realm(payload["realm"])


def test_a_production_realm_is_kept_without_the_development_overlay(system: System, production_realm: Path) -> None:
    """16.9: installed from the production file, the realm has no password-grant client and no local
    address, and identity's sync (no overlay named) takes away what development would add."""
    name = load(production_realm).name
    secret = client_secret(system.infra.keycloak, name)
    assert _realm_command(system, "diff", file=production_realm, overlays=[], secret=secret).returncode == 0
    admin = system.infra.keycloak_admin(name)
    ensure_user(admin, Account("thu.sanxuat", "Hợp lệ 2026", "self", None, "Thử Sản Xuất"))

    def password_grant(client_id: str) -> httpx.Response:
        return httpx.post(
            f"{system.infra.keycloak.base_url}/realms/{name}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": client_id,
                "username": "thu.sanxuat",
                "password": "Hợp lệ 2026",
            },
            timeout=30,
        )

    # The right password, and still no token: no client of the realm takes it.
    for client_id in ("qlcb-cli", "admin-cli", "qlcb-gateway"):
        refused = password_grant(client_id)
        assert refused.json()["error"] in ("invalid_client", "unauthorized_client"), (client_id, refused.text)

    # What a realm created from the former combined file, or a hand, adds.
    dev = {c["clientId"]: c for c in load(production_realm, [dev_overlay_file()]).clients}
    admin.create_client(dev["qlcb-cli"])
    web = admin.get_client_id("qlcb-gateway")
    assert web is not None
    admin.update_client(web, {"redirectUris": dev["qlcb-gateway"]["redirectUris"], "webOrigins": ["+"]})
    assert password_grant("qlcb-cli").status_code == 200

    applied = _realm_command(system, "apply", file=production_realm, overlays=[], secret=secret)
    assert applied.returncode == 0, applied.stderr
    assert "corrected: client qlcb-cli: not in the definition" in applied.stdout
    assert password_grant("qlcb-cli").json()["error"] == "invalid_client"
    live_web = admin.get_client(web)
    assert live_web["redirectUris"] == []
    assert live_web["webOrigins"] == []
    assert _realm_command(system, "diff", file=production_realm, overlays=[], secret=secret).returncode == 0


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
