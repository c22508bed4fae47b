"""Taking, cataloguing and restoring backup sets (R-OPS-2, ADR 0021). Only the system-admin tier may."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import unicodedata
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import structlog
from prometheus_client import Gauge
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.backup.v1 import backup_pb2, events_pb2
from qlcb_backup.catalog.models import BackupRecord, BackupSetPart, BackupSetRecord, RestoreLease
from qlcb_backup.protection.keyring import Keyring
from qlcb_backup.schedule.retention import Retention, sets_to_keep
from qlcb_backup.sets.manifest import MANIFEST_FILE
from qlcb_backup.sets.reading import open_part
from qlcb_backup.sets.writing import WrittenSet, part_file, remove_partial_sets, write_set
from qlcb_backup.storage.base import SetStorage
from qlcb_backup.stores.base import Store
from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Section
from qlcb_common.db import Database
from qlcb_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, ServiceError
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.faults import FaultPoints

log = structlog.get_logger(__name__)

TARGET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RUNNING: Final = "running"
GOOD: Final = "good"
FAILED: Final = "failed"
PRUNED: Final = "pruned"
RESTORE_LEASED: Final = "backup.restore.leased"
"""Fault point (ADR 0011): a restore holds its lease on the set and has not read it yet."""
INTERRUPTED: Final = "Bị gián đoạn: dịch vụ sao lưu dừng khi bộ chưa hoàn tất"
SYSTEM_ACTOR: Final = "qlcb-backup"
LAST_SUCCESS = Gauge(
    "qlcb_backup_last_success_timestamp_seconds",
    "When the newest good set holding each configured store was taken; 0 for a store never backed up",
    ["store"],
)
LAST_DURATION = Gauge(
    "qlcb_backup_last_set_duration_seconds",
    "How long the newest good set holding each store took to write, check and store",
    ["store"],
)
LAST_SIZE = Gauge(
    "qlcb_backup_last_part_size_bytes",
    "The size of each store's part (compressed and encrypted) in the newest good set holding it",
    ["store"],
)


def require_operator(actor: Principal) -> None:
    """Backups hold every unit's data: only a sector-wide grant of BACKUP OPERATE will do."""
    authz.require(actor, Section.BACKUP, Action.OPERATE, "/")


