from __future__ import annotations

from collections.abc import Sequence

import grpc
from nats.js import JetStreamContext

from qlcb.backup.v1 import backup_pb2, backup_pb2_grpc
from qlcb_backup.catalog import models as _catalog  # noqa: F401  (registers the table)
from qlcb_backup.catalog import service as catalog
from qlcb_backup.catalog.service import BackupSets
from qlcb_backup.db_models import make_outbox
from qlcb_backup.grpc_api import BackupServicer
from qlcb_backup.settings import BackupSettings
from qlcb_backup.stores.registry import StoreRegistry
from qlcb_common.db import Database
from qlcb_common.events.relay import OutboxRelay
from qlcb_common.faults import FaultPoints
from qlcb_common.grpc_runtime import GrpcApp
from qlcb_common.settings import OidcSettings
from qlcb_common.shutdown import Worker

SERVICE = "backup"


def build_app() -> GrpcApp:
    settings = BackupSettings()  # type: ignore[call-arg]
    outbox = make_outbox()
    stores = StoreRegistry(settings.stores, pg_bin_dir=settings.pg_bin_dir)
    faults = FaultPoints.from_settings()
    keyring = settings.keyring()

    def register(server: grpc.aio.Server, db: Database) -> Sequence[str]:
        sets = BackupSets(db, outbox, backup_dir=settings.backup_dir, keyring=keyring, faults=faults)
        servicer = BackupServicer(db, sets, stores)
        backup_pb2_grpc.add_BackupServiceServicer_to_server(servicer, server)
        return [backup_pb2.DESCRIPTOR.services_by_name["BackupService"].full_name]

    def background(db: Database, js: JetStreamContext) -> Sequence[Worker]:
        return [OutboxRelay(service=SERVICE, db=db, outbox=outbox, js=js, faults=faults).run]

    async def prepare(db: Database) -> None:
        await BackupSets(db, outbox, backup_dir=settings.backup_dir, keyring=keyring, faults=faults).recover()
        async with db.unit_of_work() as session:
            await catalog.export_last_success(session, stores=stores.names)

    return GrpcApp(
        name=SERVICE,
        settings=settings,
        oidc=OidcSettings(),  # type: ignore[call-arg]
        package="qlcb_backup",
        register=register,
        background=background,
        prepare=prepare,
    )
