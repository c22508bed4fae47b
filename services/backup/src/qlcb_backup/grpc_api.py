from __future__ import annotations

from typing import Any

from qlcb.backup.v1 import backup_pb2, backup_pb2_grpc
from qlcb_backup.catalog import service as catalog
from qlcb_backup.catalog.service import BackupSets
from qlcb_backup.stores.registry import StoreRegistry
from qlcb_common.db import Database
from qlcb_common.grpc_interceptor import current_principal

Context = Any


class BackupServicer(backup_pb2_grpc.BackupServiceServicer):
    def __init__(self, db: Database, sets: BackupSets, stores: StoreRegistry) -> None:
        self._db = db
        self._sets = sets
        self._stores = stores

    async def CreateBackup(
        self, request: backup_pb2.CreateBackupRequest, context: Context
    ) -> backup_pb2.CreateBackupResponse:
        actor = current_principal()
        catalog.require_operator(actor)
        store = self._stores.get(request.store)
        record, parts = await self._sets.take({request.store: store}, created_by=actor.subject)
        return backup_pb2.CreateBackupResponse(backup=catalog.to_proto(parts[0], set_id=record.id))

    async def CreateBackupSet(
        self, request: backup_pb2.CreateBackupSetRequest, context: Context
    ) -> backup_pb2.CreateBackupSetResponse:
        actor = current_principal()
        catalog.require_operator(actor)
        names = list(request.stores) or self._stores.names
        stores = {name: self._stores.get(name) for name in names}
        record, parts = await self._sets.take(stores, created_by=actor.subject)
        return backup_pb2.CreateBackupSetResponse(set=catalog.set_to_proto(record, parts))

    async def ListBackupSets(
        self, request: backup_pb2.ListBackupSetsRequest, context: Context
    ) -> backup_pb2.ListBackupSetsResponse:
        catalog.require_operator(current_principal())
        async with self._db.unit_of_work() as session:
            sets = await catalog.list_sets(session)
        return backup_pb2.ListBackupSetsResponse(sets=[catalog.set_to_proto(s, parts) for s, parts in sets])

    async def ListBackups(
        self, request: backup_pb2.ListBackupsRequest, context: Context
    ) -> backup_pb2.ListBackupsResponse:
        catalog.require_operator(current_principal())
        if request.store and request.store not in self._stores:
            return backup_pb2.ListBackupsResponse()
        async with self._db.unit_of_work() as session:
            records = await catalog.list_backups(session, store_name=request.store)
        return backup_pb2.ListBackupsResponse(backups=[catalog.to_proto(r, set_id=s) for r, s in records])

    async def RestoreBackup(
        self, request: backup_pb2.RestoreBackupRequest, context: Context
    ) -> backup_pb2.RestoreBackupResponse:
        catalog.require_operator(current_principal())
        async with self._db.unit_of_work() as session:
            record = await catalog.get_backup(session, request.backup_id)
        digest = await self._sets.restore(self._stores.get(record.store), record, target=request.target_database)
        return backup_pb2.RestoreBackupResponse(
            target_database=request.target_database,
            content_digest=digest,
            verified=digest == record.content_digest,
        )

    async def PruneBackupSets(
        self, request: backup_pb2.PruneBackupSetsRequest, context: Context
    ) -> backup_pb2.PruneBackupSetsResponse:
        actor = current_principal()
        catalog.require_operator(actor)
        pruned = await self._sets.prune(actor=actor.subject)
        async with self._db.unit_of_work() as session:
            parts = {s.id: p for s, p in await catalog.list_sets(session)}
        return backup_pb2.PruneBackupSetsResponse(pruned=[catalog.set_to_proto(s, parts.get(s.id, [])) for s in pruned])
