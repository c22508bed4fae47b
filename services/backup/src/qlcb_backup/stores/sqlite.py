"""SQLite stores (the one-machine run): the online backup API gives a consistent copy."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from qlcb_backup.stores.base import SORTED_MD5, StoreVersions, combine
from qlcb_common.errors import AlreadyExists, FailedPrecondition


class SqliteStore:
    switches_online = False

    def __init__(self, url: str) -> None:
        database = make_url(url).database
        if not database:
            raise ValueError(f"SQLite URL without a file: {url}")
        self.path = Path(database)

    async def dump(self, destination: Path) -> str:
        await asyncio.to_thread(_copy, self.path, destination)
        return await asyncio.to_thread(file_digest, destination)

    async def versions(self) -> StoreVersions:
        return StoreVersions(
            tool=f"sqlite3 {sqlite3.sqlite_version} online backup",
            schema=await asyncio.to_thread(schema_digest, self.path),
            digest_algorithm=SORTED_MD5,
        )

    def target_path(self, name: str) -> Path:
        return self.path.parent / f"{name}.sqlite3"

    async def target_exists(self, name: str) -> bool:
        return self.target_path(name).exists()

    async def restore(self, source: Path, name: str) -> str:
        target = self.target_path(name)
        if target.exists():
            raise AlreadyExists(f"target_database: {target.name} đã tồn tại")
        try:
            await asyncio.to_thread(_copy, source, target)
            return await asyncio.to_thread(file_digest, target)
        except BaseException:
            target.unlink(missing_ok=True)
            raise

    async def discard(self, name: str) -> None:
        target = self.target_path(name)
        if target == self.path:
            raise FailedPrecondition(f"{target.name} là tệp đang chạy, không xóa")
        target.unlink(missing_ok=True)

    async def switch(self, restored: str, *, keep_as: str) -> None:
        """SQLite is the one-machine run's store: the services hold its file open, so a file renamed
        under them would keep taking their writes. The operator stops them and copies the file."""
        raise FailedPrecondition(
            f"Kho SQLite không chuyển đổi khi dịch vụ đang chạy: dừng các dịch vụ, giữ {self.path.name} "
            f"thành {self.target_path(keep_as).name}, chép {self.target_path(restored).name} thành "
            f"{self.path.name}, rồi khởi động lại"
        )


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def file_digest(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        digests = []
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            rows = sorted("\x1f".join(map(repr, row)) for row in conn.execute(f"SELECT * FROM {quoted}"))
            digests.append((table, hashlib.md5("\n".join(rows).encode(), usedforsecurity=False).hexdigest()))
        return combine(digests)
    finally:
        conn.close()


def schema_digest(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        definitions = [row[0] or "" for row in conn.execute("SELECT sql FROM sqlite_master ORDER BY type, name")]
        versioned = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone() if versioned else None
    finally:
        conn.close()
    digest = hashlib.sha256("\n".join(definitions).encode()).hexdigest()
    return f"revision:{revision[0] if revision else 'none'} sql-sha256:{digest}"
