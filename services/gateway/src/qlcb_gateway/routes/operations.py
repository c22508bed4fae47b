from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Query, status

from qlcb.backup.v1 import backup_pb2
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.schemas import STORE, BackupCreate, BackupPublic, RestoreCreate, RestorePublic

router = APIRouter(prefix="/v1", tags=["Sao lưu"])


def _backup(backup: backup_pb2.Backup) -> BackupPublic:
    return BackupPublic(
        id=backup.id,
        store=backup.store,
        created_at=backup.created_at.ToDatetime(tzinfo=UTC),
        size_bytes=backup.size_bytes,
        sha256=backup.sha256,
        content_digest=backup.content_digest,
    )


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
    """Phục hồi bản sao lưu vào một CSDL mới và kiểm tra nội dung."""
    response = await backends.backup.RestoreBackup(
        backup_pb2.RestoreBackupRequest(backup_id=backup_id, target_database=body.target_database),
        **backends.call_options(principal.token),
    )
    return RestorePublic(
        target_database=response.target_database,
        content_digest=response.content_digest,
        verified=response.verified,
    )
