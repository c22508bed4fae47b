"""The Keycloak realm as a part of a backup set (issue 12, points 1 and 5; ADR 0025), on the real
Keycloak with the realm-backup extension: a restore into a fresh realm where an account made before
the backup logs in with its password and keeps its groups and roles, while one made after is
absent; the extension refusing anyone but backup's own account; a restore into an existing realm
refused with the live realm unchanged; a tampered part refused; the switch of a verified copy; the
removal of a copy of a realm with another agency's identity provider, which leaves the live realm's
federation in place; the switch through the restore workflow on a realm of the test's own, after
which identity relinks its accounts by username (ADR 0029); and no secret in the backup service's
log or Keycloak's."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import httpx
import jwt
import nats
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from qlcb.backup.v1 import backup_pb2, backup_pb2_grpc
from qlcb_backup.sets.writing import SETS_DIR
from qlcb_backup.stores.keycloak import EXTENSION, KeycloakStore
from qlcb_common.events import streams, subjects
from qlcb_common.settings import ENVIRONMENT_VARIABLE, Environment, api_audience
from qlcb_devstack import demo
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.probes import http_ok
from qlcb_devstack.procs import ManagedProcess, free_port, wait_until
from qlcb_devstack.realm import BACKUP_CLIENT, IDENTITY_CLIENT, dev_overlay_file, realm_file
from qlcb_devstack.stack import REALM
from tests.support import System, eventually, mailed_code, metric_at, unique_code

ADMIN = "quantri"
SECOND_ADMIN = "quantri2"
TIER = "hq-unit"


def _account(prefix: str) -> Account:
    """A new login of the hq-unit tier in a demo unit, with a password the realm's policy accepts (its
    digits hold no part of the name)."""
    unit = next(a.unit_path for a in demo.accounts() if a.tier == TIER)
    password = f"Kc{secrets.randbelow(10**12):012d}!a"
    return Account(unique_code(prefix).lower(), password, TIER, unit, "Nguyễn Văn Sao Lưu")


def _store(system: System, realm: str = REALM) -> KeycloakStore:
    """The store as the backup service builds it: its own client of `realm` (ADR 0025)."""
    return KeycloakStore(
        url=system.infra.keycloak.base_url,
        realm=realm,
        client_id=BACKUP_CLIENT,
        client_secret=SecretStr(system.infra.backup_client_secret),
        timeout_seconds=120,
    )


def _extension(system: System, path: str, realm: str = REALM) -> str:
    return f"{system.infra.keycloak.base_url}/realms/{realm}/{EXTENSION}/{path}"


def _login(system: System, account: Account, realm: str) -> httpx.Response:
    return httpx.post(
        f"{system.infra.keycloak.base_url}/realms/{realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "qlcb-cli",
            "username": account.username,
            "password": account.password,
        },
        timeout=30,
    )


def _refused(login: httpx.Response) -> bool:
    """A password grant Keycloak refused for unknown credentials (400 or 401, `invalid_grant`)."""
    return login.status_code in (400, 401) and login.json().get("error") == "invalid_grant"


def _realm_exists(system: System, realm: str) -> bool:
    answer = httpx.get(f"{system.infra.keycloak.base_url}/realms/{realm}", timeout=30)
    assert answer.status_code in (200, 404), answer.text
    return answer.status_code == 200


@pytest.fixture
def realms(system: System) -> Iterator[list[str]]:
    """Names of the realms a test creates; removed after it by the master admin."""
    created: list[str] = []
    yield created
    admin = system.infra.keycloak_admin("master")
    for name in created:
        if _realm_exists(system, name):
            admin.delete_realm(name)


async def _take_realm(system: System) -> backup_pb2.BackupSet:
    """A set of the realm alone, asked of backup's gRPC API with a deadline of minutes: an import of a
    whole realm takes longer than the gateway's ten seconds on a busy machine (the report says so)."""
    async with _backup(system) as stub:
        reply: backup_pb2.CreateBackupSetResponse = await stub.CreateBackupSet(
            backup_pb2.CreateBackupSetRequest(stores=["keycloak"]), metadata=_caller(system), timeout=300
        )
    assert reply.set.status == "good"
    backup_set: backup_pb2.BackupSet = reply.set
    return backup_set