class BackupSets:
    """The set workflow: a catalogue row while the parts are written, marked good or failed after."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        *,
        backup_dir: Path,
        keyring: Keyring,
        faults: FaultPoints,
        storage: SetStorage,
        retention: Retention,
        zone: ZoneInfo,
        lease_seconds: float,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._backup_dir = backup_dir
        self._keyring = keyring
        self._faults = faults
        self._storage = storage
        self._retention = retention
        self._zone = zone
        self._lease_seconds = lease_seconds

    async def take(self, stores: Mapping[str, Store], *, created_by: str) -> tuple[BackupSetRecord, list[BackupRecord]]:
        set_id = str(uuid.uuid4())
        created_at = datetime.now(UTC)
        async with self._db.unit_of_work() as session:
            session.add(
                BackupSetRecord(
                    id=set_id,
                    status=RUNNING,
                    created_at=created_at,
                    stores=",".join(sorted(stores)),
                    key_id=self._keyring.current_id,
                    path=self._storage.location(set_id),
                    size_bytes=0,
                    manifest_sha256="",
                    failure="",
                    created_by=created_by,
                )
            )
        try:
            written = await write_set(
                stores,
                set_id=set_id,
                created_at=created_at,
                backup_dir=self._backup_dir,
                keyring=self._keyring,
                faults=self._faults,
            )
            files = [entry.file for entry in written.manifest.parts] + [MANIFEST_FILE]
            await self._storage.publish(written.folder, set_id, files)
        except Exception as error:
            reason = unicodedata.normalize("NFC", " ".join(f"{type(error).__name__}: {error}".split()))
            await self._fail(set_id, reason[:1000], actor=created_by)
            raise
        async with self._db.unit_of_work() as session:
            record, parts = await _mark_good(
                session, self._outbox, set_id, written, location=self._storage.location(set_id), actor=created_by
            )
        took = ((record.finished_at or record.created_at) - record.created_at).total_seconds()
        for part in parts:
            LAST_SUCCESS.labels(part.store).set(record.created_at.timestamp())
            LAST_DURATION.labels(part.store).set(took)
            LAST_SIZE.labels(part.store).set(part.size_bytes)
        log.info("backup set good", set_id=set_id, stores=record.stores, size_bytes=record.size_bytes)
        return record, parts

    async def _fail(self, set_id: str, reason: str, *, actor: str) -> None:
        async with self._db.unit_of_work() as session:
            record = await session.get(BackupSetRecord, set_id)
            if record is not None:
                await _mark_failed(session, self._outbox, record, reason, actor=actor)
        log.warning("backup set failed", set_id=set_id, reason=reason)

    async def recover(self) -> None:
        """At start: sets left running by a stop are failed, their partial folders removed, and
        whatever of them was written or uploaded already deleted."""
        removed = await asyncio.to_thread(remove_partial_sets, self._backup_dir)
        async with self._db.unit_of_work() as session:
            cut = (await session.scalars(select(BackupSetRecord).where(BackupSetRecord.status == RUNNING))).all()
            for record in cut:
                await _mark_failed(session, self._outbox, record, INTERRUPTED, actor=SYSTEM_ACTOR)
        for record in cut:
            try:
                await self._storage.remove(record.id)
            except ServiceError as error:
                log.warning("could not remove what a set cut short left", set_id=record.id, error=str(error))
        if removed:
            log.warning("removed the folders of sets cut short", folders=removed)

    async def restore(self, store: Store, record: BackupRecord, *, target: str) -> str:
        """Restores one part into a new database after checking the signed manifest, the part's
        SHA-256 and every chunk; returns the restored content digest. Live data is never touched:
        the target must not exist, and nothing is created unless the part opens whole."""
        if not TARGET_NAME.fullmatch(target):
            raise InvalidArgument.single("target_database", "Chữ thường, số và '_', bắt đầu bằng chữ, tối đa 63 ký tự")
        if await store.target_exists(target):
            raise AlreadyExists(f"target_database: cơ sở dữ liệu {target} đã tồn tại")
        backup_set, lease = await self._lease(record)
        await asyncio.to_thread(self._backup_dir.mkdir, parents=True, exist_ok=True)
        work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=".restore-", dir=self._backup_dir))
        try:
            await self._faults.hold(RESTORE_LEASED, {"set_id": backup_set.id, "backup_id": record.id})
            folder = await self._storage.fetch(backup_set.id, [MANIFEST_FILE, part_file(record.store)], work)
            await open_part(
                folder,
                set_id=backup_set.id,
                store=record.store,
                keyring=self._keyring,
                plain=work / "part",
            )
            return await store.restore(work / "part", target)
        finally:
            await asyncio.to_thread(shutil.rmtree, work, ignore_errors=True)
            async with self._db.unit_of_work() as session:
                await session.execute(delete(RestoreLease).where(RestoreLease.id == lease))

    async def _lease(self, record: BackupRecord) -> tuple[BackupSetRecord, str]:
        """The part's set, still good, with a lease on it that pruning respects. The set's row is read
        FOR SHARE, pruning's FOR UPDATE: either this lease is there when pruning looks, or the set is
        already pruned here."""
        async with self._db.unit_of_work() as session:
            membership = await session.get(BackupSetPart, record.id)
            backup_set = (
                await session.get(BackupSetRecord, membership.set_id, with_for_update={"read": True})
                if membership is not None
                else None
            )
            if backup_set is None or backup_set.status != GOOD:
                state = f" (bộ {backup_set.id}: {backup_set.status})" if backup_set is not None else ""
                raise FailedPrecondition(
                    f"Bản sao lưu {record.id} không thuộc bộ sao lưu nào đã hoàn tất và còn được giữ{state}"
                )
            now = datetime.now(UTC)
            lease = str(uuid.uuid4())
            session.add(
                RestoreLease(
                    id=lease,
                    set_id=backup_set.id,
                    backup_id=record.id,
                    taken_at=now,
                    expires_at=now + timedelta(seconds=self._lease_seconds),
                )
            )
        return backup_set, lease

    async def prune(self, *, actor: str) -> list[BackupSetRecord]:
        """Marks `pruned` the good sets retention no longer keeps, except the newest good set and any
        set a restore holds, with their events, in one transaction; then deletes their files."""
        async with self._db.unit_of_work() as session:
            good = list(
                (
                    await session.scalars(
                        select(BackupSetRecord)
                        .where(BackupSetRecord.status == GOOD)
                        .order_by(BackupSetRecord.created_at.desc())
                        .with_for_update()
                    )
                ).all()
            )
            held = set(
                (
                    await session.scalars(
                        select(RestoreLease.set_id).where(RestoreLease.expires_at > datetime.now(UTC))
                    )
                ).all()
            )
            keep = sets_to_keep({s.id: s.created_at for s in good}, self._retention, self._zone)
            pruned = [s for s in good if s.id not in keep and s.id not in held]
            parts = await _parts_of(session, [s.id for s in pruned])
            for record in pruned:
                record.status = PRUNED
                await self._outbox.add(
                    session,
                    subject=subjects.BACKUP_SET_PRUNED,
                    payload=events_pb2.BackupSetPruned(set=set_to_proto(record, parts.get(record.id, []))),
                    actor=actor,
                )
        for record in pruned:
            try:
                await self._storage.remove(record.id)
            except ServiceError as error:
                log.warning("a pruned set's files could not all be deleted", set_id=record.id, error=str(error))
        if pruned:
            log.info("backup sets pruned", sets=[s.id for s in pruned], held=sorted(held))
        return pruned


async def _mark_good(
    session: AsyncSession, outbox: Outbox, set_id: str, written: WrittenSet, *, location: str, actor: str
) -> tuple[BackupSetRecord, list[BackupRecord]]:
    record = await session.get(BackupSetRecord, set_id)
    if record is None:
        raise NotFound(f"Không có bộ sao lưu {set_id}")
    record.status = GOOD
    record.finished_at = datetime.now(UTC)
    record.size_bytes = written.size_bytes
    record.manifest_sha256 = written.manifest_sha256
    parts = []
    for entry in written.manifest.parts:
        part = BackupRecord(
            id=str(uuid.uuid4()),
            store=entry.store,
            created_at=record.created_at,
            path=f"{location}/{entry.file}",
            size_bytes=entry.size_bytes,
            sha256=entry.sha256,
            content_digest=entry.content_digest,
            created_by=record.created_by,
        )
        session.add(part)
        parts.append(part)
    await session.flush()
    for part in parts:
        session.add(BackupSetPart(backup_id=part.id, set_id=set_id))
        await outbox.add(
            session,
            subject=subjects.BACKUP_RUN_COMPLETED,
            payload=events_pb2.BackupCompleted(backup=to_proto(part, set_id=set_id)),
            actor=actor,
        )
    await outbox.add(
        session,
        subject=subjects.BACKUP_SET_COMPLETED,
        payload=events_pb2.BackupSetCompleted(set=set_to_proto(record, parts)),
        actor=actor,
    )
    await session.flush()
    return record, parts


async def _mark_failed(
    session: AsyncSession, outbox: Outbox, record: BackupSetRecord, reason: str, *, actor: str
) -> None:
    record.status = FAILED
    record.finished_at = datetime.now(UTC)
    record.failure = reason
    await outbox.add(
        session,
        subject=subjects.BACKUP_SET_FAILED,
        payload=events_pb2.BackupSetFailed(set=set_to_proto(record, [])),
        actor=actor,
    )


async def export_last_success(session: AsyncSession, *, stores: list[str]) -> None:
    """At start, from the catalogue: the newest backup of each configured store, 0 where there is none."""
    query = select(BackupRecord.store, func.max(BackupRecord.created_at)).group_by(BackupRecord.store)
    newest: dict[str, datetime | None] = {store: taken for store, taken in (await session.execute(query)).all()}
    for store in stores:
        taken = newest.get(store)
        LAST_SUCCESS.labels(store).set(taken.timestamp() if taken is not None else 0)


async def list_backups(session: AsyncSession, *, store_name: str) -> list[tuple[BackupRecord, str]]:
    """Every catalogued part, newest first, with its set."""
    query = (
        select(BackupRecord, BackupSetPart.set_id)
        .join(BackupSetPart, BackupSetPart.backup_id == BackupRecord.id)
        .order_by(BackupRecord.created_at.desc())
    )
    if store_name:
        query = query.where(BackupRecord.store == store_name)
    return [(record, set_id) for record, set_id in (await session.execute(query)).all()]


async def list_sets(session: AsyncSession) -> list[tuple[BackupSetRecord, list[BackupRecord]]]:
    sets = list((await session.scalars(select(BackupSetRecord).order_by(BackupSetRecord.created_at.desc()))).all())
    parts = await _parts_of(session, None)
    return [(s, parts.get(s.id, [])) for s in sets]


async def _parts_of(session: AsyncSession, set_ids: list[str] | None) -> dict[str, list[BackupRecord]]:
    """The parts of the sets named (of every set for None), each set's in store order."""
    parts: dict[str, list[BackupRecord]] = {}
    query = select(BackupRecord, BackupSetPart.set_id).join(BackupSetPart, BackupSetPart.backup_id == BackupRecord.id)
    if set_ids is not None:
        query = query.where(BackupSetPart.set_id.in_(set_ids))
    for record, set_id in (await session.execute(query.order_by(BackupRecord.store))).all():
        parts.setdefault(set_id, []).append(record)
    return parts


