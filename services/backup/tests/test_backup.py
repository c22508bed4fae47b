"""Backup sets of SQLite and (real) PostgreSQL stores: verified restores, and every refusal."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from qlcb_backup.catalog import service as catalog
from qlcb_backup.catalog.models import BackupRecord, BackupSetRecord
from qlcb_backup.catalog.service import BackupSets
from qlcb_backup.db_models import Base, make_outbox
from qlcb_backup.protection.framing import PartRefused
from qlcb_backup.protection.keyring import KeyMissing, Keyring
from qlcb_backup.schedule.retention import Retention
from qlcb_backup.sets.manifest import MANIFEST_FILE, ManifestRefused
from qlcb_backup.sets.writing import SETS_DIR
from qlcb_backup.storage.local import LocalStorage
from qlcb_backup.stores.base import Store
from qlcb_backup.stores.postgres import PostgresStore
from qlcb_backup.stores.sqlite import SqliteStore
from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied
from qlcb_common.events import subjects
from qlcb_common.faults import NO_FAULT_POINTS
from qlcb_devstack.postgres import PostgresCluster

ADMIN = Principal(subject="admin", username="quantri", roles=frozenset({"system-admin"}), unit_path="/TCHQ", token="t")
K1, K2 = secrets.token_bytes(32), secrets.token_bytes(32)


def _principal(*roles: str) -> Principal:
    return Principal(subject="s", username="u", roles=frozenset(roles), unit_path="/TCHQ", token="t")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'catalog.sqlite3'}")
    make_outbox()
    await database.create_schema(Base.metadata)
    try:
        yield database
    finally:
        await database.dispose()


def _sets(db: Database, tmp_path: Path, keyring: Keyring | None = None) -> BackupSets:
    return BackupSets(
        db,
        make_outbox(),
        backup_dir=tmp_path / "backups",
        keyring=keyring or Keyring({"k1": K1}, "k1"),
        faults=NO_FAULT_POINTS,
        storage=LocalStorage(tmp_path / "backups"),
        retention=Retention(daily=7, weekly=4, monthly=12),
        zone=ZoneInfo("Asia/Ho_Chi_Minh"),
        lease_seconds=3600,
    )


@pytest.fixture
def sqlite_store(tmp_path: Path) -> SqliteStore:
    path = tmp_path / "personnel.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE persons (id TEXT PRIMARY KEY, full_name TEXT)")
        conn.executemany("INSERT INTO persons VALUES (?, ?)", [("1", "Nguyễn Văn An"), ("2", "Trần Thị Bình")])
    return SqliteStore(f"sqlite+aiosqlite:///{path}")


@pytest.fixture
def reports_store(tmp_path: Path) -> SqliteStore:
    path = tmp_path / "reports.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE periods (code TEXT PRIMARY KEY)")
        conn.execute("INSERT INTO periods VALUES ('2026-11')")
    return SqliteStore(f"sqlite+aiosqlite:///{path}")


def _names(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT full_name FROM persons ORDER BY id")]


async def _outbox_subjects(db: Database) -> list[str]:
    table = Base.metadata.tables["outbox"]
    async with db.unit_of_work() as session:
        return list((await session.scalars(select(table.c.subject))).all())


async def test_one_set_holds_every_store_and_restores_each_verified(
    db: Database, tmp_path: Path, sqlite_store: SqliteStore, reports_store: SqliteStore
) -> None:
    sets = _sets(db, tmp_path)
    record, parts = await sets.take({"personnel": sqlite_store, "reports": reports_store}, created_by=ADMIN.subject)
    assert record.status == catalog.GOOD
    assert record.key_id == "k1"
    assert [p.store for p in parts] == ["personnel", "reports"]
    folder = tmp_path / "backups" / SETS_DIR / record.id
    assert sorted(f.name for f in folder.iterdir()) == [MANIFEST_FILE, "personnel.part", "reports.part"]
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["signature"]["alg"] == "HMAC-SHA256"
    entry = next(p for p in manifest["manifest"]["parts"] if p["store"] == "personnel")
    assert entry["sha256"] == parts[0].sha256
    assert entry["tool"].startswith("sqlite3 ")
    assert entry["schema_version"].startswith("revision:none sql-sha256:")  # a store made without migrations
    assert manifest["manifest"]["key_id"] == "k1"
    assert "Nguyễn Văn An".encode() not in (folder / "personnel.part").read_bytes()

    with sqlite3.connect(sqlite_store.path) as conn:
        conn.execute("INSERT INTO persons VALUES ('3', 'after the backup')")
    digest = await sets.restore(sqlite_store, parts[0], target="restored")
    assert digest == parts[0].content_digest
    assert _names(sqlite_store.target_path("restored")) == ["Nguyễn Văn An", "Trần Thị Bình"]
    assert not list((tmp_path / "backups").rglob("*.partial"))
    assert not list((tmp_path / "backups").glob(".restore-*"))
    published = await _outbox_subjects(db)
    assert published.count(subjects.BACKUP_RUN_COMPLETED) == 2
    assert published.count(subjects.BACKUP_SET_COMPLETED) == 1


class _Failing:
    """A store whose dump fails after the set's first part was written."""

    async def versions(self) -> object:
        raise OSError("No space left on device")