async def _request(system: System, backup_set: backup_pb2.BackupSet, suffix: str) -> backup_pb2.Restore:
    """A restore of the set's realm into `keycloak_<suffix>`, asked by one system admin."""
    async with _backup(system) as stub:
        reply: backup_pb2.RequestRestoreResponse = await stub.RequestRestore(
            backup_pb2.RequestRestoreRequest(
                set_id=backup_set.id, stores=["keycloak"], target_suffix=suffix, reason="Kiểm tra realm"
            ),
            metadata=_caller(system),
            timeout=60,
        )
    return reply.restore


async def _restore(system: System, backup_set: backup_pb2.BackupSet, suffix: str) -> backup_pb2.RestoredPart:
    """That restore, confirmed by a second system admin; answers its part."""
    requested = await _request(system, backup_set, suffix)
    async with _backup(system) as stub:
        reply: backup_pb2.ConfirmRestoreResponse = await stub.ConfirmRestore(
            backup_pb2.ConfirmRestoreRequest(restore_id=requested.id),
            metadata=_caller(system, SECOND_ADMIN),
            timeout=300,
        )
    (part,) = reply.restore.parts
    return part


@asynccontextmanager
async def _backup(system: System) -> AsyncIterator[backup_pb2_grpc.BackupServiceStub]:
    async with grpc.aio.insecure_channel(system.services.backend_target("backup")) as channel:
        yield backup_pb2_grpc.BackupServiceStub(channel)


def _caller(system: System, login: str = ADMIN) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {system.token(login)}"),)


async def test_a_restored_realm_lets_earlier_accounts_log_in_with_their_groups_and_roles(
    system: System, realms: list[str]
) -> None:
    admin = system.infra.keycloak_admin()
    first, after = _account("kc_before"), _account("kc_after")
    # A second password: the first one becomes password history, which the restore keeps too.
    before = replace(first, password=_account("kc_before").password)
    admin.set_user_password(ensure_user(admin, first), before.password, temporary=False)
    backup_set = await _take_realm(system)
    ensure_user(admin, after)
    (part,) = backup_set.parts
    assert part.store == "keycloak"
    suffix = unique_code("kc_restore").lower()
    target = f"keycloak_{suffix}"
    realms.append(target)

    restored = await _restore(system, backup_set, suffix)
    assert restored.target == target

    assert restored.verified
    assert restored.content_digest == part.content_digest
    login = _login(system, before, target)
    assert login.status_code == 200, login.text
    claims = jwt.decode(login.json()["access_token"], options={"verify_signature": False})
    assert claims["iss"].endswith(f"/realms/{target}")
    assert TIER in claims["realm_access"]["roles"]
    in_copy = system.infra.keycloak_admin(target)
    user_id = in_copy.get_user_id(before.username)
    assert user_id is not None
    assert user_id != admin.get_user_id(before.username), "a restored account gets a new internal id"
    assert [g["path"] for g in in_copy.get_user_groups(user_id)] == [before.unit_path]
    assert in_copy.get_user_id(after.username) is None
    assert _refused(_login(system, first, target)), "only the account's newest password opens it"
    assert _refused(_login(system, after, target))
    # The live realm is as it was: both accounts log in there.
    assert _login(system, before, REALM).status_code == 200
    assert _login(system, after, REALM).status_code == 200


