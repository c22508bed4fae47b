from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from qlcb.backup.v1 import backup_pb2
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.schemas import (
    STORE,
    BackupCreate,
    BackupPublic,
    BackupSetCreate,
    BackupSetPublic,
    DrillPublic,
    RestoreCreate,
    RestoredPartPublic,
    RestorePublic,
    RestoreSwitch,
)

router = APIRouter(prefix="/v1", tags=["Sao lưu"])
NO_RESTORE: dict[int | str, dict[str, Any]] = {404: {"description": "No restore `restore_id`"}}


def _backup(backup: backup_pb2.Backup) -> BackupPublic:
    return BackupPublic(
        id=backup.id,
        store=backup.store,
        created_at=backup.created_at.ToDatetime(tzinfo=UTC),
        size_bytes=backup.size_bytes,
        sha256=backup.sha256,
        content_digest=backup.content_digest,
        set_id=backup.set_id,
    )


def _set(backup_set: backup_pb2.BackupSet) -> BackupSetPublic:
    return BackupSetPublic(
        id=backup_set.id,
        status=backup_set.status,
        created_at=backup_set.created_at.ToDatetime(tzinfo=UTC),
        finished_at=backup_set.finished_at.ToDatetime(tzinfo=UTC) if backup_set.HasField("finished_at") else None,
        stores=list(backup_set.stores),
        key_id=backup_set.key_id,
        size_bytes=backup_set.size_bytes,
        manifest_sha256=backup_set.manifest_sha256,
        failure=backup_set.failure,
        parts=[_backup(part) for part in backup_set.parts],
    )


@router.post("/backup-sets", status_code=status.HTTP_201_CREATED)
async def create_backup_set(body: BackupSetCreate, principal: Caller, backends: BackendsDep) -> BackupSetPublic:
    """Sao lưu ngay một bộ gồm các kho dữ liệu đã chọn (mọi kho khi bỏ trống), nén và mã hóa."""
    response = await backends.backup.CreateBackupSet(
        backup_pb2.CreateBackupSetRequest(stores=body.stores), **backends.backup_call_options(principal.token)
    )
    return _set(response.set)


@router.get("/backup-sets")
async def list_backup_sets(principal: Caller, backends: BackendsDep) -> list[BackupSetPublic]:
    """Các bộ sao lưu, mới nhất trước, kể cả bộ lỗi."""
    response = await backends.backup.ListBackupSets(
        backup_pb2.ListBackupSetsRequest(), **backends.call_options(principal.token)
    )
    return [_set(s) for s in response.sets]


@router.post("/backup-sets/prune")
async def prune_backup_sets(principal: Caller, backends: BackendsDep) -> list[BackupSetPublic]:
    """Xóa ngay các bộ sao lưu quá hạn giữ theo cấu hình (giữ N bộ theo ngày, tuần, tháng); không bao giờ
    xóa bộ hoàn tất mới nhất, cũng không xóa bộ đang được phục hồi. Trả về các bộ đã xóa."""
    response = await backends.backup.PruneBackupSets(
        backup_pb2.PruneBackupSetsRequest(), **backends.call_options(principal.token)
    )
    return [_set(s) for s in response.pruned]


@router.post("/backups", status_code=status.HTTP_201_CREATED)
async def create_backup(body: BackupCreate, principal: Caller, backends: BackendsDep) -> BackupPublic:
    """Sao lưu một kho dữ liệu ngay."""
    response = await backends.backup.CreateBackup(
        backup_pb2.CreateBackupRequest(store=body.store), **backends.backup_call_options(principal.token)
    )
    return _backup(response.backup)


@router.get("/backups")
async def list_backups(
    principal: Caller, backends: BackendsDep, store: Annotated[str | None, Query(pattern=STORE)] = None
) -> list[BackupPublic]:
    response = await backends.backup.ListBackups(
        backup_pb2.ListBackupsRequest(store=store or ""), **backends.call_options(principal.token)
    )
    return [_backup(b) for b in response.backups]


def _when(message: Any, field: str) -> datetime | None:
    return getattr(message, field).ToDatetime(tzinfo=UTC) if message.HasField(field) else None


def _part(part: backup_pb2.RestoredPart) -> RestoredPartPublic:
    return RestoredPartPublic(
        store=part.store,
        backup_id=part.backup_id,
        target=part.target,
        expected_digest=part.expected_digest,
        content_digest=part.content_digest,
        verified=part.verified,
        kept_as=part.kept_as,
        resent_events=part.resent_events,
    )