async def test_a_set_whose_part_fails_is_failed_leaves_nothing_and_the_next_succeeds(
    db: Database, tmp_path: Path, sqlite_store: SqliteStore
) -> None:
    sets = _sets(db, tmp_path)
    failing: Store = _Failing()  # type: ignore[assignment]
    with pytest.raises(OSError, match="No space"):
        await sets.take({"personnel": sqlite_store, "reports": failing}, created_by=ADMIN.subject)
    async with db.unit_of_work() as session:
        listed = await catalog.list_sets(session)
        assert await catalog.list_backups(session, store_name="") == []
    assert [(s.status, s.failure) for s, _ in listed] == [("failed", "OSError: No space left on device")]
    assert list((tmp_path / "backups" / SETS_DIR).iterdir()) == []
    assert subjects.BACKUP_SET_FAILED in await _outbox_subjects(db)

    record, _ = await sets.take({"personnel": sqlite_store}, created_by=ADMIN.subject)
    assert record.status == catalog.GOOD


async def test_a_set_left_running_by_a_stop_is_failed_at_start_and_its_folder_removed(
    db: Database, tmp_path: Path
) -> None:
    partial = tmp_path / "backups" / SETS_DIR / "cut.partial"
    partial.mkdir(parents=True)
    (partial / "personnel.dump").write_bytes(b"plain dump")
    async with db.unit_of_work() as session:
        session.add(
            BackupSetRecord(
                id="cut",
                status="running",
                created_at=datetime.now(UTC),
                stores="personnel",
                key_id="k1",
                path=str(partial.with_suffix("")),
                size_bytes=0,
                manifest_sha256="",
                failure="",
                created_by="s",
            )
        )
    await _sets(db, tmp_path).recover()
    async with db.unit_of_work() as session:
        record = await session.get(BackupSetRecord, "cut")
    assert record is not None
    assert (record.status, record.failure) == ("failed", catalog.INTERRUPTED)
    assert not partial.exists()


def _manifest(record: BackupSetRecord) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((Path(record.path) / MANIFEST_FILE).read_text())["manifest"]
    return manifest


def _damage(record: BackupRecord, change: Callable[[bytes], bytes]) -> Path:
    """Rewrites the part's file with `change` applied; returns its path."""
    part = Path(record.path)
    part.write_bytes(change(part.read_bytes()))
    return part


def _edit_manifest(record: BackupRecord, **entry: object) -> None:
    path = Path(record.path).parent / MANIFEST_FILE
    document = json.loads(path.read_text())
    document["manifest"]["parts"][0].update(entry)
    path.write_text(json.dumps(document))


def _copy_part(source: BackupRecord, target: BackupRecord) -> None:
    Path(target.path).write_bytes(Path(source.path).read_bytes())


async def _one(db: Database, tmp_path: Path, store: SqliteStore, keyring: Keyring | None = None) -> BackupRecord:
    _, parts = await _sets(db, tmp_path, keyring).take({"personnel": store}, created_by=ADMIN.subject)
    return parts[0]


async def test_a_corrupted_part_is_refused_naming_it_and_creates_nothing(
    db: Database, tmp_path: Path, sqlite_store: SqliteStore
) -> None:
    record = await _one(db, tmp_path, sqlite_store)
    part = _damage(
        record, lambda data: data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF]) + data[len(data) // 2 + 1 :]
    )
    with pytest.raises(PartRefused) as refused:
        await _sets(db, tmp_path).restore(sqlite_store, record, target="restored")
    assert f"sets/{part.parent.name}/personnel.part" in str(refused.value)
    assert "SHA-256 không khớp với bản kê đã ký (bị hỏng" in str(refused.value)
    assert not sqlite_store.target_path("restored").exists()