def _client_token(system: System, client_id: str, secret: str) -> str:
    answer = httpx.post(
        f"{system.infra.issuer}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=30,
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def test_the_extension_answers_only_backups_own_account(system: System) -> None:
    url = _extension(system, f"realms/{REALM}")
    identity_token = _client_token(system, IDENTITY_CLIENT, system.infra.identity_client_secret)
    backup_token = _client_token(system, BACKUP_CLIENT, system.infra.backup_client_secret)

    anonymous = httpx.get(url, timeout=30)
    forged = httpx.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=30)
    # A system admin of the realm, and identity, which administers the realm: neither is backup.
    system_admin = httpx.get(url, headers={"Authorization": f"Bearer {system.token(ADMIN)}"}, timeout=30)
    identity = httpx.get(url, headers={"Authorization": f"Bearer {identity_token}"}, timeout=30)
    # Backup's own token reaches its realm only: never the master realm, nor another realm it did not import.
    master = httpx.get(
        _extension(system, "realms/master"), headers={"Authorization": f"Bearer {backup_token}"}, timeout=30
    )
    backup = httpx.get(url, headers={"Authorization": f"Bearer {backup_token}"}, timeout=30)

    assert (anonymous.status_code, forged.status_code) == (401, 401)
    assert (system_admin.status_code, identity.status_code) == (403, 403)
    assert master.status_code == 400
    assert backup.status_code == 200
    assert backup.json()["realm"] == REALM
    assert any(u["username"] == ADMIN and u["credentials"] for u in backup.json()["users"])


async def test_a_restore_into_an_existing_realm_is_refused_and_changes_nothing(
    system: System, realms: list[str], tmp_path: Path
) -> None:
    backup_set = await _take_realm(system)
    store = _store(system)
    live = await _settled(store, tmp_path)
    suffix = unique_code("kc_taken").lower()
    taken = f"keycloak_{suffix}"
    system.infra.keycloak_admin("master").create_realm({"realm": taken, "enabled": True})
    realms.append(taken)

    with pytest.raises(grpc.aio.AioRpcError) as through_api:
        await _request(system, backup_set, suffix)
    backup_token = _client_token(system, BACKUP_CLIENT, system.infra.backup_client_secret)
    async with httpx.AsyncClient(timeout=60) as client:
        direct = await client.put(
            _extension(system, f"realms/{REALM}"),
            content=(tmp_path / "0.json").read_bytes(),
            headers={"Authorization": f"Bearer {backup_token}", "Content-Type": "application/json"},
        )

    assert through_api.value.code() is grpc.StatusCode.ALREADY_EXISTS
    assert f"{taken} đã tồn tại" in (through_api.value.details() or "")
    assert direct.status_code == 409, direct.text
    assert await store.dump(tmp_path / "after.json") == live


async def _settled(store: KeycloakStore, folder: Path) -> str:
    """The live realm's digest once two exports in a row agree: identity's projections write
    accounts and groups into the realm a little after the events of the suite's seeding."""
    digests: list[str] = []

    async def latest() -> list[str]:
        digests.append(await store.dump(folder / f"{len(digests)}.json"))
        return digests[-2:]

    await eventually(latest, lambda last: len(last) == 2 and last[0] == last[1], timeout=120, what="a settled realm")
    return digests[-1]


async def test_a_tampered_realm_part_is_refused_and_no_realm_is_created(system: System) -> None:
    backup_set = await _take_realm(system)
    path = system.services.run_dir / "backups" / SETS_DIR / backup_set.id / "keycloak.part"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    suffix = unique_code("kc_tampered").lower()
    target = f"keycloak_{suffix}"

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _restore(system, backup_set, suffix)

    assert refused.value.code() is grpc.StatusCode.DATA_LOSS
    assert "keycloak.part" in (refused.value.details() or "")
    assert not _realm_exists(system, target)


async def test_switch_makes_the_verified_copy_the_live_realm_and_keeps_the_former_one(
    system: System, realms: list[str], tmp_path: Path
) -> None:
    """On a realm of this test's own (a copy of qlcb, with backup's client and its secret), so that
    the suite's realm stays: a backup of it, an account made after, then the switch."""
    own = unique_code("kc_live").lower()
    copy, kept = unique_code("kc_copy").lower(), unique_code("kc_kept").lower()
    realms.extend([own, copy, kept])
    before, after = _account("kc_sw_before"), _account("kc_sw_after")
    ensure_user(system.infra.keycloak_admin(), before)
    await _store(system).restore(await _dump(_store(system), tmp_path / "qlcb.json"), own)
    live = _store(system, own)
    digest = await live.dump(tmp_path / "own.json")
    ensure_user(system.infra.keycloak_admin(own), after)
    assert await live.restore(tmp_path / "own.json", copy) == digest

    await live.switch(copy, keep_as=kept)

    assert not _realm_exists(system, copy)
    assert _login(system, before, own).status_code == 200
    assert _refused(_login(system, after, own)), "the live realm is now the copy, from before"
    assert _login(system, after, kept).status_code == 200, "the former realm is kept under its new name"
    assert await live.dump(tmp_path / "switched.json") == digest
    token = password_token(system.infra.keycloak.base_url, before.username, before.password, realm=own)
    assert jwt.decode(token, options={"verify_signature": False})["iss"].endswith(f"/realms/{own}")


