from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from zoneinfo import ZoneInfo

import grpc
from nats.js import JetStreamContext

from qlcb.backup.v1 import backup_pb2, backup_pb2_grpc
from qlcb_backup.catalog import models as _catalog  # noqa: F401  (registers the tables)
from qlcb_backup.catalog import service as catalog
from qlcb_backup.catalog.service import BackupSets
from qlcb_backup.db_models import make_outbox
from qlcb_backup.drills import models as _drills  # noqa: F401  (registers the tables)
from qlcb_backup.drills.service import Drills
from qlcb_backup.drills.worker import ScheduledDrills
from qlcb_backup.grpc_api import BackupServicer
from qlcb_backup.restores import models as _restores  # noqa: F401  (registers the tables)
from qlcb_backup.restores.service import Restores
from qlcb_backup.schedule.cron import Schedule
from qlcb_backup.schedule.retention import Retention
from qlcb_backup.schedule.worker import ScheduledSets
from qlcb_backup.settings import BackupSettings, StorageKind
from qlcb_backup.storage.base import SetStorage
from qlcb_backup.storage.local import LocalStorage
from qlcb_backup.storage.s3 import S3Storage, S3Target
from qlcb_backup.stores.keycloak import KeycloakStore
from qlcb_backup.stores.registry import StoreRegistry
from qlcb_common.db import Database
from qlcb_common.events.relay import OutboxRelay
from qlcb_common.faults import FaultPoints
from qlcb_common.grpc_runtime import GrpcApp
from qlcb_common.nats_connection import connect
from qlcb_common.settings import OidcSettings
from qlcb_common.shutdown import Worker

SERVICE = "backup"


def make_storage(settings: BackupSettings) -> SetStorage:
    if settings.storage is StorageKind.LOCAL:
        return LocalStorage(settings.backup_dir)
    access, secret = settings.s3_access_key_id, settings.s3_secret_access_key
    target = S3Target(
        bucket=settings.s3_bucket,
        prefix=settings.s3_prefix,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=access.get_secret_value() if access is not None else None,
        secret_access_key=secret.get_secret_value() if secret is not None else None,
        addressing_style=settings.s3_addressing_style,
        multipart_threshold_bytes=settings.s3_multipart_threshold_bytes,
        multipart_chunk_bytes=settings.s3_multipart_chunk_bytes,
        parts_in_flight=settings.s3_parts_in_flight,
        max_attempts=settings.s3_max_attempts,
        connect_timeout_seconds=settings.s3_connect_timeout_seconds,
        read_timeout_seconds=settings.s3_read_timeout_seconds,
    )
    return S3Storage(target, backup_dir=settings.backup_dir)


def make_realm_store(settings: BackupSettings) -> KeycloakStore | None:
    """The Keycloak realm's store, if backup is given its client of the realm (ADR 0025)."""
    if settings.keycloak_url is None or settings.keycloak_client_secret is None:
        return None
    return KeycloakStore(
        url=str(settings.keycloak_url),
        realm=settings.keycloak_realm,
        client_id=settings.keycloak_client_id,
        client_secret=settings.keycloak_client_secret,
        timeout_seconds=settings.keycloak_timeout_seconds,
    )


def build_app() -> GrpcApp:
    settings = BackupSettings()  # type: ignore[call-arg]
    outbox = make_outbox()
    stores = StoreRegistry(
        settings.stores,
        pg_bin_dir=settings.pg_bin_dir,
        streams=partial(connect, settings, name="qlcb-backup-streams", timeout=10.0)
        if settings.streams_store
        else None,
        realm=make_realm_store(settings),
    )
    faults = FaultPoints.from_settings()
    keyring = settings.keyring()
    storage = make_storage(settings)
    zone = ZoneInfo(settings.schedule_timezone)

    def sets_of(db: Database) -> BackupSets:
        return BackupSets(
            db,
            outbox,
            backup_dir=settings.backup_dir,
            keyring=keyring,
            faults=faults,
            storage=storage,
            retention=Retention(settings.keep_daily, settings.keep_weekly, settings.keep_monthly),
            zone=zone,
            lease_seconds=settings.restore_lease_seconds,
        )

    # The catalogue holds the restores themselves: it is never switched under the running service.
    own = [name for name, url in settings.stores.items() if url == settings.database_url]

    def restores_of(db: Database) -> Restores:
        return Restores(
            db, outbox, sets_of(db), stores, request_seconds=settings.restore_request_seconds, live_only=own
        )

    def register(server: grpc.aio.Server, db: Database) -> Sequence[str]:
        sets = sets_of(db)
        servicer = BackupServicer(db, sets, stores, restores_of(db), Drills(db, outbox, sets, stores))
        backup_pb2_grpc.add_BackupServiceServicer_to_server(servicer, server)
        return [backup_pb2.DESCRIPTOR.services_by_name["BackupService"].full_name]

    def background(db: Database, js: JetStreamContext) -> Sequence[Worker]:
        workers: list[Worker] = [OutboxRelay(service=SERVICE, db=db, outbox=outbox, js=js, faults=faults).run]
        if settings.schedule is not None:
            workers.append(ScheduledSets(sets_of(db), stores, Schedule(settings.schedule, zone)).run)
        if settings.drill_schedule is not None:
            drills = Drills(db, outbox, sets_of(db), stores)
            workers.append(ScheduledDrills(drills, Schedule(settings.drill_schedule, zone)).run)
        return workers

    async def prepare(db: Database) -> None:
        await sets_of(db).recover()
        await restores_of(db).recover()
        drills = Drills(db, outbox, sets_of(db), stores)
        await drills.recover()
        async with db.unit_of_work() as session:
            await catalog.export_last_success(session, stores=stores.names)
        await drills.export_last()

    return GrpcApp(
        name=SERVICE,
        settings=settings,
        oidc=OidcSettings(),  # type: ignore[call-arg]
        package="qlcb_backup",
        register=register,
        background=background,
        prepare=prepare,
    )
