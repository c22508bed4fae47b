from __future__ import annotations

from typing import Any

from qlcb.backup.v1 import backup_pb2, backup_pb2_grpc
from qlcb_backup.catalog import service as catalog
from qlcb_backup.catalog.service import BackupSets
from qlcb_backup.drills.service import Drills, drill_to_proto
from qlcb_backup.restores.service import Restores, restore_to_proto
from qlcb_backup.stores.registry import StoreRegistry
from qlcb_common.db import Database
from qlcb_common.grpc_interceptor import current_principal

Context = Any


class BackupServicer(backup_pb2_grpc.BackupServiceServicer):
    def __init__(
        self, db: Database, sets: BackupSets, stores: StoreRegistry, restores: Restores, drills: Drills
    ) -> None:
        self._db = db
        self._sets = sets
        self._stores = stores
        self._restores = restores
        self._drills = drills

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

    async def RequestRestore(
        self, request: backup_pb2.RequestRestoreRequest, context: Context
    ) -> backup_pb2.RequestRestoreResponse:
        record, rows = await self._restores.request(
            current_principal(),
            set_id=request.set_id,
            stores=list(request.stores),
            target_suffix=request.target_suffix,
            reason=request.reason,
        )
        return backup_pb2.RequestRestoreResponse(restore=restore_to_proto(record, rows))

    async def ConfirmRestore(
        self, request: backup_pb2.ConfirmRestoreRequest, context: Context
    ) -> backup_pb2.ConfirmRestoreResponse:
        record, rows = await self._restores.confirm(current_principal(), request.restore_id)
        return backup_pb2.ConfirmRestoreResponse(restore=restore_to_proto(record, rows))

    async def CancelRestore(
        self, request: backup_pb2.CancelRestoreRequest, context: Context
    ) -> backup_pb2.CancelRestoreResponse:
        record, rows = await self._restores.cancel(current_principal(), request.restore_id)
        return backup_pb2.CancelRestoreResponse(restore=restore_to_proto(record, rows))

    async def SwitchRestore(
        self, request: backup_pb2.SwitchRestoreRequest, context: Context
    ) -> backup_pb2.SwitchRestoreResponse:
        record, rows = await self._restores.switch(
            current_principal(), request.restore_id, replace_live=request.replace_live
        )
        return backup_pb2.SwitchRestoreResponse(restore=restore_to_proto(record, rows))

    async def ListRestores(
        self, request: backup_pb2.ListRestoresRequest, context: Context
    ) -> backup_pb2.ListRestoresResponse:
        catalog.require_operator(current_principal())
        restores = await self._restores.list_all()
        return backup_pb2.ListRestoresResponse(restores=[restore_to_proto(r, rows) for r, rows in restores])

    async def RunDrill(self, request: backup_pb2.RunDrillRequest, context: Context) -> backup_pb2.RunDrillResponse:
        actor = current_principal()
        catalog.require_operator(actor)
        record, rows = await self._drills.run(started_by=actor.subject)
        return backup_pb2.RunDrillResponse(drill=drill_to_proto(record, rows))

    async def ListDrills(
        self, request: backup_pb2.ListDrillsRequest, context: Context
    ) -> backup_pb2.ListDrillsResponse:
        catalog.require_operator(current_principal())
        drills = await self._drills.list_all()
        return backup_pb2.ListDrillsResponse(drills=[drill_to_proto(d, rows) for d, rows in drills])

    async def PruneBackupSets(
        self, request: backup_pb2.PruneBackupSetsRequest, context: Context
    ) -> backup_pb2.PruneBackupSetsResponse:
        actor = current_principal()
        catalog.require_operator(actor)
        pruned = await self._sets.prune(actor=actor.subject)
        async with self._db.unit_of_work() as session:
            parts = {s.id: p for s, p in await catalog.list_sets(session)}
        return backup_pb2.PruneBackupSetsResponse(pruned=[catalog.set_to_proto(s, parts.get(s.id, [])) for s in pruned])
