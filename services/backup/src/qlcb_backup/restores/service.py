"""Restores by two system admins (R-OPS-2, ADR 0028): one asks, another confirms; every part goes
into a new database and is verified; a verified restore replaces the live data only by an explicit
switch, which keeps the replaced stores under another name."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Final

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.backup.v1 import backup_pb2, events_pb2
from qlcb_backup.catalog.models import BackupRecord, BackupSetPart, BackupSetRecord
from qlcb_backup.catalog.service import GOOD, BackupSets, require_operator
from qlcb_backup.restores.models import RestorePartRecord, RestoreRecord
from qlcb_backup.stores.base import KeepsOutbox, SwitchesOffline
from qlcb_backup.stores.registry import StoreRegistry
from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox

log = structlog.get_logger(__name__)

REQUESTED: Final = "requested"
RUNNING: Final = "running"
VERIFIED: Final = "verified"
FAILED: Final = "failed"
CANCELLED: Final = "cancelled"
SWITCHING: Final = "switching"
SWITCHED: Final = "switched"
SUFFIX = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
LAPSED: Final = "Hết hạn: không có quản trị viên thứ hai xác nhận"
INTERRUPTED: Final = "Bị gián đoạn: dịch vụ sao lưu dừng khi đang phục hồi"
SYSTEM_ACTOR: Final = "qlcb-backup"
RESEND_MARGIN: Final = timedelta(minutes=1)
"""How far before its set began a restored copy's sent events are sent again at the switch: the
outbox stamps are the producer's clock, the set's start the backup service's; nodes kept in time
differ by far less. A margin too wide only sends again what the consumers' inboxes drop."""


def target_name(store: str, suffix: str) -> str:
    return f"{store}_{suffix}"[:63]


def kept_name(store: str, suffix: str) -> str:
    """The name a live store is kept under once a restore replaces it."""
    return f"{store}_truoc_{suffix}"[:63]


def _same_account(record: RestoreRecord, actor: Principal) -> bool:
    """The four-eyes rule compares the subject and the username (case-insensitive, as Keycloak's):
    a realm switch gives the requester a new subject, and tokens of the former one verify for
    minutes after it (ADR 0029)."""
    if record.requested_by == actor.subject:
        return True
    return bool(record.requested_by_username) and record.requested_by_username.casefold() == actor.username.casefold()


def _reason(error: BaseException) -> str:
    text = str(error) if isinstance(error, ServiceError) else f"{type(error).__name__}: {error}"
    return unicodedata.normalize("NFC", " ".join(text.split()))[:1000]


