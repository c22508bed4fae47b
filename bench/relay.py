"""Outbox relay throughput (rows claimed, published with Nats-Msg-Id, marked) vs a bare
JetStream publish loop of the same messages, batched the same way; and the relay once more with
a publisher that does nothing, which leaves its own (database) share of the work."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import cast

import nats
from google.protobuf.wrappers_pb2 import StringValue
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from sqlalchemy import MetaData, text

from qlcb_common.db import Database
from qlcb_common.events.envelope import wrap
from qlcb_common.events.outbox import Outbox, define_outbox_table
from qlcb_common.events.relay import OutboxRelay

N, BATCH = 5000, 200


class _NoPublisher:
    """Stands in for JetStream: every publish is acknowledged at once."""

    async def publish(self, subject: str, payload: bytes, timeout: float, headers: dict[str, str]) -> None:
        return None


async def _drain(relay: OutboxRelay) -> float:
    """Calls publish_batch until it returns 0; returns messages per second."""
    started = time.perf_counter()
    published = 0
    while (count := await relay.publish_batch()) > 0:
        published += count
    return published / (time.perf_counter() - started)


async def measure(nats_url: str, credentials: tuple[str, str], database_url: str) -> dict[str, float]:
    """`credentials`: the operators' NATS user (the bench declares a stream of its own)."""
    nc = await nats.connect(nats_url, user=credentials[0], password=credentials[1])
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="BENCH", subjects=["bench.>"], duplicate_window=120))
    payload = wrap(
        "bench.bare", StringValue(value="x" * 200), actor="bench", occurred_at=datetime.now(UTC)
    ).SerializeToString()
    started = time.perf_counter()
    for offset in range(0, N, BATCH):
        await asyncio.gather(
            *(
                js.publish("bench.bare", payload, headers={"Nats-Msg-Id": f"bare-{i}"})
                for i in range(offset, offset + BATCH)
            )
        )
    bare = N / (time.perf_counter() - started)

    metadata = MetaData()
    outbox = Outbox(define_outbox_table(metadata))
    db = Database(database_url)
    await db.create_schema(metadata)
    async with db.unit_of_work() as session:
        for _ in range(N):
            await outbox.add(session, subject="bench.relay", payload=StringValue(value="x" * 200), actor="bench")
    ours = await _drain(OutboxRelay(service="bench", db=db, outbox=outbox, js=js, batch_size=BATCH))

    # The same rows once more, unpublished again (and vacuumed), through a publisher that does nothing.
    async with db.unit_of_work() as session:
        await session.execute(text("UPDATE outbox SET published_at = NULL"))
    async with db.engine.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE outbox"))
    database_only = await _drain(
        OutboxRelay(service="bench", db=db, outbox=outbox, js=cast(JetStreamContext, _NoPublisher()), batch_size=BATCH)
    )
    await db.dispose()
    await nc.close()
    return {"bare_per_s": bare, "ours_per_s": ours, "ratio": ours / bare, "database_only_per_s": database_only}