async def test_a_copy_of_a_federating_realm_is_removed_and_the_live_realm_keeps_its_identity_providers(
    system: System, realms: list[str], tmp_path: Path
) -> None:
    """What a drill does once another agency federates in: its copy of the realm, with the agency's
    identity provider and mappers, is removed again, and the live realm's provider and mappers stay."""
    own, copy = unique_code("kc_fed").lower(), unique_code("kc_fedcopy").lower()
    realms.extend([own, copy])
    await _store(system).restore(await _dump(_store(system), tmp_path / "qlcb.json"), own)
    admin = system.infra.keycloak_admin(own)
    alias = "coquanfed"
    admin.create_idp(
        {
            "alias": alias,
            "providerId": "oidc",
            "enabled": True,
            "config": {
                "authorizationUrl": "https://agency.example/auth",
                "tokenUrl": "https://agency.example/token",
                "clientId": "qlcb",
                "clientSecret": "agency-secret",
            },
        }
    )
    admin.add_mapper_to_idp(
        alias,
        {
            "name": "unit-leader from claim",
            "identityProviderAlias": alias,
            "identityProviderMapper": "oidc-role-idp-mapper",
            "config": {"syncMode": "FORCE", "claim": "agency_groups", "claim.value": "x", "role": "unit-leader"},
        },
    )
    live = _store(system, own)
    await live.restore(await _dump(live, tmp_path / "own.json"), copy)
    assert [m["name"] for m in system.infra.keycloak_admin(copy).get_idp_mappers(alias)] == ["unit-leader from claim"]

    await live.discard(copy)

    assert not _realm_exists(system, copy)
    assert [p["alias"] for p in admin.get_idps()] == [alias]
    assert [m["name"] for m in admin.get_idp_mappers(alias)] == ["unit-leader from claim"]


async def _dump(store: KeycloakStore, path: Path) -> Path:
    await store.dump(path)
    return path


async def test_no_secret_reaches_the_backup_services_log_nor_keycloaks(
    system: System, realms: list[str], tmp_path: Path
) -> None:
    account = _account("kc_secret")
    ensure_user(system.infra.keycloak_admin(), account)
    suffix = unique_code("kc_logs").lower()
    target = f"keycloak_{suffix}"
    realms.append(target)
    assert (await _restore(system, await _take_realm(system), suffix)).verified
    exported = await _store(system).dump(tmp_path / "realm.json")
    assert exported
    realm = (tmp_path / "realm.json").read_text()
    hashes = _password_hashes(realm, account.username)
    assert hashes, "the export holds the account's password hash"

    backup_log = system.services.processes["backup"].log_path.read_text(encoding="utf-8", errors="replace")
    keycloak_log = (system.infra.keycloak.data_dir / "keycloak.log").read_text(encoding="utf-8", errors="replace")
    assert f"realm {target} imported" in keycloak_log
    for log in (backup_log, keycloak_log):
        assert system.infra.backup_client_secret not in log
        assert account.password not in log
        assert not any(h in log for h in hashes)
    # No bearer token: every JWT starts with the base64 of '{"'.
    assert "eyJ" not in backup_log


def _password_hashes(realm_json: str, username: str) -> list[str]:
    user = next(u for u in json.loads(realm_json)["users"] if u["username"] == username)
    return [json.loads(c["secretData"])["value"] for c in user["credentials"] if c["type"] == "password"]