class Restores:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        sets: BackupSets,
        stores: StoreRegistry,
        *,
        request_seconds: float,
        live_only: Collection[str],
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._sets = sets
        self._stores = stores
        self._request_seconds = request_seconds
        self._live_only = frozenset(live_only)
        """Stores never switched online: the backup service's own catalogue, which holds the restore."""

    async def request(
        self, actor: Principal, *, set_id: str, stores: list[str], target_suffix: str, reason: str
    ) -> tuple[RestoreRecord, list[RestorePartRecord]]:
        require_operator(actor)
        violations: list[FieldViolation] = []
        if not SUFFIX.fullmatch(target_suffix):
            violations.append(
                FieldViolation("target_suffix", "Chữ thường, số và '_', bắt đầu bằng chữ hoặc số, tối đa 40 ký tự")
            )
        reason = unicodedata.normalize("NFC", " ".join(reason.split()))
        if not reason:
            violations.append(FieldViolation("reason", "Ghi lý do phục hồi (sự cố, yêu cầu kiểm tra…)"))
        elif len(reason) > 1000:
            violations.append(FieldViolation("reason", "Tối đa 1000 ký tự"))
        if len(set(stores)) != len(stores):
            violations.append(FieldViolation("stores", "Mỗi kho chỉ một lần"))
        if violations:
            raise InvalidArgument(violations)
        now = datetime.now(UTC)
        async with self._db.unit_of_work() as session:
            backup_set = await session.get(BackupSetRecord, set_id) if set_id else None
            if backup_set is None:
                raise NotFound(f"set_id: không có bộ sao lưu {set_id!r}")
            if backup_set.status != GOOD:
                raise FailedPrecondition(f"set_id: bộ sao lưu {set_id} không dùng được ({backup_set.status})")
            parts = await _parts(session, set_id)
            chosen = stores or sorted(parts)
            missing = [store for store in chosen if store not in parts]
            if missing:
                raise InvalidArgument.single("stores", f"Bộ sao lưu {set_id} không có kho {', '.join(missing)}")
            unknown = [store for store in chosen if store not in self._stores]
            if unknown:
                raise FailedPrecondition(f"stores: dịch vụ sao lưu không còn cấu hình kho {', '.join(unknown)}")
            for store in chosen:
                target = target_name(store, target_suffix)
                if await self._stores.get(store).target_exists(target):
                    raise AlreadyExists(f"target_suffix: {target} đã tồn tại")
            record = RestoreRecord(
                id=str(uuid.uuid4()),
                set_id=set_id,
                status=REQUESTED,
                target_suffix=target_suffix,
                reason=reason,
                requested_by=actor.subject,
                requested_by_username=actor.username,
                requested_at=now,
                expires_at=now + timedelta(seconds=self._request_seconds),
            )
            session.add(record)
            await session.flush()
            rows = [
                RestorePartRecord(
                    restore_id=record.id,
                    store=store,
                    backup_id=parts[store].id,
                    target=target_name(store, target_suffix),
                    expected_digest=parts[store].content_digest,
                )
                for store in chosen
            ]
            session.add_all(rows)
            await session.flush()
            await self._publish(session, subjects.BACKUP_RESTORE_REQUESTED, record, rows, actor.subject)
        log.info("restore requested", restore_id=record.id, set_id=set_id, stores=chosen, by=actor.subject)
        return record, rows

    async def cancel(self, actor: Principal, restore_id: str) -> tuple[RestoreRecord, list[RestorePartRecord]]:
        require_operator(actor)
        async with self._db.unit_of_work() as session:
            record, rows = await self._locked(session, restore_id)
            if record.status != REQUESTED:
                raise FailedPrecondition(f"Yêu cầu phục hồi {restore_id} đang ở trạng thái {record.status}, không hủy")
            await self._end(session, record, rows, CANCELLED, f"Hủy bởi {actor.username or actor.subject}", actor)
        return record, rows

    async def confirm(self, actor: Principal, restore_id: str) -> tuple[RestoreRecord, list[RestorePartRecord]]:
        """Restores every part, in store order. The first part that fails ends the restore: every
        copy it made is dropped, the restore is recorded failed, and the error is answered."""
        require_operator(actor)
        now = datetime.now(UTC)
        async with self._db.unit_of_work() as session:
            record, rows = await self._locked(session, restore_id)
            if record.status == REQUESTED and record.expires_at <= now:
                await self._end(session, record, rows, CANCELLED, LAPSED, actor)
            elif record.status == REQUESTED and _same_account(record, actor):
                raise PermissionDenied("Người xác nhận phục hồi phải là một quản trị viên khác người yêu cầu")
            elif record.status == REQUESTED:
                record.status = RUNNING
                record.confirmed_by = actor.subject
                record.confirmed_at = now
            else:
                raise FailedPrecondition(
                    f"Yêu cầu phục hồi {restore_id} đang ở trạng thái {record.status}, không xác nhận được"
                )
        if record.status == CANCELLED:
            raise FailedPrecondition(f"Yêu cầu phục hồi {restore_id}: {LAPSED}")
        log.info("restore confirmed", restore_id=record.id, by=actor.subject, requested_by=record.requested_by)
        restored: list[RestorePartRecord] = []
        try:
            for row in rows:
                async with self._db.unit_of_work() as session:
                    backup = await session.get(BackupRecord, row.backup_id)
                if backup is None:
                    raise NotFound(f"Không có bản sao lưu {row.backup_id} của kho {row.store}")
                store = self._stores.get(row.store)
                row.content_digest = await self._sets.restore(store, backup, target=row.target)
                restored.append(row)
                row.verified = row.content_digest == row.expected_digest
                if not row.verified:
                    raise FailedPrecondition(
                        f"Kho {row.store}: nội dung phục hồi vào {row.target} khác nội dung lúc sao lưu"
                    )
        except BaseException as error:
            for row in restored:
                await self._stores.get(row.store).discard(row.target)
            async with self._db.unit_of_work() as session:
                record, stored = await self._locked(session, restore_id)
                _copy_results(stored, rows)
                await self._end(session, record, stored, FAILED, _reason(error), actor)
            log.warning("restore failed", restore_id=restore_id, reason=_reason(error))
            raise
        async with self._db.unit_of_work() as session:
            record, stored = await self._locked(session, restore_id)
            _copy_results(stored, rows)
            await self._end(session, record, stored, VERIFIED, "", actor)
        log.info("restore verified", restore_id=restore_id, targets=[row.target for row in rows])
        return record, stored

    async def switch(
        self, actor: Principal, restore_id: str, *, replace_live: bool
    ) -> tuple[RestoreRecord, list[RestorePartRecord]]:
        """Each part's live store is kept under `kept_name` and the restored copy takes its name. A
        switch cut short by an error stays `verified` with the parts already switched marked
        (`kept_as`); asking again switches the rest.

        Before a copy takes the live name, the outbox rows it holds as published since its set
        began are marked unpublished: the set's `events` part is read before the databases are
        dumped (ADR 0026), so an event published in between is in the database but maybe not in
        the part, nor in streams restored from it. The service's relay sends them again; the
        consumers' inboxes drop those they have."""
        require_operator(actor)
        if not replace_live:
            raise InvalidArgument.single("replace_live", "Phải là true: chuyển đổi thay dữ liệu đang chạy")
        async with self._db.unit_of_work() as session:
            record, rows = await self._locked(session, restore_id)
            if record.status != VERIFIED:
                raise FailedPrecondition(
                    f"Chỉ chuyển đổi được bản phục hồi đã kiểm tra; {restore_id} đang ở trạng thái {record.status}"
                )
            offline = [
                self._offline(row, record.target_suffix)
                for row in rows
                if not row.kept_as and not await self._switchable(row, record.target_suffix)
            ]
            if offline:
                raise FailedPrecondition(
                    f"Kho {'; '.join(offline)} không chuyển đổi trực tuyến được; chưa chuyển đổi kho nào. Yêu cầu "
                    "phục hồi lại chỉ các kho còn lại (stores) để chuyển đổi, hoặc làm theo docs/operations.md cho "
                    "các kho này"
                )
            record.status = SWITCHING
            backup_set = await session.get(BackupSetRecord, record.set_id)
            if backup_set is None:
                raise NotFound(f"Không có bộ sao lưu {record.set_id} của yêu cầu phục hồi {restore_id}")
            resend_since = backup_set.created_at - RESEND_MARGIN
        try:
            for row in rows:
                if row.kept_as:
                    continue
                store = self._stores.get(row.store)
                resent = 0
                if isinstance(store, KeepsOutbox):
                    resent = await store.resend_published_since(row.target, resend_since)
                    # Kept before the switch: one asked again finds these rows unpublished already.
                    async with self._db.unit_of_work() as session:
                        stored = await session.get(RestorePartRecord, (restore_id, row.store))
                        assert stored is not None
                        stored.resent_events = row.resent_events = (stored.resent_events or 0) + resent
                keep_as = kept_name(row.store, record.target_suffix)
                await store.switch(row.target, keep_as=keep_as)
                async with self._db.unit_of_work() as session:
                    stored = await session.get(RestorePartRecord, (restore_id, row.store))
                    assert stored is not None
                    stored.kept_as = row.kept_as = keep_as
                log.warning(
                    "store switched to its restored copy",
                    store=row.store,
                    restored=row.target,
                    kept_as=keep_as,
                    resent_events=resent,
                )
        except BaseException as error:
            async with self._db.unit_of_work() as session:
                record, _ = await self._locked(session, restore_id)
                record.status = VERIFIED
                record.failure = _reason(error)
            raise
        async with self._db.unit_of_work() as session:
            record, stored_rows = await self._locked(session, restore_id)
            record.status = SWITCHED
            record.switched_by = actor.subject
            record.switched_at = datetime.now(UTC)
            record.failure = ""
            await self._publish(session, subjects.BACKUP_RESTORE_SWITCHED, record, stored_rows, actor.subject)
        return record, stored_rows

    async def _switchable(self, row: RestorePartRecord, suffix: str) -> bool:
        """Online, or switched already by the operator's command with the services stopped."""
        if row.store in self._live_only:
            return False
        store = self._stores.get(row.store)
        if store.switches_online:
            return True
        return isinstance(store, SwitchesOffline) and await store.switched_offline(
            row.target, keep_as=kept_name(row.store, suffix)
        )

    def _offline(self, row: RestorePartRecord, suffix: str) -> str:
        """How the refusal names a store the switch cannot take now."""
        if row.store in self._live_only:
            return f"{row.store} (danh mục của chính dịch vụ sao lưu)"
        store = self._stores.get(row.store)
        if isinstance(store, SwitchesOffline):
            return f"{row.store} ({store.how_to_switch(row.target, keep_as=kept_name(row.store, suffix))})"
        return row.store

    async def recover(self) -> None:
        """At start: a restore cut short by a stop is failed and the copies it made are dropped; one
        cut short in its switch goes back to verified, to be switched again."""
        async with self._db.unit_of_work() as session:
            running = (
                await session.scalars(select(RestoreRecord).where(RestoreRecord.status.in_((RUNNING, SWITCHING))))
            ).all()
            cut = [(record.id, record.status) for record in running]
        for restore_id, status in cut:
            async with self._db.unit_of_work() as session:
                record, rows = await self._locked(session, restore_id)
                if status == SWITCHING:
                    record.status = VERIFIED
                    record.failure = "Bị gián đoạn khi chuyển đổi: yêu cầu chuyển đổi lại"
                    continue
                for row in rows:
                    if row.store in self._stores:
                        await self._stores.get(row.store).discard(row.target)
                await self._end(session, record, rows, FAILED, INTERRUPTED, None)
            log.warning("restore cut short by a stop", restore_id=restore_id, status=status)

    async def list_all(self) -> list[tuple[RestoreRecord, list[RestorePartRecord]]]:
        async with self._db.unit_of_work() as session:
            records = (await session.scalars(select(RestoreRecord).order_by(RestoreRecord.requested_at.desc()))).all()
            parts: dict[str, list[RestorePartRecord]] = {}
            for row in (await session.scalars(select(RestorePartRecord).order_by(RestorePartRecord.store))).all():
                parts.setdefault(row.restore_id, []).append(row)
        return [(record, parts.get(record.id, [])) for record in records]

    async def _locked(self, session: AsyncSession, restore_id: str) -> tuple[RestoreRecord, list[RestorePartRecord]]:
        record = await session.get(RestoreRecord, restore_id, with_for_update=True) if restore_id else None
        if record is None:
            raise NotFound(f"restore_id: không có yêu cầu phục hồi {restore_id!r}")
        rows = list(
            (
                await session.scalars(
                    select(RestorePartRecord)
                    .where(RestorePartRecord.restore_id == restore_id)
                    .order_by(RestorePartRecord.store)
                )
            ).all()
        )
        return record, rows

    async def _end(
        self,
        session: AsyncSession,
        record: RestoreRecord,
        rows: list[RestorePartRecord],
        status: str,
        failure: str,
        actor: Principal | None,
    ) -> None:
        record.status = status
        record.failure = failure
        record.finished_at = datetime.now(UTC)
        subject = {
            CANCELLED: subjects.BACKUP_RESTORE_CANCELLED,
            FAILED: subjects.BACKUP_RESTORE_FAILED,
            VERIFIED: subjects.BACKUP_RESTORE_VERIFIED,
        }[status]
        await self._publish(session, subject, record, rows, actor.subject if actor is not None else SYSTEM_ACTOR)

    async def _publish(
        self, session: AsyncSession, subject: str, record: RestoreRecord, rows: list[RestorePartRecord], actor: str
    ) -> None:
        restore = restore_to_proto(record, rows)
        payload = {
            subjects.BACKUP_RESTORE_REQUESTED: events_pb2.RestoreRequested,
            subjects.BACKUP_RESTORE_CANCELLED: events_pb2.RestoreCancelled,
            subjects.BACKUP_RESTORE_VERIFIED: events_pb2.RestoreVerified,
            subjects.BACKUP_RESTORE_FAILED: events_pb2.RestoreFailed,
            subjects.BACKUP_RESTORE_SWITCHED: events_pb2.RestoreSwitched,
        }[subject](restore=restore)
        await self._outbox.add(session, subject=subject, payload=payload, actor=actor)


