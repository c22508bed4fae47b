"""Outbox and inbox mechanics on a real SQLite store, with a stand-in for JetStream messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb_common.db import Database
from qlcb_common.events import streams
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.envelope import PoisonMessage, parse, unpack, wrap
from qlcb_common.events.inbox import Inbox, define_inbox_table
from qlcb_common.events.outbox import Outbox, define_outbox_table


@dataclass
class FakeMsg:
    """The parts of a JetStream message the consumer touches."""

    data: bytes
    subject: str = "qlcb.personnel.person.created"
    delivered: int = 1
    outcome: list[str] = field(default_factory=list)

    @property
    def metadata(self) -> Any:
        return type("Meta", (), {"num_delivered": self.delivered})()

    async def ack(self) -> None:
        self.outcome.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.outcome.append("nak")

    async def term(self) -> None:
        self.outcome.append("term")


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    metadata = MetaData()
    outbox = Outbox(define_outbox_table(metadata))
    inbox = Inbox(define_inbox_table(metadata))
    effects = Table("effects", metadata, Column("id", Integer, primary_key=True), Column("value", String(50)))
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'events.sqlite3'}")
    await db.create_schema(metadata)
    yield db, outbox, inbox, effects
    await db.dispose()


async def _count(db: Database, table: Table) -> int:
    async with db.unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_outbox_row_commits_and_rolls_back_with_the_change(store: Any) -> None:
    db, outbox, _inbox, effects = store

    async def change_that_fails_after_staging() -> None:
        async with db.unit_of_work() as session:
            await session.execute(insert(effects).values(value="lost"))
            await outbox.add(session, subject="qlcb.test.thing.done", payload=StringValue(value="x"), actor="u")
            raise RuntimeError("the change fails after the event was staged")

    with pytest.raises(RuntimeError):
        await change_that_fails_after_staging()
    assert await _count(db, outbox.table) == 0
    assert not outbox.committed.is_set()

    async with db.unit_of_work() as session:
        await session.execute(insert(effects).values(value="kept"))
        event_id = await outbox.add(session, subject="qlcb.test.thing.done", payload=StringValue(value="y"), actor="u")
    assert outbox.committed.is_set()
    async with db.unit_of_work() as session:
        row = (await session.execute(select(outbox.table))).one()
    envelope = parse(row.envelope)
    assert envelope.event_id == event_id == row.event_id
    assert envelope.subject == "qlcb.test.thing.done"
    assert envelope.actor == "u"
    assert unpack(envelope, StringValue).value == "y"


def _consumer(db: Database, inbox: Inbox, handler: Any) -> DurableConsumer:
    return DurableConsumer(
        name="test-consumer",
        stream=streams.PERSONNEL,
        filter_subjects=["qlcb.personnel.>"],
        db=db,
        inbox=inbox,
        js=None,  # type: ignore[arg-type]
        handler=handler,
    )


def _event(value: str) -> bytes:

    return wrap(
        "qlcb.personnel.person.created", StringValue(value=value), actor="u", occurred_at=datetime.now(UTC)
    ).SerializeToString()


async def test_a_redelivered_event_changes_nothing(store: Any) -> None:
    db, _outbox, inbox, effects = store
    calls: list[str] = []

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        calls.append(envelope.event_id)
        await session.execute(insert(effects).values(value=unpack(envelope, StringValue).value))

    consumer = _consumer(db, inbox, handler)
    data = _event("once")
    first, again = FakeMsg(data), FakeMsg(data, delivered=2)
    await consumer.handle(first)  # type: ignore[arg-type]
    await consumer.handle(again)  # type: ignore[arg-type]
    assert first.outcome == ["ack"]
    assert again.outcome == ["ack"]
    assert len(calls) == 1
    assert await _count(db, effects) == 1


async def test_a_failing_handler_leaves_no_trace_and_is_retried(store: Any) -> None:
    db, _outbox, inbox, effects = store
    attempts = 0

    async def flaky(session: AsyncSession, envelope: Envelope) -> None:
        nonlocal attempts
        attempts += 1
        await session.execute(insert(effects).values(value="half"))
        if attempts == 1:
            raise ConnectionError("projection store hiccup")

    consumer = _consumer(db, inbox, flaky)
    data = _event("retry")
    failed, retried = FakeMsg(data), FakeMsg(data, delivered=2)
    await consumer.handle(failed)  # type: ignore[arg-type]
    assert failed.outcome == ["nak"]
    assert await _count(db, effects) == 0
    assert await _count(db, inbox.table) == 0
    await consumer.handle(retried)  # type: ignore[arg-type]
    assert retried.outcome == ["ack"]
    assert await _count(db, effects) == 1


@pytest.mark.parametrize("poison", ["garbage", "wrong-payload"])
async def test_poison_messages_are_terminated(store: Any, poison: str) -> None:
    db, _outbox, inbox, _effects = store

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        unpack(envelope, Envelope)

    data = b"\xff\x00not protobuf" if poison == "garbage" else _event("a string, not an Envelope")
    message = FakeMsg(data)
    await _consumer(db, inbox, handler).handle(message)  # type: ignore[arg-type]
    assert message.outcome == ["term"]
    assert await _count(db, inbox.table) == 0


def test_parse_rejects_an_envelope_without_id() -> None:
    with pytest.raises(PoisonMessage):
        parse(Envelope(subject="x").SerializeToString())