def _restore(restore: backup_pb2.Restore) -> RestorePublic:
    return RestorePublic(
        id=restore.id,
        set_id=restore.set_id,
        status=restore.status,
        target_suffix=restore.target_suffix,
        reason=restore.reason,
        requested_by=restore.requested_by,
        requested_at=restore.requested_at.ToDatetime(tzinfo=UTC),
        expires_at=restore.expires_at.ToDatetime(tzinfo=UTC),
        confirmed_by=restore.confirmed_by,
        confirmed_at=_when(restore, "confirmed_at"),
        finished_at=_when(restore, "finished_at"),
        switched_by=restore.switched_by,
        switched_at=_when(restore, "switched_at"),
        failure=restore.failure,
        parts=[_part(part) for part in restore.parts],
    )


def _drill(drill: backup_pb2.Drill) -> DrillPublic:
    return DrillPublic(
        id=drill.id,
        set_id=drill.set_id,
        status=drill.status,
        started_by=drill.started_by,
        started_at=drill.started_at.ToDatetime(tzinfo=UTC),
        finished_at=_when(drill, "finished_at"),
        failure=drill.failure,
        parts=[_part(part) for part in drill.parts],
    )


@router.post("/restores", status_code=status.HTTP_201_CREATED, responses={404: {"description": "No set `set_id`"}})
async def request_restore(body: RestoreCreate, principal: Caller, backends: BackendsDep) -> RestorePublic:
    """Yêu cầu phục hồi một bộ sao lưu (mọi phần hoặc các kho đã chọn) vào các CSDL mới. Chưa phục hồi gì
    cho đến khi một quản trị viên hệ thống khác xác nhận."""
    response = await backends.backup.RequestRestore(
        backup_pb2.RequestRestoreRequest(
            set_id=body.set_id, stores=body.stores, target_suffix=body.target_suffix, reason=body.reason
        ),
        **backends.call_options(principal.token),
    )
    return _restore(response.restore)


@router.get("/restores")
async def list_restores(principal: Caller, backends: BackendsDep) -> list[RestorePublic]:
    """Các yêu cầu phục hồi, mới nhất trước."""
    response = await backends.backup.ListRestores(
        backup_pb2.ListRestoresRequest(), **backends.call_options(principal.token)
    )
    return [_restore(r) for r in response.restores]


@router.post("/restores/{restore_id}/confirm", responses=NO_RESTORE)
async def confirm_restore(restore_id: str, principal: Caller, backends: BackendsDep) -> RestorePublic:
    """Xác nhận và chạy phục hồi (người xác nhận phải khác người yêu cầu): kiểm tra chữ ký bản kê, SHA-256
    và từng khối mã hóa của mỗi phần, phục hồi vào CSDL mới rồi kiểm tra nội dung. Phần hỏng, bị cắt,
    bị tráo hoặc sai khóa bị từ chối và không để lại CSDL nào."""
    response = await backends.backup.ConfirmRestore(
        backup_pb2.ConfirmRestoreRequest(restore_id=restore_id), **backends.backup_call_options(principal.token)
    )
    return _restore(response.restore)


@router.post("/restores/{restore_id}/cancel", responses=NO_RESTORE)
async def cancel_restore(restore_id: str, principal: Caller, backends: BackendsDep) -> RestorePublic:
    """Hủy một yêu cầu phục hồi chưa được xác nhận."""
    response = await backends.backup.CancelRestore(
        backup_pb2.CancelRestoreRequest(restore_id=restore_id), **backends.call_options(principal.token)
    )
    return _restore(response.restore)


@router.post("/restores/{restore_id}/switch", responses=NO_RESTORE)
async def switch_restore(
    restore_id: str, body: RestoreSwitch, principal: Caller, backends: BackendsDep
) -> RestorePublic:
    """Chuyển bản phục hồi đã kiểm tra thành dữ liệu đang chạy: CSDL đang chạy được giữ dưới tên
    <kho>_truoc_<hậu tố>, không bị xóa."""
    response = await backends.backup.SwitchRestore(
        backup_pb2.SwitchRestoreRequest(restore_id=restore_id, replace_live=body.replace_live),
        **backends.backup_call_options(principal.token),
    )
    return _restore(response.restore)


@router.post("/drills", status_code=status.HTTP_201_CREATED)
async def run_drill(principal: Caller, backends: BackendsDep) -> DrillPublic:
    """Diễn tập phục hồi ngay: bộ sao lưu hoàn tất mới nhất được phục hồi vào CSDL tạm, kiểm tra rồi xóa."""
    response = await backends.backup.RunDrill(
        backup_pb2.RunDrillRequest(), **backends.backup_call_options(principal.token)
    )
    return _drill(response.drill)


@router.get("/drills")
async def list_drills(principal: Caller, backends: BackendsDep) -> list[DrillPublic]:
    """Các lần diễn tập phục hồi, mới nhất trước."""
    response = await backends.backup.ListDrills(
        backup_pb2.ListDrillsRequest(), **backends.call_options(principal.token)
    )
    return [_drill(d) for d in response.drills]
