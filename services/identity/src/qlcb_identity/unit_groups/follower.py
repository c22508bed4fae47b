from __future__ import annotations

from qlcb_common.db import Database
from qlcb_common.events import streams
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.inbox import Inbox
from qlcb_common.events.streams import ensure_streams
from qlcb_common.nats_connection import connect
from qlcb_common.ops_http import Readiness
from qlcb_identity.db_models import Base
from qlcb_identity.realm.admin import keycloak_admin
from qlcb_identity.settings import IdentitySettings
from qlcb_identity.unit_groups.projection import UNIT_SUBJECTS, projection


async def follow_units(
    settings: IdentitySettings, realm: str, db: Database, inbox: Inbox, readiness: Readiness
) -> None:
    """Mirrors personnel's unit tree into Keycloak groups, event by event."""
    await db.wait_connected()
    await db.create_schema(Base.metadata)
    readiness.mark("database")
    nc = await connect(settings.nats_url, name="qlcb-identity")
    try:
        await ensure_streams(nc.jetstream())
        readiness.mark("nats")
        consumer = DurableConsumer(
            name="identity-units",
            stream=streams.PERSONNEL,
            filter_subjects=list(UNIT_SUBJECTS),
            db=db,
            inbox=inbox,
            js=nc.jetstream(),
            handler=projection(lambda: keycloak_admin(settings, realm)),
        )
        await consumer.run()
    finally:
        await nc.close()