async def test_a_truncated_part_is_refused_as_cut(db: Database, tmp_path: Path, sqlite_store: SqliteStore) -> None:
    record = await _one(db, tmp_path, sqlite_store)
    _damage(record, lambda data: data[:-10])
    with pytest.raises(PartRefused, match="bị cắt ngắn"):
        await _sets(db, tmp_path).restore(sqlite_store, record, target="restored")
    assert not sqlite_store.target_path("restored").exists()


async def test_a_part_swapped_for_another_sets_is_refused(
    db: Database, tmp_path: Path, sqlite_store: SqliteStore
) -> None:
    older = await _one(db, tmp_path, sqlite_store)
    with sqlite3.connect(sqlite_store.path) as conn:
        conn.execute("DELETE FROM persons")
    newer = await _one(db, tmp_path, sqlite_store)
    _copy_part(older, newer)
    with pytest.raises(PartRefused, match="SHA-256 không khớp với bản kê đã ký"):
        await _sets(db, tmp_path).restore(sqlite_store, newer, target="restored")


async def test_a_manifest_edited_to_match_a_swapped_part_is_refused_by_its_signature(
    db: Database, tmp_path: Path, sqlite_store: SqliteStore
) -> None:
    older = await _one(db, tmp_path, sqlite_store)
    newer = await _one(db, tmp_path, sqlite_store)
    _copy_part(older, newer)
    _edit_manifest(newer, sha256=older.sha256, size_bytes=older.size_bytes)
    with pytest.raises(ManifestRefused, match="chữ ký không khớp với khóa 'k1'"):
        await _sets(db, tmp_path).restore(sqlite_store, newer, target="restored")
    assert not sqlite_store.target_path("restored").exists()


async def test_a_wrong_key_or_a_missing_key_id_is_refused(
    db: Database, tmp_path: Path, sqlite_store: SqliteStore
) -> None:
    record = await _one(db, tmp_path, sqlite_store)
    with pytest.raises(ManifestRefused, match="khóa sai"):
        await _sets(db, tmp_path, Keyring({"k1": K2}, "k1")).restore(sqlite_store, record, target="restored")
    with pytest.raises(KeyMissing, match="Khóa 'k1' không có trong bộ khóa"):
        await _sets(db, tmp_path, Keyring({"k2": K2}, "k2")).restore(sqlite_store, record, target="restored")
    assert not sqlite_store.target_path("restored").exists()


async def test_after_a_key_rotation_older_sets_restore_with_their_key(
    db: Database, tmp_path: Path, sqlite_store: SqliteStore
) -> None:
    older = await _one(db, tmp_path, sqlite_store)
    rotated = Keyring({"k1": K1, "k2": K2}, "k2")
    newer_set, newer_parts = await _sets(db, tmp_path, rotated).take(
        {"personnel": sqlite_store}, created_by=ADMIN.subject
    )
    assert newer_set.key_id == "k2"
    sets = _sets(db, tmp_path, rotated)
    assert await sets.restore(sqlite_store, older, target="from_k1") == older.content_digest
    assert await sets.restore(sqlite_store, newer_parts[0], target="from_k2") == older.content_digest


@pytest.mark.parametrize("target", ["", "Restored", "1db", "has-dash", "x" * 64, 'a"; DROP'])
async def test_target_name_is_validated(db: Database, tmp_path: Path, sqlite_store: SqliteStore, target: str) -> None:
    record = await _one(db, tmp_path, sqlite_store)
    with pytest.raises(InvalidArgument) as error:
        await _sets(db, tmp_path).restore(sqlite_store, record, target=target)
    assert error.value.violations[0].field == "target_database"


async def test_an_existing_target_is_never_overwritten(db: Database, tmp_path: Path, sqlite_store: SqliteStore) -> None:
    record = await _one(db, tmp_path, sqlite_store)
    sqlite_store.target_path("taken").write_bytes(b"someone's data")
    with pytest.raises(AlreadyExists):
        await _sets(db, tmp_path).restore(sqlite_store, record, target="taken")
    assert sqlite_store.target_path("taken").read_bytes() == b"someone's data"


async def test_a_backup_outside_any_good_set_is_refused(
    db: Database, tmp_path: Path, sqlite_store: SqliteStore
) -> None:
    orphan = BackupRecord(id="b0", store="personnel", path=str(tmp_path / "x"), sha256="0" * 64, content_digest="0")
    with pytest.raises(FailedPrecondition, match="không thuộc bộ sao lưu nào đã hoàn tất"):
        await _sets(db, tmp_path).restore(sqlite_store, orphan, target="restored")