@dataclass
class OwnRealm:
    """A realm of this test's own (a copy of qlcb: its accounts, clients and their secrets) with an
    identity and a backup process of its own that take their callers' tokens from it, on a NATS
    server of their own: switching it in leaves the suite's realm, identity and streams as they were,
    so no later module sees the switch."""

    system: System
    run_dir: Path
    name: str
    nats: NatsServer
    identity_port: int = field(default_factory=free_port)
    backup_grpc_port: int = field(default_factory=free_port)
    backup_ops_port: int = field(default_factory=free_port)
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    @property
    def identity_url(self) -> str:
        return f"http://127.0.0.1:{self.identity_port}"

    def token(self, username: str) -> str:
        """A fresh token of a seeded account from this realm: after the switch, of its restored account."""
        return password_token(
            self.system.infra.keycloak.base_url, username, self.system.passwords[username], realm=self.name
        )

    def identity(self, username: str = ADMIN, *, token: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.identity_url,
            headers={"Authorization": f"Bearer {token or self.token(username)}"},
            timeout=60,
        )

    async def backup(self, method: str, request: Any, *, login: str = ADMIN, token: str | None = None) -> Any:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.backup_grpc_port}") as channel:
            call = getattr(backup_pb2_grpc.BackupServiceStub(channel), method)
            metadata = (("authorization", f"Bearer {token or self.token(login)}"),)
            return await call(request, metadata=metadata, timeout=300)

    def start(self) -> None:
        infra, postgres = self.system.infra, self.system.infra.postgres
        assert postgres is not None
        databases = {service: f"{service}_{self.name}" for service in ("identity", "backup")}
        for database in databases.values():
            postgres.create_database(database)
        overlay = self.run_dir / "realm-name.json"
        overlay.write_text(json.dumps({"realm": self.name}))
        common = {
            ENVIRONMENT_VARIABLE: Environment.DEVELOPMENT,
            "QLCB_OIDC_ISSUER": f"{infra.keycloak.base_url}/realms/{self.name}",
            "PYTHONUNBUFFERED": "1",
        }
        identity, backup = "QLCB_IDENTITY_", "QLCB_BACKUP_"
        environments = {
            "identity": {
                **common,
                "QLCB_OIDC_AUDIENCE": api_audience("identity"),
                identity + "PORT": str(self.identity_port),
                identity + "KEYCLOAK_URL": infra.keycloak.base_url,
                identity + "KEYCLOAK_CLIENT_SECRET": infra.identity_client_secret,
                identity + "REALM_FILE": str(realm_file()),
                identity + "REALM_OVERLAYS": json.dumps([str(dev_overlay_file()), str(overlay)]),
                identity + "DATABASE_URL": postgres.dsn(databases["identity"]),
                identity + "CREDENTIAL_KEYS": json.dumps([Fernet.generate_key().decode()]),
                identity + "SMTP_HOST": infra.mail.host,
                identity + "SMTP_PORT": str(infra.mail.port),
                **self.nats.client_env(identity, "identity"),
            },
            "backup": {
                **common,
                "QLCB_OIDC_AUDIENCE": api_audience("backup"),
                backup + "GRPC_PORT": str(self.backup_grpc_port),
                backup + "OPS_PORT": str(self.backup_ops_port),
                backup + "DATABASE_URL": postgres.dsn(databases["backup"]),
                backup + "BACKUP_DIR": str(self.run_dir / "backups"),
                backup + "PG_BIN_DIR": str(postgres.bin_dir),
                backup + "KEYS": json.dumps({"k1": base64.b64encode(secrets.token_bytes(32)).decode()}),
                backup + "CURRENT_KEY_ID": "k1",
                backup + "STREAMS_STORE": "false",
                backup + "KEYCLOAK_URL": infra.keycloak.base_url,
                backup + "KEYCLOAK_REALM": self.name,
                backup + "KEYCLOAK_CLIENT_SECRET": infra.backup_client_secret,
                **self.nats.client_env(backup, "backup"),
            },
        }
        for service, env in environments.items():
            process = ManagedProcess(
                f"{service}-{self.name}", [sys.executable, "-m", f"qlcb_{service}"], log_dir=self.run_dir, env=env
            )
            self.processes[service] = process
            process.start()
        for service, port in (("identity", self.identity_port), ("backup", self.backup_ops_port)):
            wait_until(
                lambda p=port: http_ok(f"http://127.0.0.1:{p}/readyz"),  # type: ignore[misc]
                timeout=120,
                what=f"the realm's own {service} to be ready",
                process=self.processes[service],
            )

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
        self.nats.stop()


