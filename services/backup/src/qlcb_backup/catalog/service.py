"""Taking, cataloguing and restoring backups (R-OPS-2). Only the system-admin tier may."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.backup.v1 import backup_pb2, events_pb2
from qlcb_backup.catalog.models import BackupRecord
from qlcb_backup.stores.base import Store
from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Section
from qlcb_common.errors import AlreadyExists, DataLoss, InvalidArgument, NotFound
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox

TARGET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
LAST_SUCCESS = Gauge(
    "qlcb_backup_last_success_timestamp_seconds",
    "When the newest catalogued backup of each configured store was taken; 0 for a store never backed up",
    ["store"],
)


@dataclass(frozen=True)
class TakenBackup:
    path: Path
    size_bytes: int
    sha256: str
    content_digest: str


def require_operator(actor: Principal) -> None:
    """Backups hold every unit's data: only a sector-wide grant of BACKUP OPERATE will do."""
    authz.require(actor, Section.BACKUP, Action.OPERATE, "/")


async def take_backup(store: Store, *, store_name: str, backup_dir: Path) -> TakenBackup:
    """Dumps the store to a file that appears under its final name only when complete."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    final = backup_dir / store_name / f"{store_name}-{stamp}-{uuid.uuid4().hex[:8]}.backup"
    partial = final.with_suffix(".partial")
    await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
    try:
        digest = await store.dump(partial)
        size, sha256 = await asyncio.to_thread(_seal, partial, final)
    finally:
        await asyncio.to_thread(partial.unlink, missing_ok=True)
    return TakenBackup(final, size, sha256, digest)


def _seal(partial: Path, final: Path) -> tuple[int, str]:
    """Flushes the finished dump to disk, gives it its final name, returns its size and SHA-256."""
    with partial.open("rb") as file:
        os.fsync(file.fileno())
    partial.rename(final)
    return final.stat().st_size, file_sha256(final)


async def record_backup(
    session: AsyncSession, *, outbox: Outbox, actor: Principal, store_name: str, taken: TakenBackup
) -> BackupRecord:
    record = BackupRecord(
        id=str(uuid.uuid4()),
        store=store_name,
        created_at=datetime.now(UTC),
        path=str(taken.path),
        size_bytes=taken.size_bytes,
        sha256=taken.sha256,
        content_digest=taken.content_digest,
        created_by=actor.subject,
    )
    session.add(record)
    await session.flush()
    await outbox.add(
        session,
        subject=subjects.BACKUP_RUN_COMPLETED,
        payload=events_pb2.BackupCompleted(backup=to_proto(record)),
        actor=actor.subject,
    )
    return record


def backup_completed(record: BackupRecord) -> None:
    """Called once the backup's catalogue entry is committed."""
    LAST_SUCCESS.labels(record.store).set(record.created_at.timestamp())


async def export_last_success(session: AsyncSession, *, stores: list[str]) -> None:
    """At start, from the catalogue: the newest backup of each configured store, 0 where there is none."""
    query = select(BackupRecord.store, func.max(BackupRecord.created_at)).group_by(BackupRecord.store)
    newest: dict[str, datetime | None] = {store: taken for store, taken in (await session.execute(query)).all()}
    for store in stores:
        taken = newest.get(store)
        LAST_SUCCESS.labels(store).set(taken.timestamp() if taken is not None else 0)


async def list_backups(session: AsyncSession, *, store_name: str) -> list[BackupRecord]:
    query = select(BackupRecord).order_by(BackupRecord.created_at.desc())
    if store_name:
        query = query.where(BackupRecord.store == store_name)
    return list((await session.scalars(query)).all())


async def get_backup(session: AsyncSession, backup_id: str) -> BackupRecord:
    record = await session.get(BackupRecord, backup_id) if backup_id else None
    if record is None:
        raise NotFound(f"Không có bản sao lưu {backup_id!r}")
    return record


async def restore_backup(store: Store, record: BackupRecord, *, target: str) -> str:
    """Restores into a new database after checking the file; returns the restored content digest."""
    if not TARGET_NAME.fullmatch(target):
        raise InvalidArgument.single("target_database", "Chữ thường, số và '_', bắt đầu bằng chữ, tối đa 63 ký tự")
    if await store.target_exists(target):
        raise AlreadyExists(f"target_database: cơ sở dữ liệu {target} đã tồn tại")
    path = Path(record.path)
    if not await asyncio.to_thread(_intact, path, record.sha256):
        raise DataLoss(f"Tệp sao lưu {record.id} bị mất hoặc hỏng (SHA-256 không khớp)")
    return await store.restore(path, target)


def _intact(path: Path, sha256: str) -> bool:
    return path.is_file() and file_sha256(path) == sha256


def file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def to_proto(record: BackupRecord) -> backup_pb2.Backup:
    backup = backup_pb2.Backup(
        id=record.id,
        store=record.store,
        size_bytes=record.size_bytes,
        sha256=record.sha256,
        content_digest=record.content_digest,
    )
    backup.created_at.FromDatetime(record.created_at)
    return backup
