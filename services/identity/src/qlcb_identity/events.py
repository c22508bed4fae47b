from __future__ import annotations

import asyncio
from functools import partial

from qlcb_common import migrations
from qlcb_common.db import Database
from qlcb_common.events import streams
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.contracts import BACKUP_EVENTS, PERSONNEL_EVENTS
from qlcb_common.events.inbox import Inbox
from qlcb_common.events.outbox import Outbox
from qlcb_common.events.relay import OutboxRelay
from qlcb_common.events.streams import ensure_streams
from qlcb_common.faults import FaultPoints
from qlcb_common.nats_connection import connect
from qlcb_common.ops_http import Readiness
from qlcb_common.shutdown import Stopping
from qlcb_identity import realm_relink
from qlcb_identity.lifecycle.projection import LIFECYCLE_SUBJECTS
from qlcb_identity.lifecycle.projection import projection as lifecycle_projection
from qlcb_identity.positions.projection import POSITION_SUBJECTS
from qlcb_identity.positions.projection import projection as positions_projection
from qlcb_identity.realm.admin import AdminClients, keycloak_admin
from qlcb_identity.settings import IdentitySettings
from qlcb_identity.unit_groups.projection import UNIT_SUBJECTS, projection


async def run_events(
    settings: IdentitySettings,
    realm: str,
    admin: AdminClients,
    db: Database,
    inbox: Inbox,
    outbox: Outbox,
    readiness: Readiness,
    faults: FaultPoints,
    stopping: Stopping,
) -> None:
    """Identity's side of the event bus: it mirrors personnel's unit tree into Keycloak groups,
    follows people leaving, returning, changing units and leaving a head's post (R-ACC-8), relinks its accounts by
    username when backup switches a restored realm in (ADR 0029), and relays its own outbox
    (delegations); until stopping, when each finishes what it has in hand. A relink makes its own
    admin client: one made before the switch is of the realm it replaced."""
    await db.wait_connected()
    await migrations.prepare(db, "qlcb_identity", migrate=settings.migrate_at_start)
    async with db.unit_of_work() as session:
        realm_relink.UNLINKED.set(await realm_relink.count_unlinked(session))
    readiness.mark("database")
    nc = await connect(settings, name="qlcb-identity")
    try:
        await ensure_streams(nc.jetstream(), streams.IDENTITY, replicas=settings.nats_stream_replicas)
        readiness.mark("nats")
        follow = partial(
            DurableConsumer, db=db, inbox=inbox, js=nc.jetstream(), faults=faults, policy=settings.consumer_policy()
        )
        consumer = follow(
            name="identity-units",
            stream=streams.PERSONNEL,
            filter_subjects=list(UNIT_SUBJECTS),
            contracts=PERSONNEL_EVENTS,
            handler=projection(admin, outbox),
        )
        lifecycle = follow(
            name="identity-lifecycle",
            stream=streams.PERSONNEL,
            filter_subjects=list(LIFECYCLE_SUBJECTS),
            contracts=PERSONNEL_EVENTS,
            handler=lifecycle_projection(admin, outbox),
        )
        positions = follow(
            name="identity-positions",
            stream=streams.PERSONNEL,
            filter_subjects=list(POSITION_SUBJECTS),
            contracts=PERSONNEL_EVENTS,
            handler=positions_projection(admin),
        )
        relinks = follow(
            name="identity-realm-relink",
            stream=streams.BACKUP,
            filter_subjects=list(realm_relink.RELINK_SUBJECTS),
            contracts=BACKUP_EVENTS,
            handler=realm_relink.projection(lambda: keycloak_admin(settings, realm)),
        )
        relay = OutboxRelay(service="identity", db=db, outbox=outbox, js=nc.jetstream(), faults=faults)
        await asyncio.gather(
            consumer.run(stopping),
            lifecycle.run(stopping),
            positions.run(stopping),
            relinks.run(stopping),
            relay.run(stopping),
        )
    finally:
        await nc.close()
