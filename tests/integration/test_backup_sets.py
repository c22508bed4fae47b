"""Backup sets on the real servers (issue 12, points 1, 2 and 8): one set across every store,
each part compressed and encrypted, its signed manifest; and the faults: a backup killed midway,
damaged parts, a tampered manifest, a wrong or missing key, a restore asked by another tier. Live
data is compared before and after every refused restore.

The kill and the keyring changes run on a backup process of this module's own (its own catalogue
database, folder, keyring and fault points, ADR 0011), backing up the suite's stores; the rest goes
through the gateway to the suite's backup service."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
import httpx
import pytest

from qlcb.backup.v1 import backup_pb2, backup_pb2_grpc
from qlcb_backup.catalog.service import INTERRUPTED
from qlcb_backup.sets.manifest import MANIFEST_FILE
from qlcb_backup.sets.writing import PART_WRITTEN, SETS_DIR
from qlcb_backup.stores.postgres import content_digest
from qlcb_common.faults import arm, held
from qlcb_common.migrations import head_revision
from qlcb_common.settings import ENVIRONMENT_VARIABLE, Environment, api_audience
from qlcb_devstack import demo
from qlcb_devstack.procs import ManagedProcess, free_port
from qlcb_devstack.stack import FAULT_POINTS_VARIABLE
from tests.support import System, api_client, eventually, metric_value, restore_by_two, unique_code

ADMIN = "quantri"
SECOND_ADMIN = "quantri2"


def _sets_dir(system: System) -> Path:
    return system.services.run_dir / "backups" / SETS_DIR


async def _digest(system: System, database: str) -> str:
    conn = await asyncpg.connect(system.postgres_dsn(database))
    try:
        return await content_digest(conn)
    finally:
        await conn.close()


async def _exists(system: System, database: str) -> bool:
    conn = await asyncpg.connect(system.postgres_dsn("postgres"))
    try:
        return await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database) is not None
    finally:
        await conn.close()


async def _take(api: httpx.AsyncClient, *stores: str) -> dict[str, object]:
    created = await api.post("/v1/backup-sets", json={"stores": list(stores)})
    assert created.status_code == 201, created.text
    backup_set: dict[str, object] = created.json()
    return backup_set


async def test_one_set_of_every_store_is_sealed_listed_and_restores_each_part_verified(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        backup_set = await _take(api)
        assert backup_set["status"] == "good"
        # The four databases, the event streams (ADR 0026) and Keycloak's realm (ADR 0025).
        assert backup_set["stores"] == ["backup", "events", "identity", "keycloak", "personnel", "reports"]
        parts = {part["store"]: part for part in backup_set["parts"]}  # type: ignore[attr-defined]
        listed = (await api.get("/v1/backup-sets")).json()
    suffix = unique_code("set").lower()
    answer = await restore_by_two(system, backup_set["id"], suffix)
    assert answer.status_code == 200, answer.text
    restore = answer.json()
    assert restore["status"] == "verified"
    restored = {part["store"]: part for part in restore["parts"]}
    assert listed[0]["id"] == backup_set["id"]
    assert all(r["verified"] for r in restored.values()), restored
    assert {s: r["target"] for s, r in restored.items()} == {s: f"{s}_{suffix}" for s in parts}
    assert {s: r["content_digest"] for s, r in restored.items()} == {s: p["content_digest"] for s, p in parts.items()}
    for store in parts.keys() - {"events", "keycloak"}:
        assert await _digest(system, f"{store}_{suffix}") == restored[store]["content_digest"]
    # The streams (before the operator's command has switched them) and the backup's own catalogue
    # do not switch online: the switch refuses before touching any store (the suite's realm, which
    # would switch, included), and says what to do.
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        refused = await api.post(f"/v1/restores/{restore['id']}/switch", json={"replace_live": True})
        after = next(r for r in (await api.get("/v1/restores")).json() if r["id"] == restore["id"])
    assert refused.status_code == 409, refused.text
    message = refused.json()["detail"]["message"]
    assert message.startswith("Kho backup (danh mục của chính dịch vụ sao lưu); events (luồng đã khôi phục"), message
    command = f"python -m qlcb_backup.stream_switch --restored events_{suffix} --keep-as events_truoc_{suffix}"
    assert command in message
    assert "không chuyển đổi trực tuyến được; chưa chuyển đổi kho nào" in message
    assert after["status"] == "verified"
    assert not any(part["kept_as"] for part in after["parts"])
    for store in parts.keys() - {"events", "keycloak"}:
        assert not await _exists(system, f"{store}_truoc_{suffix}")
        assert await _exists(system, f"{store}_{suffix}")
    manifest = json.loads((_sets_dir(system) / str(backup_set["id"]) / MANIFEST_FILE).read_text())
    assert manifest["manifest"]["key_id"] == backup_set["key_id"]
    assert {p["store"]: p["sha256"] for p in manifest["manifest"]["parts"]} == {
        s: p["sha256"] for s, p in parts.items()
    }
    databases = [p for p in manifest["manifest"]["parts"] if p["store"] not in ("events", "keycloak")]
    assert all(p["tool"].startswith("pg_dump (PostgreSQL)") for p in databases)
    # Each store's Alembic revision (ADR 0022), so a restore knows which code its schema is for.
    assert {p["store"]: p["schema_version"].split()[0] for p in databases} == {
        p["store"]: f"revision:{head_revision('qlcb_' + p['store'])}" for p in databases
    }
    (realm,) = [p for p in manifest["manifest"]["parts"] if p["store"] == "keycloak"]
    assert realm["tool"].startswith("Keycloak ")
    assert realm["schema_version"].startswith("revision:none keycloak:")
    assert manifest["signature"]["alg"] == "HMAC-SHA256"


def _cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-64])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "refusal"),
    [
        ("corrupted", "personnel.part: SHA-256 không khớp với bản kê đã ký (bị hỏng, bị sửa hoặc bị tráo"),
        ("truncated", "personnel.part: SHA-256 không khớp với bản kê đã ký (bị cắt ngắn"),
        ("swapped", "personnel.part: SHA-256 không khớp với bản kê đã ký"),
        ("manifest tampered", "chữ ký không khớp với khóa"),
    ],
)
async def test_a_damaged_part_is_refused_naming_it_and_live_data_is_untouched(
    system: System, damage: str, refusal: str
) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        older = await _take(api, "personnel")
        newer = await _take(api, "personnel")
        folder = _sets_dir(system) / str(newer["id"])
        part = folder / "personnel.part"
        other = _sets_dir(system) / str(older["id"]) / "personnel.part"
        if damage == "corrupted":
            _flip(part)
        elif damage == "truncated":
            _cut(part)
        elif damage == "swapped":
            part.write_bytes(other.read_bytes())
        else:
            part.write_bytes(other.read_bytes())
            document = json.loads((folder / MANIFEST_FILE).read_text())
            document["manifest"]["parts"][0].update(sha256=older["parts"][0]["sha256"], size_bytes=other.stat().st_size)  # type: ignore[index]
            (folder / MANIFEST_FILE).write_text(json.dumps(document))
    live = await _digest(system, "personnel")
    suffix = unique_code("refused").lower()
    refused = await restore_by_two(system, newer["id"], suffix)
    assert refused.status_code == 500, refused.text
    detail = refused.json()["detail"]
    assert detail["code"] == "DATA_LOSS"
    assert refusal in detail["message"]
    assert str(newer["id"]) in detail["message"]
    assert not await _exists(system, f"personnel_{suffix}")
    assert await _digest(system, "personnel") == live
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        recorded = next(r for r in (await api.get("/v1/restores")).json() if r["target_suffix"] == suffix)
    assert recorded["status"] == "failed"
    assert refusal in recorded["failure"]


async def test_a_restore_asked_by_any_tier_but_system_admin_is_refused_and_audited(system: System) -> None:
    others = [a.username for a in demo.accounts() if a.tier != "system-admin"]
    labels = {"section": "backup", "action": "operate"}
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        backup_set = await _take(api, "reports")
        pending = await api.post(
            "/v1/restores",
            json={"set_id": backup_set["id"], "target_suffix": unique_code("pending").lower(), "reason": "Sự cố"},
        )
    assert pending.status_code == 201, pending.text
    before = await metric_value(system, "backup", "qlcb_authz_refusals_total", labels)
    live = await _digest(system, "reports")
    targets = []
    for username in others:
        suffix = unique_code("not_admin").lower()
        targets.append(f"reports_{suffix}")
        body = {"set_id": backup_set["id"], "target_suffix": suffix, "reason": "Sự cố"}
        async with api_client(system.gateway_url, system.token(username)) as api:
            refused = await api.post("/v1/restores", json=body)
            confirming = await api.post(f"/v1/restores/{pending.json()['id']}/confirm")
        assert refused.status_code == 403, (username, refused.text)
        assert confirming.status_code == 403, (username, confirming.text)
    assert await metric_value(system, "backup", "qlcb_authz_refusals_total", labels) == before + 2 * len(others)
    log = system.services.processes["backup"].log_path.read_text(encoding="utf-8", errors="replace")
    audited = [json.loads(line) for line in log.splitlines() if '"authorization refused"' in line]
    for username in others:
        assert any(e.get("audit") is True and e.get("username") == username for e in audited), username
    assert not any([await _exists(system, t) for t in targets])
    assert not await _exists(system, f"reports_{pending.json()['target_suffix']}")
    assert await _digest(system, "reports") == live


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass
class OwnBackup:
    """A backup process of this module's own, restarted with the keyring a test gives it."""

    system: System
    run_dir: Path
    catalog: str
    grpc_port: int = field(default_factory=free_port)
    ops_port: int = field(default_factory=free_port)
    process: ManagedProcess | None = None

    @property
    def faults(self) -> Path:
        return self.run_dir / "faults"

    @property
    def backups(self) -> Path:
        return self.run_dir / "backups"

    def env(self, keys: dict[str, str], current: str, extra: Mapping[str, str]) -> dict[str, str]:
        infra, prefix = self.system.infra, "QLCB_BACKUP_"
        assert infra.postgres is not None
        stores = {name: self.system.services.database_urls[name] for name in ("personnel", "reports")}
        return dict(
            os.environ,
            **{
                ENVIRONMENT_VARIABLE: Environment.DEVELOPMENT,
                FAULT_POINTS_VARIABLE: str(self.faults),
                "QLCB_OIDC_ISSUER": infra.issuer,
                "QLCB_OIDC_AUDIENCE": api_audience("backup"),
                prefix + "GRPC_PORT": str(self.grpc_port),
                prefix + "OPS_PORT": str(self.ops_port),
                prefix + "DATABASE_URL": infra.postgres.dsn(self.catalog),
                prefix + "BACKUP_DIR": str(self.backups),
                prefix + "STORES": json.dumps(stores),
                prefix + "PG_BIN_DIR": str(infra.postgres.bin_dir),
                prefix + "KEYS": json.dumps(keys),
                prefix + "CURRENT_KEY_ID": current,
                # The suite's event streams are test_backup_streams.py's part.
                prefix + "STREAMS_STORE": "false",
                **infra.nats.client_env(prefix, "backup"),
                **extra,
            },
        )

    async def start(self, keys: dict[str, str], current: str, extra: Mapping[str, str] | None = None) -> None:
        """(Re)starts the process; `extra` adds or overrides its environment (storage, schedule, stores)."""
        self.stop()
        env = self.env(keys, current, extra or {})
        self.process = ManagedProcess(
            "backup-own", [sys.executable, "-m", "qlcb_backup"], log_dir=self.run_dir, env=env
        )
        self.process.start()
        async with httpx.AsyncClient(timeout=2) as ops:

            async def ready() -> bool:
                assert self.process is not None
                assert self.process.is_running, self.process.tail()
                try:
                    return (await ops.get(f"http://127.0.0.1:{self.ops_port}/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, bool, timeout=60, what="the module's backup process to be ready")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process = None

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.system.token(ADMIN)}"),)

    @property
    def second_metadata(self) -> tuple[tuple[str, str], ...]:
        """The second system admin's, who confirms the restores ADMIN asks for."""
        return (("authorization", f"Bearer {self.system.token(SECOND_ADMIN)}"),)

    def stub(self, channel: grpc.aio.Channel) -> backup_pb2_grpc.BackupServiceStub:
        return backup_pb2_grpc.BackupServiceStub(channel)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


@pytest.fixture
def own_backup(system: System, tmp_path: Path) -> Iterator[OwnBackup]:
    assert system.infra.postgres is not None
    catalog = f"backup_own_{uuid.uuid4().hex[:8]}"
    system.infra.postgres.create_database(catalog)
    own = OwnBackup(system, tmp_path, catalog)
    try:
        yield own
    finally:
        own.stop()


async def _sets(own: OwnBackup) -> list[backup_pb2.BackupSet]:
    async with grpc.aio.insecure_channel(own.target) as channel:
        reply = await own.stub(channel).ListBackupSets(
            backup_pb2.ListBackupSetsRequest(), metadata=own.metadata, timeout=30
        )
    return list(reply.sets)


async def _take_own(own: OwnBackup, *stores: str) -> backup_pb2.BackupSet:
    async with grpc.aio.insecure_channel(own.target) as channel:
        reply: backup_pb2.CreateBackupSetResponse = await own.stub(channel).CreateBackupSet(
            backup_pb2.CreateBackupSetRequest(stores=list(stores)), metadata=own.metadata, timeout=120
        )
    return reply.set


async def _restore_own(own: OwnBackup, part: backup_pb2.Backup, suffix: str) -> backup_pb2.RestoredPart:
    """One part restored into `<store>_<suffix>`, asked by ADMIN and confirmed by SECOND_ADMIN."""
    async with grpc.aio.insecure_channel(own.target) as channel:
        requested: backup_pb2.RequestRestoreResponse = await own.stub(channel).RequestRestore(
            backup_pb2.RequestRestoreRequest(
                set_id=part.set_id, stores=[part.store], target_suffix=suffix, reason="Kiểm tra"
            ),
            metadata=own.metadata,
            timeout=30,
        )
        confirmed: backup_pb2.ConfirmRestoreResponse = await own.stub(channel).ConfirmRestore(
            backup_pb2.ConfirmRestoreRequest(restore_id=requested.restore.id),
            metadata=own.second_metadata,
            timeout=120,
        )
    (restored,) = confirmed.restore.parts
    return restored


async def test_a_backup_killed_midway_leaves_no_good_set_and_the_next_one_succeeds(
    system: System, own_backup: OwnBackup
) -> None:
    keys = {"k1": _key()}
    await own_backup.start(keys, "k1")
    arm(own_backup.faults, PART_WRITTEN)
    taking = asyncio.create_task(_take_own(own_backup, "personnel", "reports"))

    async def holding_detail() -> dict[str, object] | None:
        return held(own_backup.faults, PART_WRITTEN)

    holding = await eventually(
        holding_detail,
        lambda detail: detail is not None,
        timeout=60,
        what="the set to hold after its first part",
    )
    assert holding is not None
    assert holding["store"] == "personnel"
    partial = own_backup.backups / SETS_DIR / f"{holding['set_id']}.partial"
    assert (partial / "personnel.part").is_file()
    own_backup.kill()
    with pytest.raises(grpc.aio.AioRpcError):
        await taking

    await own_backup.start(keys, "k1")
    (cut,) = await _sets(own_backup)
    assert (cut.id, cut.status, cut.failure) == (holding["set_id"], "failed", INTERRUPTED)
    assert not list(cut.parts)
    assert not partial.exists()

    following = await _take_own(own_backup, "personnel", "reports")
    assert following.status == "good"
    assert [p.store for p in following.parts] == ["personnel", "reports"]
    restored = await _restore_own(own_backup, following.parts[0], unique_code("after_kill").lower())
    assert restored.verified


async def test_after_a_key_rotation_older_sets_restore_and_a_missing_or_wrong_key_is_refused(
    system: System, own_backup: OwnBackup
) -> None:
    old, new = _key(), _key()
    await own_backup.start({"k1": old}, "k1")
    older = await _take_own(own_backup, "reports")
    assert older.key_id == "k1"

    await own_backup.start({"k1": old, "k2": new}, "k2")
    newer = await _take_own(own_backup, "reports")
    assert newer.key_id == "k2"
    for backup_set in (older, newer):
        restored = await _restore_own(own_backup, backup_set.parts[0], unique_code("rotated").lower())
        assert restored.verified

    live = await _digest(system, "reports")
    await own_backup.start({"k2": new}, "k2")
    suffix = unique_code("no_key").lower()
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await _restore_own(own_backup, older.parts[0], suffix)
    assert missing.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "Khóa 'k1' không có trong bộ khóa sao lưu" in (missing.value.details() or "")

    await own_backup.start({"k1": _key(), "k2": new}, "k2")
    with pytest.raises(grpc.aio.AioRpcError) as wrong:
        await _restore_own(own_backup, older.parts[0], unique_code("wrong_key").lower())
    assert wrong.value.code() is grpc.StatusCode.DATA_LOSS
    assert "chữ ký không khớp với khóa 'k1'" in (wrong.value.details() or "")
    assert not await _exists(system, f"reports_{suffix}")
    assert await _digest(system, "reports") == live