async def get_backup(session: AsyncSession, backup_id: str) -> BackupRecord:
    record = await session.get(BackupRecord, backup_id) if backup_id else None
    if record is None:
        raise NotFound(f"Không có bản sao lưu {backup_id!r}")
    return record


def to_proto(record: BackupRecord, *, set_id: str) -> backup_pb2.Backup:
    backup = backup_pb2.Backup(
        id=record.id,
        store=record.store,
        size_bytes=record.size_bytes,
        sha256=record.sha256,
        content_digest=record.content_digest,
        set_id=set_id,
    )
    backup.created_at.FromDatetime(record.created_at)
    return backup


def set_to_proto(record: BackupSetRecord, parts: list[BackupRecord]) -> backup_pb2.BackupSet:
    backup_set = backup_pb2.BackupSet(
        id=record.id,
        status=record.status,
        stores=record.stores.split(",") if record.stores else [],
        key_id=record.key_id,
        size_bytes=record.size_bytes or 0,
        manifest_sha256=record.manifest_sha256 or "",
        failure=record.failure or "",
        parts=[to_proto(part, set_id=record.id) for part in parts],
    )
    backup_set.created_at.FromDatetime(record.created_at)
    if record.finished_at is not None:
        backup_set.finished_at.FromDatetime(record.finished_at)
    return backup_set