@pytest.fixture
async def own_realm(system: System, realms: list[str], tmp_path: Path) -> AsyncIterator[OwnRealm]:
    name = unique_code("kc_own").lower()
    realms.append(name)
    await _store(system).restore(await _dump(_store(system), tmp_path / "qlcb.json"), name)
    nats = NatsServer(data_dir=tmp_path / "nats")
    nats.start()
    own = OwnRealm(system, tmp_path, name, nats)
    try:
        nats.wait_ready()
        await asyncio.to_thread(own.start)
        yield own
    finally:
        own.stop()


async def _purpose_account(own: OwnRealm, unit: str) -> dict[str, str]:
    async with own.identity() as sysadmin:
        issued = await sysadmin.post(
            "/v1/purpose-accounts", json={"unit_path": unit, "purpose": unique_code("Sao lưu "), "tier": TIER}
        )
    assert issued.status_code == 201, issued.text
    account: dict[str, str] = issued.json()["account"]
    return account


async def _account_request(own: OwnRealm) -> str:
    """A personal account issued through identity's whole workflow (ADR 0029's other link): asked by
    Hà Nội's personnel officer, consented by the unit head, approved by the local admin, issued by
    the system admin; its username."""
    leader = Account("thutruong.hanoi", "Thủ trưởng 2026", "unit-leader", "/TCHQ/HQHN", "Ngô Văn Trưởng")
    ensure_user(own.system.infra.keycloak_admin(own.name), leader)
    head_token = password_token(own.system.infra.keycloak.base_url, leader.username, leader.password, realm=own.name)
    holder = unique_code("Nguyễn Văn Yêu Cầu ")
    body = {
        "holder_name": holder,
        "holder_email": f"{holder[-8:].lower()}@haiquan.example",
        "unit_path": "/TCHQ/HQHN/HQHN-NB",
        "division": "Đội nghiệp vụ",
        "position": "Công chức",
        "phone": "0912345678",
        "account_types": ["self"],
        "reply_name": "Vũ Thị Hà",
        "reply_unit": "Phòng TCCB",
        "reply_email": "tccb@qlcb.example",
        "reply_phone": "0912345679",
        "requester_name": "Vũ Thị Hà",
    }
    async with (
        own.identity("nhansu1.hanoi") as officer,
        own.identity(token=head_token) as head,
        own.identity("qthanoi") as admin,
        own.identity() as sysadmin,
    ):
        request = (await officer.post("/v1/account-requests", json=body)).json()
        assert (await head.post(f"/v1/account-requests/{request['id']}/consent")).status_code == 200
        assert (await admin.post(f"/v1/account-requests/{request['id']}/approve")).status_code == 200
        issued = await sysadmin.post(f"/v1/account-requests/{request['id']}/issue")
    assert issued.status_code == 201, issued.text
    username: str = issued.json()["username"]
    return username


async def _hand_over(own: OwnRealm, account: dict[str, str], recipient: str) -> httpx.Response:
    async with own.identity() as sysadmin:
        return await sysadmin.post(
            f"/v1/purpose-accounts/{account['id']}/holders",
            json={
                "holder_name": "Phạm Thị Giữ",
                "holder_email": recipient,
                "since": datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat(),
            },
        )


async def _audit(own: OwnRealm, action: str) -> list[dict[str, Any]]:
    async with own.identity() as sysadmin:
        answer = await sysadmin.get("/v1/audit", params={"action": action})
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()
    return entries


