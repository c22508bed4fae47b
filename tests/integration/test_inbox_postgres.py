"""The inbox on PostgreSQL (ADR 0031, Throughput): a batch records its events first, each looked up
through the primary key by the insert itself; one that a concurrent transaction is recording (two
replicas pulling from one consumer) waits for it, and is left out when that one commits, so its
effect is applied once. A consumer on JetStream deletes the ids it no longer needs while it goes on."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import nats
import pytest
from google.protobuf.wrappers_pb2 import StringValue
from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb_common.db import Database
from qlcb_common.events import streams
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.contracts import Contract, Contracts
from qlcb_common.events.envelope import unpack, wrap
from qlcb_common.events.inbox import Inbox
from qlcb_common.settings import ConsumerPolicy
from qlcb_common.shutdown import Stopping
from qlcb_devstack.nats import NatsServer
from tests.support import System, eventually, sessions_waiting_on_locks

pytestmark = pytest.mark.integration


async def test_a_batch_records_only_what_no_transaction_recorded_and_waits_for_one_recording_it(
    system: System,
) -> None:
    assert system.infra.postgres is not None
    name = f"inbox_{uuid.uuid4().hex[:8]}"
    system.infra.postgres.create_database(name)
    metadata = MetaData()
    inbox = Inbox.of(metadata)
    db = Database(system.infra.postgres.dsn(name))
    try:
        await db.create_schema(metadata)
        async with db.unit_of_work() as session:
            assert await inbox.record_new(session, consumer="c", events=[("e1", "s"), ("e2", "s")]) == {"e1", "e2"}
        async with db.unit_of_work() as session:
            # Another consumer's record of the same event is its own.
            assert await inbox.record_new(session, consumer="d", events=[("e1", "s")]) == {"e1"}

        first_recorded = asyncio.Event()
        first_may_commit = asyncio.Event()

        async def first() -> set[str]:
            async with db.unit_of_work() as session:
                recorded = await inbox.record_new(session, consumer="c", events=[("e3", "s"), ("e4", "s")])
                first_recorded.set()
                await first_may_commit.wait()
                return recorded

        async def second() -> set[str]:
            await first_recorded.wait()
            async with db.unit_of_work() as session:
                return await inbox.record_new(session, consumer="c", events=[("e2", "s"), ("e4", "s"), ("e5", "s")])

        one = asyncio.create_task(first())
        other = asyncio.create_task(second())
        await first_recorded.wait()

        async def waiting() -> int:
            return await sessions_waiting_on_locks(system.postgres_dsn(name), name)

        await eventually(waiting, lambda n: n == 1, timeout=30, what="the second transaction to wait on e4's lock")
        assert not other.done()
        first_may_commit.set()
        assert await one == {"e3", "e4"}
        assert await asyncio.wait_for(other, timeout=30) == {"e5"}
    finally:
        await db.dispose()


SUBJECT = "qlcb.personnel.person.created"
CONTRACTS: Contracts = {SUBJECT: Contract(StringValue, lambda value: [])}


async def test_a_consumer_deletes_the_ids_it_kept_longer_than_its_time_and_still_drops_a_redelivery(
    system: System, own_nats: NatsServer
) -> None:
    """Ids processed more than the kept days before the consumer's latest go; the rest, and each
    event it processes meanwhile, stay, so an event delivered again still changes nothing."""
    assert system.infra.postgres is not None
    name = f"inbox_{uuid.uuid4().hex[:8]}"
    system.infra.postgres.create_database(name)
    metadata = MetaData()
    inbox = Inbox.of(metadata)
    effects = Table("effects", metadata, Column("id", Integer, primary_key=True), Column("value", String(50)))
    db = Database(system.infra.postgres.dsn(name))
    user, password = own_nats.credentials("ops")
    bus = await nats.connect(own_nats.url, user=user, password=password, allow_reconnect=False)
    stopping = Stopping()
    try:
        await db.create_schema(metadata)
        js = bus.jetstream()
        await streams.ensure_streams(js, streams.PERSONNEL)

        async def apply(session: AsyncSession, envelope: Envelope) -> None:
            await session.execute(insert(effects).values(value=unpack(envelope, StringValue).value))

        consumer = DurableConsumer(
            name="pruning",
            stream=streams.PERSONNEL,
            filter_subjects=[SUBJECT],
            db=db,
            inbox=inbox,
            js=js,
            contracts=CONTRACTS,
            handler=apply,
            policy=ConsumerPolicy(processed_kept=timedelta(days=30)),
        )
        latest = datetime.now(UTC) - timedelta(days=200)
        async with db.unit_of_work() as session:
            await session.execute(
                insert(inbox.table),
                [
                    {
                        "consumer": consumer.name,
                        "event_id": f"old-{age}",
                        "subject": SUBJECT,
                        "processed_at": latest - timedelta(days=age),
                    }
                    for age in (0, 29, 31, 365)
                ],
            )
        labels = {"consumer": consumer.name}
        before = REGISTRY.get_sample_value("qlcb_events_processed_ids_pruned_total", labels) or 0.0
        events = [wrap(SUBJECT, StringValue(value=v), actor="u", occurred_at=datetime.now(UTC)) for v in ("a", "b")]
        for envelope in events:
            await js.publish(SUBJECT, envelope.SerializeToString(), stream=streams.PERSONNEL.name)
        running = asyncio.create_task(consumer.run(stopping))

        async def state() -> tuple[list[str], list[str]]:
            async with db.unit_of_work() as session:
                ids = sorted(await session.scalars(select(inbox.table.c.event_id)))
                values = sorted(await session.scalars(select(effects.c.value)))
            return ids, values

        expected_ids = sorted(["old-0", "old-29", *(e.event_id for e in events)])
        await eventually(
            state, lambda found: found == (expected_ids, ["a", "b"]), timeout=30, what="pruned and applied"
        )
        assert REGISTRY.get_sample_value("qlcb_events_processed_ids_pruned_total", labels) == before + 2

        # The same event again (a message of its own, past the stream's duplicate check): dropped.
        await js.publish(SUBJECT, events[0].SerializeToString(), stream=streams.PERSONNEL.name)

        async def behind() -> int:
            info = await js.consumer_info(streams.PERSONNEL.name, consumer.name)
            return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

        await eventually(behind, lambda n: n == 0, timeout=30, what="the redelivery handled")
        assert await state() == (expected_ids, ["a", "b"])
        stopping.set()
        await asyncio.wait_for(running, timeout=30)
    finally:
        stopping.set()
        await bus.close()
        await db.dispose()
