"""Outbox relay throughput (rows claimed, published with Nats-Msg-Id, marked) vs a bare
JetStream publish loop of the same messages, batched the same way; and the relay once more with
a publisher that does nothing, which leaves its own (database) share of the work.

Afterwards the stream must hold every message of both, each once, and no row may be left
unpublished: a relay that dropped or skipped rows would otherwise look fast."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import nats
from google.protobuf.wrappers_pb2 import StringValue
from nats.js import JetStreamContext
from nats.js.api import PubAck, StreamConfig
from sqlalchemy import MetaData, func, select, text

from qlcb_common.db import Database
from qlcb_common.events.envelope import wrap
from qlcb_common.events.outbox import Outbox, define_outbox_table
from qlcb_common.events.relay import OutboxRelay

STREAM = "BENCH"
BARE, RELAYED = "bench.bare", "bench.relay"


@dataclass(frozen=True)
class Sizes:
    """`messages` envelopes each way, published in batches of `batch`."""

    messages: int = 5000
    batch: int = 200

    def __post_init__(self) -> None:
        if self.batch < 1 or self.messages < self.batch:
            raise ValueError(f"at least one batch ({self.batch} ≥ 1) of messages ({self.messages})")


SMOKE = Sizes(messages=50, batch=10)


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    bare_per_s: float
    ours_per_s: float
    database_only_per_s: float
    published: dict[str, int]
    """Messages each way published: "bare" and "ours" counted in the stream afterwards,
    "database_only" as the relay returned them. `sizes.messages` each."""

    @property
    def ratio(self) -> float:
        return self.ours_per_s / self.bare_per_s


class _NoPublisher:
    """Stands in for JetStream: every publish is acknowledged at once."""

    def __init__(self) -> None:
        self.seq = 0

    async def publish(self, subject: str, payload: bytes, timeout: float, headers: dict[str, str]) -> PubAck:
        self.seq += 1
        return PubAck(stream=STREAM, seq=self.seq, duplicate=False)


async def _drain(relay: OutboxRelay) -> tuple[int, float]:
    """Calls publish_batch until it returns 0; returns the messages published and per second."""
    started = time.perf_counter()
    published = 0
    while (count := await relay.publish_batch()) > 0:
        published += count
    return published, published / (time.perf_counter() - started)


async def _in_stream(js: JetStreamContext, subject: str) -> int:
    info = await js.stream_info(STREAM, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


async def measure(nats_url: str, credentials: tuple[str, str], database_url: str, sizes: Sizes = Sizes()) -> Result:
    """`credentials`: the operators' NATS user (the bench declares a stream of its own, and deletes
    it at the end). `database_url`: an empty database, for the outbox table."""
    nc = await nats.connect(nats_url, user=credentials[0], password=credentials[1])
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name=STREAM, subjects=["bench.>"], duplicate_window=120))
        try:
            db = Database(database_url)
            try:
                return await _measure(js, db, sizes)
            finally:
                await db.dispose()
        finally:
            await js.delete_stream(STREAM)
    finally:
        await nc.close()


async def _measure(js: JetStreamContext, db: Database, sizes: Sizes) -> Result:
    payload = wrap(BARE, StringValue(value="x" * 200), actor="bench", occurred_at=datetime.now(UTC)).SerializeToString()
    started = time.perf_counter()
    for offset in range(0, sizes.messages, sizes.batch):
        await asyncio.gather(
            *(
                js.publish(BARE, payload, headers={"Nats-Msg-Id": f"bare-{i}"})
                for i in range(offset, min(offset + sizes.batch, sizes.messages))
            )
        )
    bare = sizes.messages / (time.perf_counter() - started)

    metadata = MetaData()
    outbox = Outbox(define_outbox_table(metadata))
    await db.create_schema(metadata)
    async with db.unit_of_work() as session:
        for _ in range(sizes.messages):
            await outbox.add(session, subject=RELAYED, payload=StringValue(value="x" * 200), actor="bench")
    relayed, ours = await _drain(OutboxRelay(service="bench", db=db, outbox=outbox, js=js, batch_size=sizes.batch))
    async with db.unit_of_work() as session:
        pending = await session.scalar(select(func.count()).where(outbox.table.c.published_at.is_(None)))
    published = {"bare": await _in_stream(js, BARE), "ours": await _in_stream(js, RELAYED)}
    if relayed != sizes.messages or pending or published != {"bare": sizes.messages, "ours": sizes.messages}:
        raise RuntimeError(
            f"of {sizes.messages} messages each way the stream holds {published}; the relay published "
            f"{relayed} and left {pending} rows unpublished"
        )

    # The same rows once more, unpublished again (and vacuumed), through a publisher that does nothing.
    async with db.unit_of_work() as session:
        await session.execute(text("UPDATE outbox SET published_at = NULL"))
    async with db.engine.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE outbox"))
    no_publisher = cast(JetStreamContext, _NoPublisher())
    published["database_only"], database_only = await _drain(
        OutboxRelay(service="bench", db=db, outbox=outbox, js=no_publisher, batch_size=sizes.batch)
    )
    if published["database_only"] != sizes.messages:
        raise RuntimeError(f"the relay published {published['database_only']} of {sizes.messages} rows")
    return Result(sizes, bare, ours, database_only, published)
