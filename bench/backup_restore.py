"""Backup and restore of personnel's database (issue 12, Performance): a set of that one store
through the backup service's own code (`BackupSets`: `pg_dump` of an exported snapshot with the
content digest taken in it, zstd, AES-256-GCM, fsync, read back, signed manifest), and the restore
of its part (signature, SHA-256, every chunk, `pg_restore`, content digest), beside bare
`pg_dump --format=custom` to a file and bare `pg_restore` of that file into a new database, in the
same run on the same server. Target: ratio ≤ 1.5 each way. The content digest of the database is
also timed alone (a backup runs it beside pg_dump, a restore after pg_restore), so that its share
shows."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.engine import make_url

from qlcb_backup.catalog.service import BackupSets
from qlcb_backup.db_models import Base, make_outbox
from qlcb_backup.protection.keyring import Keyring
from qlcb_backup.schedule.retention import Retention
from qlcb_backup.storage.local import LocalStorage
from qlcb_backup.stores.postgres import PostgresStore, content_digest
from qlcb_common.db import Database
from qlcb_common.faults import NO_FAULT_POINTS

OPERATOR = "bench"


@dataclass(frozen=True)
class Result:
    database_bytes: int
    bare_dump_bytes: int
    part_bytes: int
    bare_dump_s: float
    digest_s: float
    ours_backup_s: float
    bare_restore_s: float
    ours_restore_s: float
    verified: bool

    @property
    def backup_ratio(self) -> float:
        return self.ours_backup_s / self.bare_dump_s

    @property
    def restore_ratio(self) -> float:
        return self.ours_restore_s / self.bare_restore_s

    @property
    def sealing_mb_s(self) -> float:
        """Plain bytes through the whole backup per second (the dump, zstd, AES-GCM, fsync, read-back)."""
        return self.database_bytes / 1e6 / self.ours_backup_s


async def _tool(bin_dir: Path, tool: str, *args: str, dsn_env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        str(bin_dir / tool), *args, env=dsn_env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{tool}: {stderr.decode(errors='replace')[-500:]}")


async def measure(database_url: str, admin_dsn: str, database: str, bin_dir: Path, work_dir: Path) -> Result:
    """`database_url`: personnel's database (SQLAlchemy URL); `admin_dsn`: the server's maintenance
    database (asyncpg), where the scratch databases are created and dropped."""
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
    admin = await asyncpg.connect(admin_dsn)
    url = make_url(database_url)
    env = dict(os.environ, PGHOST=url.host or "127.0.0.1", PGPORT=str(url.port or 5432), PGUSER=url.username or "")
    size = int(await admin.fetchval("SELECT pg_database_size($1)", database))
    bare_file = work_dir / "bare.dump"
    try:
        began = time.perf_counter()
        await _tool(bin_dir, "pg_dump", "--format=custom", "--no-owner", f"--file={bare_file}", database, dsn_env=env)
        bare_dump_s = time.perf_counter() - began
        digest_s = await _digest_alone(database_url)

        catalog = Database(f"sqlite+aiosqlite:///{work_dir / 'catalog.sqlite3'}")
        outbox = make_outbox()
        await catalog.create_schema(Base.metadata)
        keyring = Keyring({"bench": secrets.token_bytes(32)}, "bench")
        sets = BackupSets(
            catalog,
            outbox,
            backup_dir=work_dir / "sets",
            keyring=keyring,
            faults=NO_FAULT_POINTS,
            storage=LocalStorage(work_dir / "sets"),
            retention=Retention(daily=7, weekly=4, monthly=12),
            zone=ZoneInfo("Asia/Ho_Chi_Minh"),
            lease_seconds=3600,
        )
        store = PostgresStore(database_url, bin_dir=bin_dir)
        try:
            began = time.perf_counter()
            _, parts = await sets.take({"personnel": store}, created_by=OPERATOR)
            ours_backup_s = time.perf_counter() - began

            await admin.execute('CREATE DATABASE "bench_bare_restore"')
            began = time.perf_counter()
            await _tool(
                bin_dir,
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--dbname=bench_bare_restore",
                str(bare_file),
                dsn_env=env,
            )
            bare_restore_s = time.perf_counter() - began

            began = time.perf_counter()
            digest = await sets.restore(store, parts[0], target="bench_ours_restore")
            ours_restore_s = time.perf_counter() - began
        finally:
            await catalog.dispose()
        bare_bytes = (await asyncio.to_thread(bare_file.stat)).st_size
        return Result(
            database_bytes=size,
            bare_dump_bytes=bare_bytes,
            part_bytes=parts[0].size_bytes,
            bare_dump_s=bare_dump_s,
            digest_s=digest_s,
            ours_backup_s=ours_backup_s,
            bare_restore_s=bare_restore_s,
            ours_restore_s=ours_restore_s,
            verified=digest == parts[0].content_digest,
        )
    finally:
        for scratch in ("bench_bare_restore", "bench_ours_restore"):
            await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.close()
        shutil.rmtree(work_dir, ignore_errors=True)


async def _digest_alone(database_url: str) -> float:
    """Seconds for the content digest of the whole database, in one snapshot as a backup takes it."""
    url = make_url(database_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
    )
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            began = time.perf_counter()
            await content_digest(conn)
            return time.perf_counter() - began
    finally:
        await conn.close()


def rows(result: Result, people: int, when: str) -> list[str]:
    """The summary rows of docs/benchmarks.md."""
    where = f"personnel's database, {people:,} people, {result.database_bytes / 1e6:,.0f} MB; `--only backup`, {when}"
    return [
        f"| backup set of personnel ({where}; part {result.part_bytes / 1e6:,.0f} MB, "
        f"{result.sealing_mb_s:,.0f} MB/s sealed; the content digest alone {result.digest_s:.1f} s) "
        f"| {result.ours_backup_s:.1f} s "
        f"| {result.bare_dump_s:.1f} s (bare pg_dump -Fc, {result.bare_dump_bytes / 1e6:,.0f} MB) "
        f"| {result.backup_ratio:.2f} |",
        f"| restore of that part, verified ({'content digest equal' if result.verified else 'NOT VERIFIED'}) "
        f"| {result.ours_restore_s:.1f} s | {result.bare_restore_s:.1f} s (bare pg_restore) "
        f"| {result.restore_ratio:.2f} |",
    ]
