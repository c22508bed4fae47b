from __future__ import annotations

from pathlib import Path
from typing import Any

from qlcb.backup.v1 import backup_pb2, backup_pb2_grpc
from qlcb_backup.catalog import service as catalog
from qlcb_backup.stores.registry import StoreRegistry
from qlcb_common.db import Database
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import current_principal

Context = Any


class BackupServicer(backup_pb2_grpc.BackupServiceServicer):
    def __init__(self, db: Database, outbox: Outbox, stores: StoreRegistry, backup_dir: Path) -> None:
        self._db = db
        self._outbox = outbox
        self._stores = stores
        self._backup_dir = backup_dir

    async def CreateBackup(
        self, request: backup_pb2.CreateBackupRequest, context: Context
    ) -> backup_pb2.CreateBackupResponse:
        actor = current_principal()
        catalog.require_operator(actor)
        store = self._stores.get(request.store)
        taken = await catalog.take_backup(store, store_name=request.store, backup_dir=self._backup_dir)
        async with self._db.unit_of_work() as session:
            record = await catalog.record_backup(
                session, outbox=self._outbox, actor=actor, store_name=request.store, taken=taken
            )
        catalog.backup_completed(record)
        return backup_pb2.CreateBackupResponse(backup=catalog.to_proto(record))

    async def ListBackups(
        self, request: backup_pb2.ListBackupsRequest, context: Context
    ) -> backup_pb2.ListBackupsResponse:
        catalog.require_operator(current_principal())
        if request.store and request.store not in self._stores:
            return backup_pb2.ListBackupsResponse()
        async with self._db.unit_of_work() as session:
            records = await catalog.list_backups(session, store_name=request.store)
        return backup_pb2.ListBackupsResponse(backups=[catalog.to_proto(r) for r in records])

    async def RestoreBackup(
        self, request: backup_pb2.RestoreBackupRequest, context: Context
    ) -> backup_pb2.RestoreBackupResponse:
        catalog.require_operator(current_principal())
        async with self._db.unit_of_work() as session:
            record = await catalog.get_backup(session, request.backup_id)
        digest = await catalog.restore_backup(self._stores.get(record.store), record, target=request.target_database)
        return backup_pb2.RestoreBackupResponse(
            target_database=request.target_database,
            content_digest=digest,
            verified=digest == record.content_digest,
        )
