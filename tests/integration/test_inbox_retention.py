"""The inbox forgets the ids of events applied long ago, and a consumer made again starts after its
mark (ADR 0056), on a NATS server of the test's own (streams are deleted and made again) and the
suite's PostgreSQL. The consumer pulls as reports' bus user, with the rights the deployment gives it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import nats
import pytest
from google.protobuf.wrappers_pb2 import StringValue
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo, DeliverPolicy
from nats.js.errors import NotFoundError
from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb_common.db import Database
from qlcb_common.errors import FieldViolation
from qlcb_common.events import streams
from qlcb_common.events.consumer import ConsumerPositionUnknown, DurableConsumer
from qlcb_common.events.contracts import Contract, Contracts
from qlcb_common.events.envelope import unpack, wrap
from qlcb_common.events.inbox import Inbox, InboxMark
from qlcb_common.faults import FaultPoints, arm, consumer_committed, held, release
from qlcb_common.settings import ConsumerPolicy
from qlcb_common.shutdown import Stopping
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.stack import Infra
from tests.support import eventually

pytestmark = pytest.mark.integration

SUBJECT = "qlcb.personnel.person.created"
OTHER = "qlcb.personnel.unit.created"
"""Published on the stream and outside the consumer's filter: the stream's numbering and the
consumer's own differ, as in production."""
CONTRACTS: Contracts = {
    SUBJECT: Contract(StringValue, lambda value: [] if value.value else [FieldViolation("value", "empty")])
}
NAME = "reports-inbox-retention"
KEPT = timedelta(days=400)


@dataclass
class Bench:
    ops: JetStreamContext
    reports: JetStreamContext
    db: Database
    inbox: Inbox
    effects: Table
    faults: Path
    dsn: str
    """The database's, for asyncpg."""
    published: dict[str, int] = field(default_factory=dict)
    """Each value's stream sequence, in the stream as it is now."""
    envelopes: dict[str, Envelope] = field(default_factory=dict)

    def consumer(self, kept: timedelta = KEPT) -> DurableConsumer:
        async def handler(session: AsyncSession, envelope: Envelope) -> None:
            await session.execute(insert(self.effects).values(value=unpack(envelope, StringValue).value))

        return DurableConsumer(
            name=NAME,
            stream=streams.PERSONNEL,
            filter_subjects=["qlcb.personnel.person.>"],
            db=self.db,
            inbox=self.inbox,
            js=self.reports,
            contracts=CONTRACTS,
            handler=handler,
            policy=ConsumerPolicy(ack_wait=5.0, processed_kept=kept),
            fetch_timeout=0.2,
            faults=FaultPoints(self.faults),
        )

    async def publish(self, *values: str, envelopes: dict[str, Envelope] | None = None) -> None:
        """Publishes each value's event; with `envelopes`, the one published before under that value
        (its id kept: a stream made again holds the same events)."""
        for value in values:
            envelope = (envelopes or {}).get(value) or wrap(
                SUBJECT, StringValue(value=value), actor="test", occurred_at=datetime.now(UTC)
            )
            self.envelopes[value] = envelope
            ack = await self.ops.publish(
                SUBJECT, envelope.SerializeToString(), headers={"Nats-Msg-Id": envelope.event_id}
            )
            self.published[value] = ack.seq

    async def applied(self) -> list[str]:
        async with self.db.unit_of_work() as session:
            return sorted(await session.scalars(select(self.effects.c.value)))

    async def ids(self) -> set[str]:
        t = self.inbox.table
        async with self.db.unit_of_work() as session:
            return set(await session.scalars(select(t.c.event_id).where(t.c.consumer == NAME)))

    def ids_of(self, *values: str) -> set[str]:
        return {self.envelopes[value].event_id for value in values}

    async def info(self) -> ConsumerInfo:
        info: ConsumerInfo = await self.ops.consumer_info(streams.PERSONNEL.name, NAME)
        return info

    async def floor(self) -> int:
        acked = (await self.info()).ack_floor
        return acked.stream_seq if acked is not None else 0

    async def mark(self) -> InboxMark:
        async with self.db.unit_of_work() as session:
            mark = await self.inbox.mark(session, consumer=NAME)
        assert mark is not None
        return mark

    async def publish_others(self, count: int) -> None:
        for n in range(count):
            await self.ops.publish(OTHER, b"", headers={"Nats-Msg-Id": f"other-{uuid.uuid4()}-{n}"})

    async def make_stream_again(self, values: Sequence[str], *, others: int = 0) -> None:
        """Deletes the stream (its consumers go with it) and makes it again holding `others`
        messages outside the consumer's filter, then `values`' events, numbered from 1 in that order."""
        await self.ops.delete_stream(streams.PERSONNEL.name)
        await streams.ensure_streams(self.ops, streams.PERSONNEL)
        kept = dict(self.envelopes)
        self.published.clear()
        await self.publish_others(others)
        await self.publish(*values, envelopes=kept)