async def _parts(session: AsyncSession, set_id: str) -> dict[str, BackupRecord]:
    query = (
        select(BackupRecord)
        .join(BackupSetPart, BackupSetPart.backup_id == BackupRecord.id)
        .where(BackupSetPart.set_id == set_id)
    )
    return {record.store: record for record in (await session.scalars(query)).all()}


def _copy_results(stored: list[RestorePartRecord], worked: list[RestorePartRecord]) -> None:
    results = {row.store: row for row in worked}
    for row in stored:
        row.content_digest = results[row.store].content_digest
        row.verified = results[row.store].verified


def part_to_proto(
    store: str,
    backup_id: str,
    target: str,
    expected: str,
    digest: str,
    verified: bool,
    kept_as: str = "",
    resent_events: int = 0,
) -> backup_pb2.RestoredPart:
    return backup_pb2.RestoredPart(
        store=store,
        backup_id=backup_id,
        target=target,
        expected_digest=expected,
        content_digest=digest,
        verified=verified,
        kept_as=kept_as,
        resent_events=resent_events,
    )


def restore_to_proto(record: RestoreRecord, rows: list[RestorePartRecord]) -> backup_pb2.Restore:
    restore = backup_pb2.Restore(
        id=record.id,
        set_id=record.set_id,
        status=record.status,
        target_suffix=record.target_suffix,
        reason=record.reason,
        requested_by=record.requested_by,
        confirmed_by=record.confirmed_by or "",
        switched_by=record.switched_by or "",
        failure=record.failure or "",
        parts=[
            part_to_proto(
                row.store,
                row.backup_id,
                row.target,
                row.expected_digest,
                row.content_digest or "",
                bool(row.verified),
                row.kept_as or "",
                row.resent_events or 0,
            )
            for row in rows
        ],
    )
    restore.requested_at.FromDatetime(record.requested_at)
    restore.expires_at.FromDatetime(record.expires_at)
    for field, moment in (
        ("confirmed_at", record.confirmed_at),
        ("finished_at", record.finished_at),
        ("switched_at", record.switched_at),
    ):
        if moment is not None:
            getattr(restore, field).FromDatetime(moment)
    return restore