async def _redeliver_switched(own: OwnRealm) -> None:
    """Publishes the switched event again as it is in the stream, without its message id, so JetStream
    keeps it as a new message and identity's consumer receives the same event a second time."""
    user, password = own.nats.credentials("ops")
    nc = await nats.connect(own.nats.url, user=user, password=password, allow_reconnect=False)
    try:
        js = nc.jetstream()
        switched = await js.get_last_msg(streams.BACKUP.name, subjects.BACKUP_RESTORE_SWITCHED)
        assert switched.data is not None
        await js.publish(subjects.BACKUP_RESTORE_SWITCHED, switched.data, stream=streams.BACKUP.name)
    finally:
        await nc.close()


async def test_a_switched_realm_keeps_its_accounts_and_identity_relinks_them_by_username(
    system: System, own_realm: OwnRealm, realms: list[str]
) -> None:
    """The realm restored by two admins and switched in: accounts from before log in with their
    passwords, identity's purpose account from before is acted on through its relinked id, the one
    made after the backup is reported and refused, a redelivered event relinks nothing twice; a switch
    whose kept name is taken answers a clear error with the live realm serving, and a second switch of
    a switched restore is refused."""
    own, keycloak = own_realm, system.infra.keycloak_admin(own_realm.name)
    unit = next(a.unit_path for a in demo.accounts() if a.tier == TIER)
    assert unit is not None
    before, after = _account("kc_rl_before"), _account("kc_rl_after")
    ensure_user(keycloak, before)
    async with own.identity() as sysadmin:
        quota = await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 1000})
    assert quota.status_code == 200, quota.text
    kept_account = await _purpose_account(own, unit)
    kept_personal = await _account_request(own)
    former_id = keycloak.get_user_id(kept_account["username"])
    taken: backup_pb2.CreateBackupSetResponse = await own.backup(
        "CreateBackupSet", backup_pb2.CreateBackupSetRequest(stores=["keycloak"])
    )
    assert taken.set.status == "good", taken.set.failure
    ensure_user(keycloak, after)
    new_account = await _purpose_account(own, unit)
    new_personal = await _account_request(own)
    suffix = unique_code("rl").lower()
    target, kept = f"keycloak_{suffix}", f"keycloak_truoc_{suffix}"
    realms.extend([target, kept])

    def ask(on_suffix: str) -> backup_pb2.RequestRestoreRequest:
        return backup_pb2.RequestRestoreRequest(
            set_id=taken.set.id, stores=["keycloak"], target_suffix=on_suffix, reason="Phục hồi realm"
        )

    requested: backup_pb2.RequestRestoreResponse = await own.backup("RequestRestore", ask(suffix))
    confirmed: backup_pb2.ConfirmRestoreResponse = await own.backup(
        "ConfirmRestore", backup_pb2.ConfirmRestoreRequest(restore_id=requested.restore.id), login=SECOND_ADMIN
    )
    assert (confirmed.restore.status, confirmed.restore.parts[0].verified) == ("verified", True)
    # Asked under the former realm, to be confirmed after the switch (below).
    pending: backup_pb2.RequestRestoreResponse = await own.backup("RequestRestore", ask(f"{suffix}_b"))
    former_token = own.token(ADMIN)
    switch = backup_pb2.SwitchRestoreRequest(restore_id=requested.restore.id, replace_live=True)

    # The name the live realm is to be kept under is taken: nothing is renamed, the live realm serves.
    system.infra.keycloak_admin("master").create_realm({"realm": kept, "enabled": True})
    with pytest.raises(grpc.aio.AioRpcError) as blocked:
        await own.backup("SwitchRestore", switch)
    assert blocked.value.code() is grpc.StatusCode.ALREADY_EXISTS
    assert f"keep_as: realm {kept} đã tồn tại" in (blocked.value.details() or "")
    assert _login(system, after, own.name).status_code == 200, "the live realm is still the former one"
    assert _realm_exists(system, target)
    listed: backup_pb2.ListRestoresResponse = await own.backup("ListRestores", backup_pb2.ListRestoresRequest())
    assert {r.id: r.status for r in listed.restores}[requested.restore.id] == "verified"
    system.infra.keycloak_admin("master").delete_realm(kept)

    switched: backup_pb2.SwitchRestoreResponse = await own.backup("SwitchRestore", switch)

    assert (switched.restore.status, switched.restore.parts[0].kept_as) == ("switched", kept)
    assert not _realm_exists(system, target)
    assert _login(system, before, own.name).status_code == 200, "an account from before logs in with its password"
    assert _refused(_login(system, after, own.name)), "an account made after the backup is not in the live realm"
    assert _login(system, after, kept).status_code == 200
    relinked_id = keycloak.get_user_id(kept_account["username"])
    assert relinked_id not in (None, former_id)
    relinks = await eventually(
        lambda: _audit(own, "realm.relink"), lambda entries: len(entries) == 1, timeout=60, what="identity's relink"
    )
    # Both links made before the backup are relinked; both made after are reported.
    assert relinks[0]["target"] == requested.restore.id
    assert (relinks[0]["after"]["relinked"], relinks[0]["after"]["unchanged"]) == (2, 0)
    assert sorted(relinks[0]["after"]["unlinked"]) == sorted([new_account["username"], new_personal])
    unlinked = await _audit(own, "account.unlinked")
    assert sorted((e["target"], e["after"]["restore"]) for e in unlinked) == sorted(
        [(new_account["username"], requested.restore.id), (new_personal, requested.restore.id)]
    )
    assert await metric_at(own.identity_url, "qlcb_identity_accounts_unlinked", {}) == 2
    assert keycloak.get_user_id(kept_personal) is not None

    # The purpose account from before changes hands through its relinked id: its holder's first-login
    # password opens the account of the live realm (which asks for a new password first).
    recipient = f"giu.{kept_account['id'][:8]}@haiquan.example"
    handed = await _hand_over(own, kept_account, recipient)
    assert handed.status_code == 201, handed.text
    async with httpx.AsyncClient(base_url=own.identity_url, timeout=30) as anonymous:
        claimed = await anonymous.post("/v1/credentials", json={"token": await mailed_code(system, recipient)})
    assert claimed.status_code == 200, claimed.text
    first = replace(before, username=kept_account["username"], password=claimed.json()["temporary_password"])
    first_login = _login(system, first, own.name)
    assert first_login.json().get("error_description") == "Account is not fully set up", first_login.text
    # The one made after the backup is refused, naming why; nothing was handed over.
    refused = await _hand_over(own, new_account, f"khong.{new_account['id'][:8]}@haiquan.example")
    assert refused.status_code == 409, refused.text
    assert f"Tài khoản {new_account['username']} không còn trong realm Keycloak" in refused.json()["detail"]["message"]

    await _redeliver_switched(own)
    duplicates = {"consumer": "identity-realm-relink", "outcome": "duplicate"}
    await eventually(
        lambda: metric_at(own.identity_url, "qlcb_events_consumed_total", duplicates),
        lambda count: count == 1,
        timeout=60,
        what="the redelivered switch to be dropped as a duplicate",
    )
    assert len(await _audit(own, "realm.relink")) == 1
    assert keycloak.get_user_id(kept_account["username"]) == relinked_id

    with pytest.raises(grpc.aio.AioRpcError) as again:
        await own.backup("SwitchRestore", switch)
    assert again.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "switched" in (again.value.details() or "")
    assert _login(system, before, own.name).status_code == 200
    assert _realm_exists(system, kept)

    # The admin who asked for the pending restore has a new subject now, and still may not confirm it.
    latter_token = own.token(ADMIN)
    assert _subject(latter_token) != _subject(former_token)
    with pytest.raises(grpc.aio.AioRpcError) as same_admin:
        await own.backup(
            "ConfirmRestore", backup_pb2.ConfirmRestoreRequest(restore_id=pending.restore.id), token=latter_token
        )
    assert same_admin.value.code() is grpc.StatusCode.PERMISSION_DENIED


def _subject(token: str) -> str:
    subject: str = jwt.decode(token, options={"verify_signature": False})["sub"]
    return subject