@asynccontextmanager
async def _running(consumer: DurableConsumer) -> AsyncIterator[None]:
    stopping = Stopping()
    task = asyncio.create_task(consumer.run(stopping))
    try:
        yield
    finally:
        stopping.set()
        await asyncio.wait_for(task, timeout=10)


async def _applies(bench: Bench, expected: list[str]) -> None:
    """Runs the consumer until it applied `expected` in all and acknowledged everything published."""
    last = max(bench.published.values())
    async with _running(bench.consumer()):
        await eventually(bench.applied, lambda got: got == expected, timeout=15, what=f"the effects {expected}")
        await eventually(bench.floor, lambda floor: floor == last, timeout=15, what=f"the ack floor at {last}")
    assert await bench.applied() == expected, "nothing applied again once everything was acknowledged"


@pytest.fixture
async def bench(infra: Infra, own_nats: NatsServer, tmp_path: Path) -> AsyncIterator[Bench]:
    assert infra.postgres is not None
    database = f"inbox_retention_{uuid.uuid4().hex[:8]}"
    infra.postgres.create_database(database)
    metadata = MetaData()
    inbox = Inbox.of(metadata)
    effects = Table(
        "effects", metadata, Column("id", Integer, primary_key=True), Column("value", String(50), nullable=False)
    )
    db = Database(infra.postgres.dsn(database))
    connections: list[Client] = []
    try:
        await db.create_schema(metadata)
        for user in ("ops", "reports"):
            name, password = own_nats.credentials(user)
            connections.append(await nats.connect(own_nats.url, user=name, password=password, allow_reconnect=False))
        ops, reports = (connection.jetstream() for connection in connections)
        await streams.ensure_streams(ops, streams.PERSONNEL)
        (tmp_path / "faults").mkdir()
        bench = Bench(
            ops, reports, db, inbox, effects, tmp_path / "faults", infra.postgres.dsn(database, driver="postgresql")
        )
        await bench.publish_others(2)
        yield bench
    finally:
        for connection in connections:
            await connection.close()
        await db.dispose()


async def test_a_consumer_forgets_ids_below_its_ack_floor_and_made_again_starts_after_its_mark(bench: Bench) -> None:
    await bench.publish("a1", "a2", "a3")
    await _applies(bench, ["a1", "a2", "a3"])
    consumer = bench.consumer()
    # The first prune only marks: the ids recorded before it are kept for good.
    assert await consumer.prune(datetime.now(UTC) + timedelta(days=1)) == 0
    mark = await bench.mark()
    assert (mark.through, mark.through_event_id) == (5, bench.envelopes["a3"].event_id)
    since = mark.since
    # An id recorded without its stream sequence (before the inbox kept one) is never deleted.
    async with bench.db.unit_of_work() as session:
        await bench.inbox.record(session, consumer=NAME, event_id="legacy", subject=SUBJECT)

    await bench.publish("b4", "b5", "b6")
    await _applies(bench, ["a1", "a2", "a3", "b4", "b5", "b6"])
    # Ids processed after `before` are kept.
    assert await consumer.prune(since) == 0
    assert await bench.ids() == bench.ids_of("a1", "a2", "a3", "b4", "b5", "b6") | {"legacy"}

    # An event applied and not yet acknowledged (held between its commit and its ack) is above the
    # ack floor: its id is kept, or its redelivery would apply it again.
    await bench.publish("c7")
    point = consumer_committed(NAME)
    arm(bench.faults, point)

    async def holding() -> object:
        return held(bench.faults, point)

    pruned = _pruned()
    async with _running(bench.consumer()):
        await eventually(holding, bool, timeout=15, what="c7 held after its commit")
        # Due at once (a consumer not yet run), and everything processed before now is old enough.
        assert await bench.consumer(kept=timedelta(0)).prune_when_due() == 3
        assert await bench.ids() == bench.ids_of("a1", "a2", "a3", "c7") | {"legacy"}
        assert _pruned() == pruned + 3
        release(bench.faults, point)
        await eventually(bench.floor, lambda floor: floor == 9, timeout=15, what="c7 acknowledged")
    assert (await bench.mark()).through == 8

    # The server removes the consumer (idle past its inactive threshold); made again, it starts after
    # the mark, so b4..b6, forgotten, are not applied again, and c7 comes again and is dropped.
    await bench.ops.delete_consumer(streams.PERSONNEL.name, NAME)
    await bench.publish("d8")
    await _applies(bench, ["a1", "a2", "a3", "b4", "b5", "b6", "c7", "d8"])
    config = (await bench.info()).config
    assert (config.deliver_policy, config.opt_start_seq) == (DeliverPolicy.BY_START_SEQUENCE, 9)


