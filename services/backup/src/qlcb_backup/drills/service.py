"""Restore drills (R-OPS-2, ADR 0028): the newest good set restored into scratch databases, every
part verified against its backup's content digest, the copies dropped, the result kept, published
and exported for the alert."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Final

import structlog
from prometheus_client import Gauge
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.backup.v1 import backup_pb2, events_pb2
from qlcb_backup.catalog.models import BackupRecord, BackupSetPart, BackupSetRecord
from qlcb_backup.catalog.service import GOOD, BackupSets
from qlcb_backup.drills.models import DrillPartRecord, DrillRecord
from qlcb_backup.restores.service import part_to_proto
from qlcb_backup.stores.registry import StoreRegistry
from qlcb_common.db import Database
from qlcb_common.errors import ServiceError
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox

log = structlog.get_logger(__name__)

RUNNING: Final = "running"
PASSED: Final = "passed"
FAILED: Final = "failed"
NO_GOOD_SET: Final = "Chưa có bộ sao lưu hoàn tất nào để diễn tập phục hồi"
INTERRUPTED: Final = "Bị gián đoạn: dịch vụ sao lưu dừng khi đang diễn tập"
LAST_DRILL = Gauge(
    "qlcb_backup_last_drill_timestamp_seconds",
    "When the newest restore drill of each configured store ended; 0 for a store never drilled",
    ["store"],
)
LAST_DRILL_PASSED = Gauge(
    "qlcb_backup_last_drill_passed",
    "1 when the newest restore drill of the store restored and verified it, 0 when it failed or none ran",
    ["store"],
)


def scratch_name(drill_id: str, store: str) -> str:
    return f"drill_{drill_id.replace('-', '')[:12]}_{store}"[:63]


class Drills:
    def __init__(self, db: Database, outbox: Outbox, sets: BackupSets, stores: StoreRegistry) -> None:
        self._db = db
        self._outbox = outbox
        self._sets = sets
        self._stores = stores

    async def run(self, *, started_by: str) -> tuple[DrillRecord, list[DrillPartRecord]]:
        """Restores each part of the newest good set that the service still backs up. A drill that
        fails at one part goes on with the others, so the result names every store that failed."""
        drill_id = str(uuid.uuid4())
        async with self._db.unit_of_work() as session:
            newest = await session.scalar(
                select(BackupSetRecord)
                .where(BackupSetRecord.status == GOOD)
                .order_by(BackupSetRecord.created_at.desc())
                .limit(1)
            )
            record = DrillRecord(
                id=drill_id,
                set_id=newest.id if newest is not None else None,
                status=RUNNING,
                started_by=started_by,
                started_at=datetime.now(UTC),
            )
            session.add(record)
            await session.flush()
            backups: list[BackupRecord] = []
            if newest is not None:
                backups = list(
                    (
                        await session.scalars(
                            select(BackupRecord)
                            .join(BackupSetPart, BackupSetPart.backup_id == BackupRecord.id)
                            .where(BackupSetPart.set_id == newest.id)
                            .order_by(BackupRecord.store)
                        )
                    ).all()
                )
            rows = [
                DrillPartRecord(
                    drill_id=drill_id,
                    store=backup.store,
                    backup_id=backup.id,
                    target=scratch_name(drill_id, backup.store),
                    expected_digest=backup.content_digest,
                )
                for backup in backups
                if backup.store in self._stores
            ]
            session.add_all(rows)
        failures = [] if rows else [NO_GOOD_SET]
        by_id = {backup.id: backup for backup in backups}
        for row in rows:
            store = self._stores.get(row.store)
            try:
                row.content_digest = await self._sets.restore(store, by_id[row.backup_id], target=row.target)
                row.verified = row.content_digest == row.expected_digest
                if not row.verified:
                    failures.append(f"{row.store}: nội dung phục hồi khác nội dung lúc sao lưu")
            except Exception as error:
                text = str(error) if isinstance(error, ServiceError) else f"{type(error).__name__}: {error}"
                failures.append(f"{row.store}: {text}")
            finally:
                await store.discard(row.target)
        async with self._db.unit_of_work() as session:
            stored = await session.get(DrillRecord, drill_id)
            assert stored is not None
            for row in rows:
                part = await session.get(DrillPartRecord, (drill_id, row.store))
                assert part is not None
                part.content_digest = row.content_digest or ""
                part.verified = bool(row.verified)
            await _finish(session, self._outbox, stored, rows, failures, actor=started_by)
        _export(stored, rows, self._stores.names)
        (log.info if stored.status == PASSED else log.warning)(
            "restore drill ended",
            drill_id=drill_id,
            set_id=stored.set_id,
            status=stored.status,
            failure=stored.failure,
        )
        return stored, rows

    async def recover(self) -> None:
        """At start: a drill cut short by a stop is failed and its scratch copies dropped."""
        async with self._db.unit_of_work() as session:
            cut = (await session.scalars(select(DrillRecord).where(DrillRecord.status == RUNNING))).all()
            for record in cut:
                rows = list(
                    (await session.scalars(select(DrillPartRecord).where(DrillPartRecord.drill_id == record.id))).all()
                )
                for row in rows:
                    if row.store in self._stores:
                        await self._stores.get(row.store).discard(row.target)
                await _finish(session, self._outbox, record, rows, [INTERRUPTED], actor=record.started_by)

    async def export_last(self) -> None:
        """At start, from the catalogue: the newest drill's result for each configured store."""
        async with self._db.unit_of_work() as session:
            newest = await session.scalar(
                select(DrillRecord)
                .where(DrillRecord.status != RUNNING)
                .order_by(DrillRecord.started_at.desc())
                .limit(1)
            )
            rows = (
                list(
                    (await session.scalars(select(DrillPartRecord).where(DrillPartRecord.drill_id == newest.id))).all()
                )
                if newest is not None
                else []
            )
        if newest is None:
            for store in self._stores.names:
                LAST_DRILL.labels(store).set(0)
                LAST_DRILL_PASSED.labels(store).set(0)
            return
        _export(newest, rows, self._stores.names)

    async def list_all(self) -> list[tuple[DrillRecord, list[DrillPartRecord]]]:
        async with self._db.unit_of_work() as session:
            drills = (await session.scalars(select(DrillRecord).order_by(DrillRecord.started_at.desc()))).all()
            parts: dict[str, list[DrillPartRecord]] = {}
            for row in (await session.scalars(select(DrillPartRecord).order_by(DrillPartRecord.store))).all():
                parts.setdefault(row.drill_id, []).append(row)
        return [(drill, parts.get(drill.id, [])) for drill in drills]


