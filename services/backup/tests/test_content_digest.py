"""PostgreSQL's content digest (ADR 0027): a sum over rows that sees every changed, missing or
duplicated row but not their physical order; and the digest algorithm each part's manifest names,
so that a part whose digest this version no longer computes is refused clearly."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from qlcb_backup.catalog.models import BackupRecord
from qlcb_backup.catalog.service import BackupSets
from qlcb_backup.db_models import Base, make_outbox
from qlcb_backup.protection.keyring import Keyring
from qlcb_backup.schedule.retention import Retention
from qlcb_backup.sets import manifest as manifests
from qlcb_backup.sets.manifest import MANIFEST_FILE, ManifestRefused
from qlcb_backup.storage.local import LocalStorage
from qlcb_backup.stores.postgres import PostgresStore, content_digest
from qlcb_backup.stores.sqlite import SqliteStore
from qlcb_common.db import Database
from qlcb_common.errors import FailedPrecondition
from qlcb_common.faults import NO_FAULT_POINTS
from qlcb_devstack.postgres import PostgresCluster

KEYRING = Keyring({"k1": bytes(range(32))}, "k1")
PEOPLE = [(1, "Lê Văn Cường", "1980-02-01"), (2, "Phạm Thị Dung", None), (3, "Đỗ Minh Hải", "1992-11-30")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    pg = PostgresCluster(tmp_path_factory.mktemp("pg"))
    pg.start()
    try:
        yield pg
    finally:
        pg.destroy()


async def _database(cluster: PostgresCluster, name: str, people: list[tuple[int, str, str | None]]) -> str:
    """A fresh database `name` holding `people` (no key: a row may be there twice) and one unit."""
    cluster.create_database(name)
    conn = await asyncpg.connect(cluster.dsn(name, driver="postgresql"))
    try:
        await conn.execute(
            "DROP TABLE IF EXISTS persons, units;"
            " CREATE TABLE persons (id int, full_name text, born date);"
            " CREATE TABLE units (code text); INSERT INTO units VALUES ('TCHQ')"
        )
        await conn.executemany("INSERT INTO persons VALUES ($1, $2, $3::text::date)", [(i, n, b) for i, n, b in people])
    finally:
        await conn.close()
    return name


async def _digest(cluster: PostgresCluster, name: str, *statements: str) -> str:
    conn = await asyncpg.connect(cluster.dsn(name, driver="postgresql"))
    try:
        for statement in statements:
            await conn.execute(statement)
        return str(await content_digest(conn))
    finally:
        await conn.close()


async def test_the_digest_ignores_row_order_and_sees_a_changed_missing_duplicated_or_moved_row(
    cluster: PostgresCluster,
) -> None:
    digest = await _digest(cluster, await _database(cluster, "ordered", PEOPLE))
    assert digest.startswith("rowsum1:")
    assert len(digest) == 64
    # the same rows inserted in another order, then updated in place and back, lie elsewhere on disk
    shuffled = await _database(cluster, "shuffled", PEOPLE[::-1])
    assert await _digest(cluster, shuffled, "UPDATE persons SET full_name = full_name || '' WHERE id = 2") == digest

    changed = await _database(cluster, "changed", PEOPLE)
    assert await _digest(cluster, changed, "UPDATE persons SET born = '1980-02-02' WHERE id = 1") != digest
    missing = await _database(cluster, "missing", PEOPLE)
    assert await _digest(cluster, missing, "DELETE FROM persons WHERE id = 3") != digest
    duplicated = await _database(cluster, "duplicated", PEOPLE)
    assert await _digest(cluster, duplicated, "INSERT INTO persons SELECT * FROM persons WHERE id = 3") != digest
    nulled = await _database(cluster, "nulled", PEOPLE)
    assert await _digest(cluster, nulled, "UPDATE persons SET born = NULL WHERE id = 3") != digest
    moved = await _database(cluster, "moved", PEOPLE)
    assert (
        await _digest(
            cluster, moved, "DELETE FROM units; CREATE TABLE zones (code text); INSERT INTO zones VALUES ('TCHQ')"
        )
        != digest
    )


@pytest.fixture
async def sets(tmp_path: Path) -> AsyncIterator[BackupSets]:
    catalog = Database(f"sqlite+aiosqlite:///{tmp_path / 'catalog.sqlite3'}")
    outbox = make_outbox()
    await catalog.create_schema(Base.metadata)
    try:
        yield BackupSets(
            catalog,
            outbox,
            backup_dir=tmp_path / "backups",
            keyring=KEYRING,
            faults=NO_FAULT_POINTS,
            storage=LocalStorage(tmp_path / "backups"),
            retention=Retention(daily=7, weekly=4, monthly=12),
            zone=ZoneInfo("Asia/Ho_Chi_Minh"),
            lease_seconds=3600,
        )
    finally:
        await catalog.dispose()


def _manifest(part: BackupRecord) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((Path(part.path).parent / MANIFEST_FILE).read_text())["manifest"]
    return manifest


def _as_first_format(part: BackupRecord, *, digest: str) -> None:
    """Rewrites the part's set as the first manifest format wrote it (no digest algorithm, a bare
    digest), signed with the same key: what an older version of the service left."""
    folder = Path(part.path).parent
    document = json.loads((folder / MANIFEST_FILE).read_text())
    body = document["manifest"]
    body["format"] = manifests.FIRST_FORMAT
    for entry in body["parts"]:
        del entry[manifests.ALGORITHM_FIELD]
        entry["content_digest"] = digest
    signed = manifests.Manifest.from_dict(dict(body))
    (folder / MANIFEST_FILE).write_text(
        json.dumps({"manifest": body, "signature": {"alg": "HMAC-SHA256", "value": manifests.sign(signed, KEYRING)}})
    )


async def test_a_postgres_part_names_its_digest_and_an_older_part_of_the_sorted_md5_is_refused_clearly(
    cluster: PostgresCluster, sets: BackupSets
) -> None:
    name = await _database(cluster, "live", PEOPLE)
    store = PostgresStore(cluster.dsn(name), bin_dir=cluster.bin_dir)
    _, parts = await sets.take({"personnel": store}, created_by="admin")
    manifest = _manifest(parts[0])
    assert manifest["format"] == "qlcb-backup-set/2"
    assert manifest["parts"][0]["content_digest_algorithm"] == "rowsum1"
    assert await sets.restore(store, parts[0], target="restored_now") == parts[0].content_digest

    _as_first_format(parts[0], digest="0" * 32)
    with pytest.raises(FailedPrecondition) as refused:
        await sets.restore(store, parts[0], target="restored_old")
    assert "mã kiểm nội dung theo cách cũ (sorted-md5)" in str(refused.value)
    assert "personnel.part" in str(refused.value)
    assert not await store.target_exists("restored_old")


async def test_a_first_format_sqlite_part_still_restores_verified_and_cannot_be_given_an_algorithm(
    sets: BackupSets, tmp_path: Path
) -> None:
    path = tmp_path / "personnel.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE persons (id TEXT PRIMARY KEY, full_name TEXT)")
        conn.execute("INSERT INTO persons VALUES ('1', 'Nguyễn Văn An')")
    store = SqliteStore(f"sqlite+aiosqlite:///{path}")
    _, parts = await sets.take({"personnel": store}, created_by="admin")
    assert _manifest(parts[0])["parts"][0]["content_digest_algorithm"] == "sorted-md5"
    _as_first_format(parts[0], digest=parts[0].content_digest)
    assert await sets.restore(store, parts[0], target="restored_old") == parts[0].content_digest

    folder = Path(parts[0].path).parent
    document = json.loads((folder / MANIFEST_FILE).read_text())
    document["manifest"]["parts"][0]["content_digest_algorithm"] = "rowsum1"
    (folder / MANIFEST_FILE).write_text(json.dumps(document))
    with pytest.raises(ManifestRefused, match="tệp hỏng"):
        await sets.restore(store, parts[0], target="restored_edited")
    assert not store.target_path("restored_edited").exists()
