"""Backup and restore of personnel's database (issue 12, Performance): a set of that one store
through the backup service's own code (`BackupSets`: `pg_dump` of an exported snapshot with the
content digest taken in it, zstd, AES-256-GCM, fsync, read back, signed manifest), and the restore
of its part (signature, SHA-256, every chunk, `pg_restore`, content digest), beside bare
`pg_dump --format=custom` to a file and bare `pg_restore` of that file into a new database, in the
same run on the same server. Target: ratio ≤ 1.5 each way. The content digest of the database is
also timed alone (a backup runs it beside pg_dump, a restore after pg_restore), so that its share
shows. Then the set's upload to S3-compatible storage (a moto server started here) through the
service's own `S3Storage` (one file after another, in parts of the service's default size, each part
with its Content-MD5, every object's size and ETag read back) beside boto3's own `upload_file` of
the same files to the same server (its transfer manager: parts sent side by side, nothing read
back), taken in turn `UPLOAD_ROUNDS` times each, the median of each reported: the services may still
be applying the loaded people's events while the first uploads run."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import boto3
import httpx
from sqlalchemy.engine import make_url

from qlcb_backup.catalog.service import BackupSets
from qlcb_backup.db_models import Base, make_outbox
from qlcb_backup.protection.keyring import Keyring
from qlcb_backup.schedule.retention import Retention
from qlcb_backup.sets.manifest import MANIFEST_FILE
from qlcb_backup.sets.writing import set_folder
from qlcb_backup.settings import BackupSettings
from qlcb_backup.storage.local import LocalStorage
from qlcb_backup.storage.s3 import S3Storage, S3Target
from qlcb_backup.stores.postgres import PostgresStore, content_digest
from qlcb_common.db import Database
from qlcb_common.faults import NO_FAULT_POINTS
from qlcb_devstack.procs import ManagedProcess, free_port, wait_until

OPERATOR = "bench"
BUCKET = "qlcb-bench"
S3_KEYS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench", "region_name": "us-east-1"}
UPLOAD_ROUNDS = 3


@dataclass(frozen=True)
class Upload:
    bytes: int
    ours_s: float
    raw_s: float
    stored: bool
    """Every object of both uploads found in the bucket with its file's size."""

    @property
    def ours_mb_s(self) -> float:
        return self.bytes / 1e6 / self.ours_s

    @property
    def raw_mb_s(self) -> float:
        return self.bytes / 1e6 / self.raw_s

    @property
    def ratio(self) -> float:
        return self.ours_mb_s / self.raw_mb_s


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
    upload: Upload

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
            taken, parts = await sets.take({"personnel": store}, created_by=OPERATOR)
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
            # Dropped before ours is restored: a million people's copies take 20 GB each.
            await admin.execute('DROP DATABASE "bench_bare_restore" WITH (FORCE)')

            began = time.perf_counter()
            digest = await sets.restore(store, parts[0], target="bench_ours_restore")
            ours_restore_s = time.perf_counter() - began
            upload = await measure_upload(set_folder(work_dir / "sets", taken.id), taken.id, work_dir / "s3")
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
            upload=upload,
        )
    finally:
        for scratch in ("bench_bare_restore", "bench_ours_restore"):
            await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.close()
        shutil.rmtree(work_dir, ignore_errors=True)


async def measure_upload(folder: Path, set_id: str, work_dir: Path) -> Upload:
    """Uploads the set in `folder` through the service's S3 storage, then the same files with boto3's
    `upload_file`, to a moto server of its own."""
    await asyncio.to_thread(work_dir.mkdir, parents=True)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = ManagedProcess(
        "moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], log_dir=work_dir
    )
    server.start()
    try:
        await asyncio.to_thread(
            wait_until, lambda: _answering(endpoint), timeout=60, what="the S3 server (moto)", process=server
        )
        client: Any = boto3.session.Session().client("s3", endpoint_url=endpoint, **S3_KEYS)
        await asyncio.to_thread(client.create_bucket, Bucket=BUCKET)
        sizes = await asyncio.to_thread(_sizes, folder)
        files = list(sizes)
        defaults = BackupSettings.model_fields
        storage = S3Storage(
            S3Target(
                bucket=BUCKET,
                prefix="ours/",
                endpoint_url=endpoint,
                region=S3_KEYS["region_name"],
                access_key_id=S3_KEYS["aws_access_key_id"],
                secret_access_key=S3_KEYS["aws_secret_access_key"],
                addressing_style="path",
                multipart_threshold_bytes=int(defaults["s3_multipart_threshold_bytes"].default),
                multipart_chunk_bytes=int(defaults["s3_multipart_chunk_bytes"].default),
                parts_in_flight=int(defaults["s3_parts_in_flight"].default),
                max_attempts=int(defaults["s3_max_attempts"].default),
                connect_timeout_seconds=float(defaults["s3_connect_timeout_seconds"].default),
                read_timeout_seconds=float(defaults["s3_read_timeout_seconds"].default),
            ),
            backup_dir=work_dir,
        )
        ours: list[float] = []
        raw: list[float] = []
        stored = True
        for round_ in range(UPLOAD_ROUNDS):
            sent = work_dir / f"sent-{round_}"
            await asyncio.to_thread(shutil.copytree, folder, sent)
            set_name = f"{set_id}-{round_}"
            began = time.perf_counter()
            await storage.publish(sent, set_name, files)
            ours.append(time.perf_counter() - began)
            began = time.perf_counter()
            for name in files:
                await asyncio.to_thread(client.upload_file, str(folder / name), BUCKET, f"raw/{set_name}/{name}")
            raw.append(time.perf_counter() - began)
            stored = stored and await asyncio.to_thread(_stored, client, set_name, sizes)
            await asyncio.to_thread(_empty, client)
        return Upload(
            bytes=sum(sizes.values()), ours_s=statistics.median(ours), raw_s=statistics.median(raw), stored=stored
        )
    finally:
        server.stop()


def _sizes(folder: Path) -> dict[str, int]:
    """The set's files in the order the service uploads them (the manifest last), with their sizes."""
    names = [*sorted(p.name for p in folder.iterdir() if p.name != MANIFEST_FILE), MANIFEST_FILE]
    return {name: (folder / name).stat().st_size for name in names}


def _empty(client: Any) -> None:
    """Removes the round's objects, so the server holds one round's in memory at most."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys = [{"Key": entry["Key"]} for entry in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})


def _stored(client: Any, set_id: str, sizes: dict[str, int]) -> bool:
    return all(
        int(client.head_object(Bucket=BUCKET, Key=key)["ContentLength"]) == size
        for name, size in sizes.items()
        for key in (f"ours/sets/{set_id}/{name}", f"raw/{set_id}/{name}")
    )


def _answering(endpoint: str) -> bool:
    try:
        return httpx.get(f"{endpoint}/moto-api/", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


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
        f"| upload of that set to S3-compatible storage (moto server on this machine; "
        f"{result.upload.bytes / 1e6:,.0f} MB; {'every object stored' if result.upload.stored else 'OBJECTS MISSING'}) "
        f"| {result.upload.ours_mb_s:,.1f} MB/s | {result.upload.raw_mb_s:,.1f} MB/s (boto3 upload_file) "
        f"| {result.upload.ratio:.2f} |",
    ]