@pytest.mark.parametrize("role", ["sector-hr", "local-admin", "sector-viewer"])
def test_only_the_system_admin_operates_backups(role: str) -> None:
    with pytest.raises(PermissionDenied):
        catalog.require_operator(_principal(role))
    catalog.require_operator(_principal("system-admin"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    pg = PostgresCluster(tmp_path_factory.mktemp("pg"))
    pg.start()
    pg.create_database("personnel")
    try:
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
async def pg_store(cluster: PostgresCluster) -> PostgresStore:
    conn = await asyncpg.connect(cluster.dsn("personnel", driver="postgresql"))
    await conn.execute("DROP TABLE IF EXISTS persons; CREATE TABLE persons (id serial PRIMARY KEY, full_name text)")
    await conn.executemany("INSERT INTO persons (full_name) VALUES ($1)", [("Lê Văn Cường",), ("Phạm Thị Dung",)])
    await conn.close()
    return PostgresStore(cluster.dsn("personnel"), bin_dir=cluster.bin_dir)


async def test_postgres_set_taken_under_writes_verifies(
    db: Database, pg_store: PostgresStore, cluster: PostgresCluster, tmp_path: Path
) -> None:
    stop = asyncio.Event()

    async def writer() -> None:
        conn = await asyncpg.connect(cluster.dsn("personnel", driver="postgresql"))
        try:
            while not stop.is_set():
                await conn.execute("INSERT INTO persons (full_name) VALUES ('Đang ghi')")
        finally:
            await conn.close()

    sets = _sets(db, tmp_path)
    writing = asyncio.create_task(writer())
    try:
        record, parts = await sets.take({"personnel": pg_store}, created_by=ADMIN.subject)
    finally:
        stop.set()
        await writing
    manifest = _manifest(record)
    assert manifest["parts"][0]["tool"].startswith("pg_dump (PostgreSQL)")
    assert manifest["parts"][0]["schema_version"].startswith("revision:none columns-sha256:")
    digest = await sets.restore(pg_store, parts[0], target="restored_under_load")
    assert digest == parts[0].content_digest
    restored = await asyncpg.connect(cluster.dsn("restored_under_load", driver="postgresql"))
    try:
        names = [r["full_name"] for r in await restored.fetch("SELECT full_name FROM persons ORDER BY id LIMIT 2")]
    finally:
        await restored.close()
    assert names == ["Lê Văn Cường", "Phạm Thị Dung"]


async def test_postgres_refusals_leave_no_database_and_live_data_untouched(
    db: Database, pg_store: PostgresStore, cluster: PostgresCluster, tmp_path: Path
) -> None:
    sets = _sets(db, tmp_path)
    _, parts = await sets.take({"personnel": pg_store}, created_by=ADMIN.subject)
    with pytest.raises(AlreadyExists):
        await sets.restore(pg_store, parts[0], target="personnel")
    _damage(parts[0], lambda data: data[:-100])
    with pytest.raises(PartRefused):
        await sets.restore(pg_store, parts[0], target="never_created")
    assert not await pg_store.target_exists("never_created")
    live = await asyncpg.connect(cluster.dsn("personnel", driver="postgresql"))
    try:
        assert [r[0] for r in await live.fetch("SELECT full_name FROM persons ORDER BY id")] == [
            "Lê Văn Cường",
            "Phạm Thị Dung",
        ]
    finally:
        await live.close()


def _last_success(store: str) -> float | None:
    return REGISTRY.get_sample_value("qlcb_backup_last_success_timestamp_seconds", {"store": store})


async def test_the_last_good_set_of_each_configured_store_is_exported_from_the_catalogue(
    db: Database, tmp_path: Path, sqlite_store: SqliteStore
) -> None:
    """What the backup alert reads: at start, the newest catalogued part of each configured store,
    0 for one never backed up (so the alert fires), nothing for a store no longer configured; then
    each good set once it is committed."""
    older, newer = datetime(2026, 11, 1, 1, 0, tzinfo=UTC), datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    async with db.unit_of_work() as session:
        for n, (store, taken) in enumerate([("personnel", older), ("personnel", newer), ("retired", newer)]):
            session.add(
                BackupRecord(
                    id=f"b{n}",
                    store=store,
                    created_at=taken,
                    path=f"/backups/{n}",
                    size_bytes=1,
                    sha256="0" * 64,
                    content_digest="0" * 64,
                    created_by="s",
                )
            )
    async with db.unit_of_work() as session:
        await catalog.export_last_success(session, stores=["identity", "personnel"])
    assert _last_success("personnel") == newer.timestamp()
    assert _last_success("identity") == 0
    assert _last_success("retired") is None

    record, _ = await _sets(db, tmp_path).take({"identity": sqlite_store}, created_by=ADMIN.subject)
    assert _last_success("identity") == record.created_at.timestamp()
