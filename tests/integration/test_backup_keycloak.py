"""The Keycloak realm as a part of a backup set (issue 12, points 1 and 5; ADR 0025), on the real
Keycloak with the realm-backup extension: a restore into a fresh realm where an account made before
the backup logs in with its password and keeps its groups and roles, while one made after is
absent; the extension refusing anyone but backup's own account; a restore into an existing realm
refused with the live realm unchanged; a tampered part refused; the switch of a verified copy; and
no secret in the backup service's log or Keycloak's."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import grpc
import httpx
import jwt
import pytest
from pydantic import SecretStr

from qlcb.backup.v1 import backup_pb2, backup_pb2_grpc
from qlcb_backup.sets.writing import SETS_DIR
from qlcb_backup.stores.keycloak import EXTENSION, KeycloakStore
from qlcb_devstack import demo
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_devstack.realm import BACKUP_CLIENT, IDENTITY_CLIENT
from qlcb_devstack.stack import REALM
from tests.support import System, eventually, unique_code

ADMIN = "quantri"
SECOND_ADMIN = "quantri2"
TIER = "hq-unit"


def _account(prefix: str) -> Account:
    """A new login of the hq-unit tier in a demo unit, with a password the realm's policy accepts."""
    unit = next(a.unit_path for a in demo.accounts() if a.tier == TIER)
    password = f"Kc{secrets.token_hex(6)}!a1"
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
    await _store(system).restore(await _dump(system, tmp_path / "qlcb.json"), own)
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


async def _dump(system: System, path: Path) -> Path:
    await _store(system).dump(path)
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
