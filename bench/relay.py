"""Outbox relay throughput (rows claimed, published with Nats-Msg-Id, marked) vs a bare
JetStream publish loop of the same messages, batched the same way."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import nats
from google.protobuf.wrappers_pb2 import StringValue
from nats.js.api import StreamConfig
from sqlalchemy import MetaData

from qlcb_common.db import Database
from qlcb_common.events.envelope import wrap
from qlcb_common.events.outbox import Outbox, define_outbox_table
from qlcb_common.events.relay import OutboxRelay

N, BATCH = 5000, 200


async def measure(nats_url: str, database_url: str) -> dict[str, float]:
    nc = await nats.connect(nats_url)
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
    relay = OutboxRelay(service="bench", db=db, outbox=outbox, js=js, batch_size=BATCH)
    started = time.perf_counter()
    published = 0
    while (count := await relay.publish_batch()) > 0:
        published += count
    ours = published / (time.perf_counter() - started)
    await db.dispose()
    await nc.close()
    return {"bare_per_s": bare, "ours_per_s": ours, "ratio": ours / bare}
