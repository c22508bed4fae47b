"""Stopping without cutting short what is in hand: the stop signal, workers stopped together, calls
counted, and a consumer and a relay each finishing its unit of work (a stand-in for JetStream, a
real SQLite store)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from nats.js.errors import NotFoundError
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from test_events import FakeMsg, _consumer, _event

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb_common.db import Database
from qlcb_common.events.inbox import Inbox
from qlcb_common.events.outbox import Outbox, define_outbox_table
from qlcb_common.events.relay import OutboxRelay
from qlcb_common.shutdown import Calls, Stopping, Workers, describe


async def test_a_stopping_sleep_ends_when_stopping_is_asked() -> None:
    stopping = Stopping()
    asyncio.get_running_loop().call_later(0.05, stopping.set)
    started = time.monotonic()
    assert await stopping.sleep(30) is True
    assert time.monotonic() - started < 5
    assert await Stopping().sleep(0.01) is False


async def test_wait_for_ends_on_the_event_on_stopping_or_on_time() -> None:
    stopping, event = Stopping(), asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, event.set)
    await asyncio.wait_for(stopping.wait_for(event, 30), 5)
    await asyncio.wait_for(stopping.wait_for(asyncio.Event(), 0.01), 5)
    stopping.set()
    await asyncio.wait_for(stopping.wait_for(asyncio.Event(), 30), 5)


async def test_workers_finish_what_they_hold_and_only_the_stubborn_are_cancelled() -> None:
    finished: list[str] = []

    async def polite(stopping: Stopping) -> None:
        while not await stopping.sleep(0.01):
            pass
        await asyncio.sleep(0.05)  # the unit in hand
        finished.append("polite")

    async def stubborn(stopping: Stopping) -> None:
        await asyncio.sleep(3600)

    workers = Workers([polite])
    workers.start()
    await asyncio.sleep(0.02)
    assert await workers.stop(grace=5) is True
    assert finished == ["polite"]

    workers = Workers([polite, stubborn])
    workers.start()
    assert await workers.stop(grace=0.2) is False, "one had to be cancelled"
    assert workers.tasks[1].cancelled()
    assert finished == ["polite", "polite"]


async def test_a_worker_that_raises_is_reported() -> None:
    async def broken(stopping: Stopping) -> None:
        raise RuntimeError("lost the database")

    workers = Workers([broken])
    workers.start()
    await asyncio.wait(workers.tasks)
    assert [(name, str(error)) for name, error in workers.failures()] == [("broken", "lost the database")]
    assert await workers.stop(grace=1) is True


def test_a_worker_is_named_by_its_owner() -> None:
    owner = SimpleNamespace(name="reports-personnel")

    async def run(stopping: Stopping) -> None:
        return None

    bound = SimpleNamespace(__self__=owner, __qualname__="DurableConsumer.run", __call__=run)
    assert describe(bound) == "DurableConsumer.run[reports-personnel]"  # type: ignore[arg-type]
    assert describe(run) == "run"


async def test_calls_are_quiet_once_none_has_arrived_for_a_while() -> None:
    calls = Calls()
    assert await asyncio.wait_for(calls.quiet(for_seconds=10, at_most=10), 1) is True, "none ever came"

    async def steady() -> None:
        for _ in range(10):
            calls.started()
            calls.finished()
            await asyncio.sleep(0.05)

    arrivals = asyncio.create_task(steady())
    await asyncio.sleep(0.01)
    started = time.monotonic()
    assert await calls.quiet(for_seconds=0.2, at_most=10) is True
    assert arrivals.done(), "quiet only once the calls stopped coming"
    assert time.monotonic() - started >= 0.4

    calls.started()
    assert await calls.quiet(for_seconds=10, at_most=0.1) is False, "bounded"


async def test_all_finished_waits_for_the_calls_in_flight() -> None:
    calls = Calls()
    assert await calls.all_finished(0) is True
    calls.started()
    calls.started()
    assert await calls.all_finished(0.05) is False
    calls.finished()
    asyncio.get_running_loop().call_later(0.05, calls.finished)
    assert await calls.all_finished(5) is True


@pytest.fixture
async def events(tmp_path: Path) -> AsyncIterator[tuple[Database, Outbox, Inbox, None]]:
    metadata = MetaData()
    outbox = Outbox(define_outbox_table(metadata))
    inbox = Inbox.of(metadata)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'events.sqlite3'}")
    await db.create_schema(metadata)
    yield db, outbox, inbox, None
    await db.dispose()


@dataclass
class FakeSubscription:
    """A pull subscription handing out the batches given, then timing out."""

    batches: list[list[FakeMsg]]
    unsubscribed: bool = False

    async def fetch(self, batch: int, timeout: float) -> list[FakeMsg]:
        if self.batches:
            return self.batches.pop(0)
        await asyncio.sleep(timeout)
        raise TimeoutError

    async def unsubscribe(self) -> None:
        self.unsubscribed = True


@dataclass
class FakeJetStream:
    subscription: FakeSubscription
    published: list[tuple[str, str]] = field(default_factory=list)

    async def add_consumer(self, stream: str, config: Any) -> None:
        return None

    async def consumer_info(self, stream: str, name: str) -> Any:
        raise NotFoundError

    async def pull_subscribe_bind(self, durable: str, stream: str) -> FakeSubscription:
        return self.subscription

    async def publish(self, subject: str, payload: bytes, timeout: float, headers: dict[str, str]) -> Any:
        self.published.append((subject, headers["Nats-Msg-Id"]))
        return SimpleNamespace(duplicate=False)


async def test_a_consumer_asked_to_stop_acks_the_message_in_hand_and_hands_back_the_rest(events: Any) -> None:
    db, _outbox, inbox, _effects = events
    stopping = Stopping()
    handled: list[str] = []

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        handled.append(envelope.event_id)
        stopping.set()  # the stop comes while the first message of the batch is in hand
        await asyncio.sleep(0.05)

    batch = [FakeMsg(_event(f"m{n}")) for n in range(3)]
    subscription = FakeSubscription([batch])
    consumer = _consumer(db, inbox, handler)
    consumer._js = FakeJetStream(subscription)  # type: ignore[assignment]
    await asyncio.wait_for(consumer.run(stopping), 5)
    assert len(handled) == 1
    assert [m.outcome for m in batch] == [["ack"], ["nak"], ["nak"]], "finished and acked; the rest handed back"
    assert batch[1].delays == [None], "handed back for redelivery now, not after a delay"
    assert subscription.unsubscribed
    async with db.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(inbox.table)) == 1


async def test_a_consumer_asked_to_stop_between_batches_returns_without_fetching_again(events: Any) -> None:
    db, _outbox, inbox, _effects = events
    stopping = Stopping()

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        return None

    first = [FakeMsg(_event("a"))]
    later = [FakeMsg(_event("b"))]
    subscription = FakeSubscription([first, later])
    consumer = _consumer(db, inbox, handler)
    consumer._js = FakeJetStream(subscription)  # type: ignore[assignment]
    stopping.set()
    await asyncio.wait_for(consumer.run(stopping), 5)
    assert first[0].outcome == [], "nothing fetched once stopping"
    assert later[0].outcome == []


async def test_a_relay_asked_to_stop_publishes_once_more_what_is_committed_and_returns(events: Any) -> None:
    """The last calls a replica answered committed their events while it drained: they leave now."""
    db, outbox, _inbox, _effects = events
    js = FakeJetStream(FakeSubscription([]))
    relay = OutboxRelay(service="test", db=db, outbox=outbox, js=js, poll_interval=30)  # type: ignore[arg-type]
    async with db.unit_of_work() as session:
        event_id = await outbox.add(session, subject="qlcb.test.thing.done", payload=StringValue(value="1"), actor="u")
    stopping = Stopping()
    stopping.set()
    await asyncio.wait_for(relay.run(stopping), 5)
    assert [published for _subject, published in js.published] == [event_id]
    async with db.unit_of_work() as session:
        pending = await session.scalar(
            select(func.count()).select_from(outbox.table).where(outbox.table.c.published_at.is_(None))
        )
    assert pending == 0


async def test_a_relay_waiting_for_commits_stops_at_once(events: Any) -> None:
    db, outbox, _inbox, _effects = events
    js = FakeJetStream(FakeSubscription([]))
    relay = OutboxRelay(service="test", db=db, outbox=outbox, js=js, poll_interval=3600)  # type: ignore[arg-type]
    stopping = Stopping()
    running = asyncio.create_task(relay.run(stopping))
    await asyncio.sleep(0.05)
    assert not running.done()
    stopping.set()
    await asyncio.wait_for(running, 5)
    assert js.published == []