async def _finish(
    session: AsyncSession,
    outbox: Outbox,
    record: DrillRecord,
    rows: list[DrillPartRecord],
    failures: list[str],
    *,
    actor: str,
) -> None:
    record.status = FAILED if failures else PASSED
    record.failure = unicodedata.normalize("NFC", " ".join("; ".join(failures).split()))[:1000]
    record.finished_at = datetime.now(UTC)
    await outbox.add(
        session,
        subject=subjects.BACKUP_DRILL_FAILED if failures else subjects.BACKUP_DRILL_PASSED,
        payload=events_pb2.DrillFinished(drill=drill_to_proto(record, rows)),
        actor=actor,
    )


def _export(record: DrillRecord, rows: list[DrillPartRecord], stores: list[str]) -> None:
    """Every configured store gets the drill's time; it passed only where its part restored verified.
    A store the drilled set lacks, or a drill without a good set, counts as failed for it."""
    ended = (record.finished_at or record.started_at).timestamp()
    verified = {row.store for row in rows if row.verified}
    for store in stores:
        LAST_DRILL.labels(store).set(ended)
        LAST_DRILL_PASSED.labels(store).set(1 if store in verified else 0)


def drill_to_proto(record: DrillRecord, rows: list[DrillPartRecord]) -> backup_pb2.Drill:
    drill = backup_pb2.Drill(
        id=record.id,
        set_id=record.set_id or "",
        status=record.status,
        failure=record.failure or "",
        started_by=record.started_by,
        parts=[
            part_to_proto(
                row.store, row.backup_id, row.target, row.expected_digest, row.content_digest or "", bool(row.verified)
            )
            for row in rows
        ],
    )
    drill.started_at.FromDatetime(record.started_at)
    if record.finished_at is not None:
        drill.finished_at.FromDatetime(record.finished_at)
    return drill
