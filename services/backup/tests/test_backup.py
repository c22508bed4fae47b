"""Backups of SQLite and (real) PostgreSQL stores: verified restores, and every refusal."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import REGISTRY

from qlcb_backup.catalog import service as catalog
from qlcb_backup.catalog.models import BackupRecord
from qlcb_backup.db_models import Base
from qlcb_backup.stores.postgres import PostgresStore
from qlcb_backup.stores.sqlite import SqliteStore
from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.errors import AlreadyExists, DataLoss, InvalidArgument, PermissionDenied
from qlcb_devstack.postgres import PostgresCluster


def _record(taken: catalog.TakenBackup) -> BackupRecord:
    return BackupRecord(
        id="b1",
        store="personnel",
        path=str(taken.path),
        sha256=taken.sha256,
        content_digest=taken.content_digest,
        size_bytes=taken.size_bytes,
    )


def _principal(*roles: str) -> Principal:
    return Principal(subject="s", username="u", roles=frozenset(roles), unit_path="/TCHQ", token="t")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> SqliteStore:
    path = tmp_path / "personnel.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE persons (id TEXT PRIMARY KEY, full_name TEXT)")
        conn.executemany("INSERT INTO persons VALUES (?, ?)", [("1", "Nguyễn Văn An"), ("2", "Trần Thị Bình")])
    return SqliteStore(f"sqlite+aiosqlite:///{path}")


async def test_sqlite_backup_restores_identical_content(sqlite_store: SqliteStore, tmp_path: Path) -> None:
    taken = await catalog.take_backup(sqlite_store, store_name="personnel", backup_dir=tmp_path / "backups")
    with sqlite3.connect(sqlite_store.path) as conn:
        conn.execute("INSERT INTO persons VALUES ('3', 'after the backup')")
    digest = await catalog.restore_backup(sqlite_store, _record(taken), target="restored")
    assert digest == taken.content_digest
    with sqlite3.connect(sqlite_store.target_path("restored")) as conn:
        names = [row[0] for row in conn.execute("SELECT full_name FROM persons ORDER BY id")]
    assert names == ["Nguyễn Văn An", "Trần Thị Bình"]
    assert not list((tmp_path / "backups").rglob("*.partial"))


async def test_a_corrupted_backup_is_refused_and_creates_nothing(sqlite_store: SqliteStore, tmp_path: Path) -> None:
    taken = await catalog.take_backup(sqlite_store, store_name="personnel", backup_dir=tmp_path)
    data = bytearray(taken.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    taken.path.write_bytes(bytes(data))
    with pytest.raises(DataLoss):
        await catalog.restore_backup(sqlite_store, _record(taken), target="restored")
    assert not sqlite_store.target_path("restored").exists()


@pytest.mark.parametrize("target", ["", "Restored", "1db", "has-dash", "x" * 64, 'a"; DROP'])
async def test_target_name_is_validated(sqlite_store: SqliteStore, tmp_path: Path, target: str) -> None:
    taken = await catalog.take_backup(sqlite_store, store_name="personnel", backup_dir=tmp_path)
    with pytest.raises(InvalidArgument) as error:
        await catalog.restore_backup(sqlite_store, _record(taken), target=target)
    assert error.value.violations[0].field == "target_database"


async def test_an_existing_target_is_never_overwritten(sqlite_store: SqliteStore, tmp_path: Path) -> None:
    taken = await catalog.take_backup(sqlite_store, store_name="personnel", backup_dir=tmp_path)
    sqlite_store.target_path("taken").write_bytes(b"someone's data")
    with pytest.raises(AlreadyExists):
        await catalog.restore_backup(sqlite_store, _record(taken), target="taken")
    assert sqlite_store.target_path("taken").read_bytes() == b"someone's data"


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


async def test_postgres_backup_taken_under_writes_verifies(
    pg_store: PostgresStore, cluster: PostgresCluster, tmp_path: Path
) -> None:
    stop = asyncio.Event()

    async def writer() -> None:
        conn = await asyncpg.connect(cluster.dsn("personnel", driver="postgresql"))
        try:
            while not stop.is_set():
                await conn.execute("INSERT INTO persons (full_name) VALUES ('Đang ghi')")
        finally:
            await conn.close()

    writing = asyncio.create_task(writer())
    try:
        taken = await catalog.take_backup(pg_store, store_name="personnel", backup_dir=tmp_path)
    finally:
        stop.set()
        await writing
    digest = await catalog.restore_backup(pg_store, _record(taken), target="restored_under_load")
    assert digest == taken.content_digest
    restored = await asyncpg.connect(cluster.dsn("restored_under_load", driver="postgresql"))
    try:
        names = [r["full_name"] for r in await restored.fetch("SELECT full_name FROM persons ORDER BY id LIMIT 2")]
    finally:
        await restored.close()
    assert names == ["Lê Văn Cường", "Phạm Thị Dung"]


async def test_postgres_refusals_leave_no_database(
    pg_store: PostgresStore, cluster: PostgresCluster, tmp_path: Path
) -> None:
    taken = await catalog.take_backup(pg_store, store_name="personnel", backup_dir=tmp_path)
    with pytest.raises(AlreadyExists):
        await catalog.restore_backup(pg_store, _record(taken), target="personnel")
    taken.path.write_bytes(taken.path.read_bytes()[:-100])
    with pytest.raises(DataLoss):
        await catalog.restore_backup(pg_store, _record(taken), target="never_created")
    assert not await pg_store.target_exists("never_created")


def _last_success(store: str) -> float | None:
    return REGISTRY.get_sample_value("qlcb_backup_last_success_timestamp_seconds", {"store": store})


async def test_the_last_good_backup_of_each_configured_store_is_exported_from_the_catalogue(tmp_path: Path) -> None:
    """What the backup alert reads: at start, the newest catalogued backup of each configured store,
    0 for one never backed up (so the alert fires), nothing for a store no longer configured; then
    each backup once its catalogue entry is committed."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'backup.sqlite3'}")
    await db.create_schema(Base.metadata)
    older, newer = datetime(2026, 11, 1, 1, 0, tzinfo=UTC), datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    try:
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
    finally:
        await db.dispose()
    assert _last_success("personnel") == newer.timestamp()
    assert _last_success("identity") == 0
    assert _last_success("retired") is None

    taken = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
    catalog.backup_completed(BackupRecord(store="identity", created_at=taken))
    assert _last_success("identity") == taken.timestamp()
