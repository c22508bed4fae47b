"""PostgreSQL stores: pg_dump of an exported snapshot, whose digest is computed in the same
snapshot while pg_dump runs, so that a backup taken under load still verifies exactly after restore."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import asyncpg
from sqlalchemy.engine import make_url

from qlcb_backup.stores.base import StoreVersions, combine
from qlcb_common.errors import AlreadyExists, FailedPrecondition

MAINTENANCE_DATABASE = "postgres"
DIGEST_ALGORITHM: Final = "rowsum1"
"""Per table: the row count and the sums of two 64-bit hashes of each row (ADR 0027)."""


def verifies(tool: str, algorithm: str) -> bool:
    """Whether a restore can verify a part with this tool and digest algorithm: not a pg_dump part
    of the sorted md5 this store no longer computes (ADR 0027)."""
    return not tool.startswith("pg_dump") or algorithm == DIGEST_ALGORITHM


class PostgresStore:
    switches_online = True

    def __init__(self, url: str, *, bin_dir: Path | None) -> None:
        parsed = make_url(url)
        self._host = parsed.host or "127.0.0.1"
        self._port = parsed.port or 5432
        self._user = parsed.username or "postgres"
        self._password = parsed.password
        self._database = parsed.database or MAINTENANCE_DATABASE
        self._bin_dir = bin_dir

    async def dump(self, destination: Path) -> str:
        conn = await self._connect(self._database)
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
                # pg_dump reads the snapshot on its own connection while this one digests it
                dumping = asyncio.create_task(
                    self._run(
                        "pg_dump",
                        "--format=custom",
                        # zstd compresses the part (protection/framing.py): a second compression costs time only
                        "--compress=0",
                        "--no-owner",
                        f"--snapshot={snapshot}",
                        f"--file={destination}",
                        database=self._database,
                    )
                )
                try:
                    digest = await content_digest(conn)
                    await dumping
                except BaseException:
                    dumping.cancel()
                    await asyncio.wait([dumping])
                    raise
        finally:
            await conn.close()
        return digest

    async def versions(self) -> StoreVersions:
        tool = await self._run("pg_dump", "--version")
        conn = await self._connect(self._database)
        try:
            columns = await conn.fetch(
                "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
                " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
            )
            revision = None
            if await conn.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL"):
                revision = await conn.fetchval("SELECT version_num FROM alembic_version")
        finally:
            await conn.close()
        schema = hashlib.sha256("\n".join("|".join(map(str, row)) for row in columns).encode()).hexdigest()
        return StoreVersions(
            tool=tool.strip(),
            schema=f"revision:{revision or 'none'} columns-sha256:{schema}",
            digest_algorithm=DIGEST_ALGORITHM,
        )

    async def target_exists(self, name: str) -> bool:
        conn = await self._connect(MAINTENANCE_DATABASE)
        try:
            return await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) is not None
        finally:
            await conn.close()

    async def restore(self, source: Path, name: str) -> str:
        admin = await self._connect(MAINTENANCE_DATABASE)
        try:
            try:
                await admin.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError as exc:
                raise AlreadyExists(f"target_database: cơ sở dữ liệu {name} đã tồn tại") from exc
            try:
                await self._run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={name}", str(source))
                restored = await self._connect(name)
                try:
                    return await content_digest(restored)
                finally:
                    await restored.close()
            except BaseException:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                raise
        finally:
            await admin.close()

    async def discard(self, name: str) -> None:
        if name == self._database:
            raise FailedPrecondition(f"{name} là cơ sở dữ liệu đang chạy, không xóa")
        admin = await self._connect(MAINTENANCE_DATABASE)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    async def resend_published_since(self, name: str, since: datetime) -> int:
        if name == self._database:
            raise FailedPrecondition(f"{name} là cơ sở dữ liệu đang chạy: chỉ đánh dấu gửi lại trên bản phục hồi")
        conn = await self._connect(name)
        try:
            if await conn.fetchval("SELECT to_regclass('public.inbox_marks') IS NOT NULL"):
                await conn.execute("UPDATE inbox_marks SET since = now()")
            if not await conn.fetchval("SELECT to_regclass('public.outbox') IS NOT NULL"):
                return 0
            status = await conn.execute("UPDATE outbox SET published_at = NULL WHERE published_at >= $1", since)
        finally:
            await conn.close()
        return int(status.split()[-1])

    async def switch(self, restored: str, *, keep_as: str) -> None:
        """Closes the live database to new sessions, ends the open ones (the services' pools test a
        connection before use and reconnect), renames it `keep_as` and the restored copy to its name."""
        live = self._database
        admin = await self._connect(MAINTENANCE_DATABASE)
        try:
            for name in (restored, keep_as):
                exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
                if (name == restored) != bool(exists):
                    state = "không có" if name == restored else "đã có"
                    raise FailedPrecondition(f"Cơ sở dữ liệu {name} {state}: không chuyển đổi {live}")
            await admin.execute(f'ALTER DATABASE "{live}" WITH ALLOW_CONNECTIONS false')
            try:
                await _rename_closed(admin, live, keep_as)
            except BaseException:
                await admin.execute(f'ALTER DATABASE "{live}" WITH ALLOW_CONNECTIONS true')
                raise
            await admin.execute(f'ALTER DATABASE "{keep_as}" WITH ALLOW_CONNECTIONS true')
            await _rename_closed(admin, restored, live)
        finally:
            await admin.close()

    async def _connect(self, database: str) -> Any:
        return await asyncpg.connect(
            host=self._host, port=self._port, user=self._user, password=self._password, database=database
        )

    async def _run(self, tool: str, *args: str, database: str | None = None) -> str:
        env = dict(os.environ, PGHOST=self._host, PGPORT=str(self._port), PGUSER=self._user)
        if self._password:
            env["PGPASSWORD"] = self._password
        if database:
            env["PGDATABASE"] = database
        process = await asyncio.create_subprocess_exec(
            str(self._tool(tool)), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            stdout, stderr = await process.communicate()
        except BaseException:
            if process.returncode is None:
                process.kill()
                await process.wait()
            raise
        if process.returncode != 0:
            raise FailedPrecondition(f"{tool} failed: {stderr.decode(errors='replace').strip()[-500:]}")
        return stdout.decode(errors="replace")

    def _tool(self, name: str) -> Path:
        if self._bin_dir is not None:
            return self._bin_dir / name
        found = shutil.which(name)
        if found:
            return Path(found)
        candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
        if not candidates:
            raise FailedPrecondition(f"{name} is not installed")
        return candidates[-1]


async def _rename_closed(admin: Any, name: str, new_name: str, *, attempts: int = 20) -> None:
    """Ends the sessions on `name` and renames it; a session that was being opened as the others were
    ended is ended on the next attempt."""
    for attempt in range(attempts):
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        try:
            await admin.execute(f'ALTER DATABASE "{name}" RENAME TO "{new_name}"')
            return
        except asyncpg.ObjectInUseError:
            if attempt == attempts - 1:
                raise FailedPrecondition(f"{name} vẫn có phiên đang mở sau {attempts} lần đóng") from None
            await asyncio.sleep(0.1 * (attempt + 1))


async def content_digest(conn: Any) -> str:
    """`rowsum1:` and a digest of every row of every table in the public schema, independent of
    physical order. Each table's rows are summed, not sorted: its count and the exact sums of two
    64-bit hashes of each row's text (PostgreSQL's `hashtextextended`, seeds 0 and 1, the hash
    that hash partitioning relies on staying the same across versions), so a changed, missing or
    duplicated row changes it and memory stays flat. Cut to the 64 characters the catalogue keeps."""
    tables = [
        row["table_name"]
        for row in await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    ]
    digests = []
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        # OFFSET 0 keeps the subquery apart, so each row's text is made once, not once per hash
        row = await conn.fetchrow(
            "SELECT count(*) AS rows, coalesce(sum(hashtextextended(line, 0)), 0) AS first,"
            " coalesce(sum(hashtextextended(line, 1)), 0) AS second"
            f" FROM (SELECT t::text AS line FROM {quoted} t OFFSET 0) AS lines"
        )
        digests.append((table, f"{row['rows']}:{row['first']}:{row['second']}"))
    prefix = DIGEST_ALGORITHM + ":"
    return prefix + combine(digests)[: 64 - len(prefix)]