async def test_a_consumer_made_again_on_a_stream_made_again_finds_its_mark_or_refuses(bench: Bench) -> None:
    await bench.publish("a1", "a2")
    await _applies(bench, ["a1", "a2"])
    consumer = bench.consumer()
    await consumer.prune(datetime.now(UTC))
    await bench.publish("b3", "b4", "b5")
    await _applies(bench, ["a1", "a2", "b3", "b4", "b5"])
    assert await consumer.prune(datetime.now(UTC) + timedelta(days=1)) == 3
    everything = ["a1", "a2", "b3", "b4", "b5"]

    # Made again numbered as before (a copy of a stream kept from its first message): after the mark.
    await bench.make_stream_again(everything, others=2)
    await bench.publish("c6")
    await _applies(bench, [*everything, "c6"])
    assert (await bench.info()).config.opt_start_seq == 8

    # Made again without its two oldest messages (aged out before it was copied): the marked message
    # is found two places lower, and the consumer starts after it.
    everything.append("c6")
    await bench.make_stream_again(everything[2:])
    await bench.publish("d7")
    assert bench.published["c6"] == 4
    await _applies(bench, [*everything, "d7"])
    assert (await bench.info()).config.opt_start_seq == 4

    # The first prune on the renumbered stream marks it anew and keeps the ids recorded before: their
    # sequences counted another numbering.
    before_renumbering = await bench.ids()
    assert await consumer.prune(datetime.now(UTC) + timedelta(days=1)) == 0
    assert await bench.ids() == before_renumbering
    mark = await bench.mark()
    assert (mark.through, mark.through_event_id) == (5, bench.envelopes["d7"].event_id)
    assert await consumer.prune(datetime.now(UTC) + timedelta(days=1)) == 0, "counted from the new mark"
    assert await bench.ids() == before_renumbering

    # Made again without the marked message: from the start it would apply forgotten events again,
    # so the consumer is not created, says why, and applies nothing until an operator creates it.
    everything.append("d7")
    await bench.make_stream_again([])
    with pytest.raises(ConsumerPositionUnknown, match=bench.envelopes["d7"].event_id):
        await bench.consumer().declare()
    await bench.make_stream_again(["b3", "x9"])
    with pytest.raises(ConsumerPositionUnknown, match=bench.envelopes["d7"].event_id):
        await bench.consumer().declare()
    async with _running(bench.consumer()):
        await eventually(_unknown, lambda value: value == 1.0, timeout=15, what="the position-unknown gauge at 1")
    with pytest.raises(NotFoundError):
        await bench.info()
    assert await bench.applied() == everything

    # Created by the operator after x9, where it stood, it goes on from there.
    config = bench.consumer().config()
    config.deliver_policy, config.opt_start_seq = DeliverPolicy.BY_START_SEQUENCE, 3
    await bench.ops.add_consumer(streams.PERSONNEL.name, config)
    await bench.publish("y10")
    await _applies(bench, [*everything, "y10"])
    assert _unknown_now() == 0.0


async def test_a_consumer_made_again_while_a_prune_holds_its_mark_waits_and_starts_after_the_new_mark(
    bench: Bench,
) -> None:
    """Declaring a consumer made again reads its mark locked, and creates it before letting go: a prune
    that holds the mark, about to move it up, is waited for, and the consumer starts after the mark it
    wrote, not after the one before (whose next events the prune may have forgotten)."""
    await bench.publish("a1", "a2")
    await _applies(bench, ["a1", "a2"])
    await bench.consumer().prune(datetime.now(UTC))
    assert (await bench.mark()).through == 4
    await bench.publish("b3")
    await _applies(bench, ["a1", "a2", "b3"])
    await bench.ops.delete_consumer(streams.PERSONNEL.name, NAME)

    pruning = await asyncpg.connect(bench.dsn)
    watching = await asyncpg.connect(bench.dsn)
    declaring: asyncio.Task[None] | None = None
    try:
        transaction = pruning.transaction()
        await transaction.start()
        await pruning.execute("SELECT through FROM inbox_marks WHERE consumer = $1 FOR UPDATE", NAME)
        declaring = asyncio.create_task(bench.consumer().declare())

        async def waiting_on_a_lock() -> int:
            return int(
                await watching.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query LIKE '%inbox_marks%'"
                )
            )

        await eventually(waiting_on_a_lock, lambda n: n == 1, timeout=15, what="the declaration waiting on the mark")
        with pytest.raises(NotFoundError):
            await bench.info()
        await pruning.execute(
            "UPDATE inbox_marks SET through = 5, through_event_id = $2 WHERE consumer = $1",
            NAME,
            bench.envelopes["b3"].event_id,
        )
        await transaction.commit()
        await asyncio.wait_for(declaring, timeout=15)
    finally:
        if declaring is not None and not declaring.done():
            declaring.cancel()
        await pruning.close()
        await watching.close()
    config = (await bench.info()).config
    assert (config.deliver_policy, config.opt_start_seq) == (DeliverPolicy.BY_START_SEQUENCE, 6)
    await bench.publish("c4")
    await _applies(bench, ["a1", "a2", "b3", "c4"])


def _pruned() -> float:
    return REGISTRY.get_sample_value("qlcb_events_processed_ids_pruned_total", {"consumer": NAME}) or 0.0


def _unknown_now() -> float | None:
    return REGISTRY.get_sample_value("qlcb_events_consumer_position_unknown", {"consumer": NAME})


async def _unknown() -> float | None:
    return _unknown_now()
