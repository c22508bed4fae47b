from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Query, status

from qlcb.backup.v1 import backup_pb2
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.schemas import (
    STORE,
    BackupCreate,
    BackupPublic,
    BackupSetCreate,
    BackupSetPublic,
    RestoreCreate,
    RestorePublic,
)

router = APIRouter(prefix="/v1", tags=["Sao lưu"])


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
        backup_pb2.CreateBackupSetRequest(stores=body.stores), **backends.call_options(principal.token)
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
        backup_pb2.CreateBackupRequest(store=body.store), **backends.call_options(principal.token)
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


@router.post("/backups/{backup_id}/restore", status_code=status.HTTP_201_CREATED)
async def restore_backup(
    backup_id: str, body: RestoreCreate, principal: Caller, backends: BackendsDep
) -> RestorePublic:
    """Phục hồi một phần của bộ sao lưu vào một CSDL mới: kiểm tra chữ ký bản kê, SHA-256 và từng khối
    mã hóa trước, rồi kiểm tra nội dung. Phần hỏng, bị cắt, bị tráo hoặc sai khóa bị từ chối."""
    response = await backends.backup.RestoreBackup(
        backup_pb2.RestoreBackupRequest(backup_id=backup_id, target_database=body.target_database),
        **backends.call_options(principal.token),
    )
    return RestorePublic(
        target_database=response.target_database,
        content_digest=response.content_digest,
        verified=response.verified,
    )
