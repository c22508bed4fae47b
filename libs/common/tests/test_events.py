"""Outbox and inbox mechanics on a real SQLite store, with a stand-in for JetStream messages."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from test_faults import until_held

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb_common.db import Database
from qlcb_common.errors import FieldViolation
from qlcb_common.events import streams
from qlcb_common.events.consumer import DurableConsumer, stream_sequence
from qlcb_common.events.contracts import Contract, Contracts
from qlcb_common.events.envelope import PoisonMessage, parse, unpack, wrap
from qlcb_common.events.inbox import Inbox
from qlcb_common.events.outbox import Outbox, define_outbox_table
from qlcb_common.faults import FaultPoints, arm, consumer_committed, release

SUBJECT = "qlcb.personnel.person.created"
CONTRACTS: Contracts = {
    SUBJECT: Contract(StringValue, lambda value: [] if value.value else [FieldViolation("value", "empty")])
}


@dataclass
class FakeMsg:
    """The parts of a JetStream message the consumer touches."""

    data: bytes
    subject: str = SUBJECT
    delivered: int = 1
    sequence: int = 7
    outcome: list[str] = field(default_factory=list)
    delays: list[float | None] = field(default_factory=list)

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(num_delivered=self.delivered, sequence=SimpleNamespace(stream=self.sequence))

    async def ack(self) -> None:
        self.outcome.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.outcome.append("nak")
        self.delays.append(delay)

    async def term(self) -> None:
        self.outcome.append("term")


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    metadata = MetaData()
    outbox = Outbox(define_outbox_table(metadata))
    inbox = Inbox.of(metadata)
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


def _consumer(
    db: Database, inbox: Inbox, handler: Any, *, batch_transactions: bool = False, prepare: Any = None
) -> DurableConsumer:
    return DurableConsumer(
        name="test-consumer",
        stream=streams.PERSONNEL,
        filter_subjects=["qlcb.personnel.>"],
        db=db,
        inbox=inbox,
        js=None,  # type: ignore[arg-type]
        contracts=CONTRACTS,
        handler=handler,
        batch_transactions=batch_transactions,
        prepare=prepare,
    )


def _event(value: str) -> bytes:
    return wrap(SUBJECT, StringValue(value=value), actor="u", occurred_at=datetime.now(UTC)).SerializeToString()


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


@pytest.mark.parametrize(
    ("data", "subject", "reason"),
    [
        (b"\xff\x00not protobuf", SUBJECT, "envelope: not an Envelope"),
        (wrap(SUBJECT, Envelope(), actor="u", occurred_at=datetime.now(UTC)).SerializeToString(), SUBJECT, "payload"),
        (_event(""), SUBJECT, "value: empty"),
        (_event("x"), "qlcb.personnel.person.renamed", "subject: the envelope says"),
        (
            wrap(
                "qlcb.personnel.thing", StringValue(value="x"), actor="u", occurred_at=datetime.now(UTC)
            ).SerializeToString(),
            "qlcb.personnel.thing",
            "subject: no event is published on it",
        ),
    ],
)
async def test_a_message_the_contract_refuses_is_dead_lettered_and_changes_nothing(
    store: Any, data: bytes, subject: str, reason: str
) -> None:
    db, _outbox, inbox, _effects = store
    calls: list[str] = []

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        calls.append(envelope.event_id)

    message = FakeMsg(data, subject=subject)
    await _consumer(db, inbox, handler).handle(message)  # type: ignore[arg-type]
    assert message.outcome == ["ack"], "the consumer moves on"
    assert calls == []
    assert await _count(db, inbox.table) == 0
    async with db.unit_of_work() as session:
        kept = (await session.execute(select(inbox.dead_letters))).one()
    assert (kept.consumer, kept.stream, kept.stream_sequence) == ("test-consumer", "QLCB_PERSONNEL", 7)
    assert (kept.subject, kept.payload) == (subject, data)
    assert reason in kept.reason


async def test_a_handler_refusing_an_event_rolls_back_its_changes_and_dead_letters_it(store: Any) -> None:
    db, _outbox, inbox, effects = store
    labels = {"stream": "QLCB_PERSONNEL", "subject": SUBJECT, "reason": "holder"}

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        await session.execute(insert(effects).values(value="half"))
        raise PoisonMessage.single("holder", "no such holder")

    before = REGISTRY.get_sample_value("qlcb_events_dead_lettered_total", labels) or 0.0
    consumer = _consumer(db, inbox, handler)
    first, again = FakeMsg(_event("x")), FakeMsg(_event("x"), delivered=2)
    await consumer.handle(first)  # type: ignore[arg-type]
    await consumer.handle(again)  # type: ignore[arg-type]
    assert first.outcome == again.outcome == ["ack"]
    assert await _count(db, effects) == 0
    assert await _count(db, inbox.dead_letters) == 1, "a redelivery is kept once"
    assert REGISTRY.get_sample_value("qlcb_events_dead_lettered_total", labels) == before + 1


def test_events_wrapped_one_after_another_carry_ids_in_that_order() -> None:
    """An inbox takes each event's id into its key after the ones before it (ADR 0043), even for
    events wrapped within one millisecond."""
    now = datetime.now(UTC)
    ids = [wrap("x", StringValue(value=str(n)), actor="a", occurred_at=now).event_id for n in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {UUID(event_id).version for event_id in ids} == {7}


def test_parse_rejects_an_envelope_without_id() -> None:
    with pytest.raises(PoisonMessage):
        parse(Envelope(subject="x").SerializeToString())


async def test_a_consumer_held_after_its_commit_has_applied_the_event_and_not_acked_it(
    store: Any, tmp_path: Path
) -> None:
    """The window the crash tests kill a consumer in: effect and inbox row committed, no ack."""
    db, _outbox, inbox, effects = store

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        await session.execute(insert(effects).values(value=unpack(envelope, StringValue).value))

    consumer = DurableConsumer(
        name="test-consumer",
        stream=streams.PERSONNEL,
        filter_subjects=["qlcb.personnel.>"],
        db=db,
        inbox=inbox,
        js=None,  # type: ignore[arg-type]
        contracts=CONTRACTS,
        handler=handler,
        faults=FaultPoints(tmp_path / "faults"),
    )
    point = consumer_committed("test-consumer")
    arm(tmp_path / "faults", point)
    message = FakeMsg(_event("held"))
    handling = asyncio.create_task(consumer.handle(message))  # type: ignore[arg-type]
    detail = await until_held(tmp_path / "faults", point)
    assert detail["subject"] == SUBJECT
    assert await _count(db, effects) == 1
    assert await _count(db, inbox.table) == 1
    assert message.outcome == []
    release(tmp_path / "faults", point)
    await asyncio.wait_for(handling, timeout=5)
    assert message.outcome == ["ack"]


def _values_handler(effects: Table, calls: list[str], failing: str = "") -> Any:
    """Writes each event's value as an effect; raises on `failing` (a store error, not the event's fault)."""

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        value = unpack(envelope, StringValue).value
        calls.append(value)
        await session.execute(insert(effects).values(value=value))
        if value == failing:
            raise ConnectionError("projection store hiccup")

    return handler


async def _values(db: Database, effects: Table) -> list[str]:
    async with db.unit_of_work() as session:
        return sorted(await session.scalars(select(effects.c.value)))


async def test_a_batch_holding_an_event_twice_and_a_redelivered_batch_count_each_event_once(store: Any) -> None:
    db, _outbox, inbox, effects = store
    calls: list[str] = []
    consumer = _consumer(db, inbox, _values_handler(effects, calls), batch_transactions=True)
    data = [_event(f"m{n}") for n in range(3)]
    batch = [FakeMsg(data[0], sequence=1), FakeMsg(data[1], sequence=2), FakeMsg(data[0], sequence=1, delivered=2)]
    await consumer.handle_batch(batch)  # type: ignore[arg-type]
    assert [m.outcome for m in batch] == [["ack"]] * 3
    assert calls == ["m0", "m1"], "the second copy within the batch is skipped"
    redelivered = [FakeMsg(d, sequence=n + 1, delivered=2) for n, d in enumerate(data)]
    await consumer.handle_batch(redelivered)  # type: ignore[arg-type]
    assert [m.outcome for m in redelivered] == [["ack"]] * 3
    assert calls == ["m0", "m1", "m2"], "only the event the inbox has not seen is applied"
    assert await _values(db, effects) == ["m0", "m1", "m2"]
    assert await _count(db, inbox.table) == 3


@pytest.mark.parametrize("batch_transactions", [False, True], ids=["one-per-transaction", "batched"])
async def test_a_handler_learns_where_each_event_stands_in_the_stream_whatever_order_it_comes_in(
    store: Any, batch_transactions: bool
) -> None:
    db, _outbox, inbox, _effects = store
    seen: dict[str, int] = {}

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        seen[unpack(envelope, StringValue).value] = stream_sequence(session, envelope)

    consumer = _consumer(db, inbox, handler, batch_transactions=batch_transactions)
    messages = [FakeMsg(_event(f"m{n}"), sequence=n) for n in (12, 10, 11)]
    if batch_transactions:
        await consumer.handle_batch(messages)  # type: ignore[arg-type]
    else:
        for message in messages:
            await consumer.handle(message)  # type: ignore[arg-type]
    assert seen == {"m12": 12, "m10": 10, "m11": 11}


async def test_a_batch_is_shown_to_prepare_before_its_events_are_handled_without_those_seen_before(
    store: Any,
) -> None:
    db, _outbox, inbox, effects = store
    calls: list[str] = []
    prepared: list[list[str]] = []

    async def prepare(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        prepared.append([unpack(e, StringValue).value for e in envelopes])
        calls.append("prepare")

    consumer = _consumer(db, inbox, _values_handler(effects, calls), batch_transactions=True, prepare=prepare)
    data = [_event(f"m{n}") for n in range(3)]
    first: list[Any] = [FakeMsg(data[0], sequence=1)]
    await consumer.handle_batch(first)
    again: list[Any] = [FakeMsg(d, sequence=n + 1, delivered=2 if n == 0 else 1) for n, d in enumerate(data)]
    again.append(FakeMsg(data[2], sequence=3, delivered=2))
    await consumer.handle_batch(again)
    assert prepared == [["m0"], ["m1", "m2"]], "neither what the inbox holds nor a second copy"
    assert calls == ["prepare", "m0", "prepare", "m1", "m2"]


async def test_a_batch_failing_midway_keeps_nothing_and_its_events_go_on_one_at_a_time(store: Any) -> None:
    db, _outbox, inbox, effects = store
    calls: list[str] = []
    consumer = _consumer(db, inbox, _values_handler(effects, calls, failing="m2"), batch_transactions=True)
    batch = [FakeMsg(_event(f"m{n}"), sequence=n + 1) for n in range(5)]
    await consumer.handle_batch(batch)  # type: ignore[arg-type]
    assert calls[:3] == ["m0", "m1", "m2"], "the batch stopped at the failing event"
    assert calls[3:] == ["m0", "m1", "m2", "m3", "m4"], "then each event again in its own transaction"
    assert await _values(db, effects) == ["m0", "m1", "m3", "m4"], "the batch's own writes are gone"
    assert await _count(db, inbox.table) == 4
    assert [m.outcome for m in batch] == [["ack"], ["ack"], ["nak"], ["ack"], ["ack"]]
    assert batch[2].delays == [2.0], "the failing event alone waits for its retry"


async def test_a_bad_event_in_a_batch_is_dead_lettered_alone(store: Any) -> None:
    db, _outbox, inbox, effects = store
    calls: list[str] = []
    plain = _values_handler(effects, calls)

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        if unpack(envelope, StringValue).value == "no-holder":
            raise PoisonMessage.single("holder", "no such holder")
        await plain(session, envelope)

    consumer = _consumer(db, inbox, handler, batch_transactions=True)
    batch = [
        FakeMsg(_event("m0"), sequence=1),
        FakeMsg(_event(""), sequence=2),
        FakeMsg(_event("no-holder"), sequence=3),
        FakeMsg(_event("m3"), sequence=4),
    ]
    await consumer.handle_batch(batch)  # type: ignore[arg-type]
    assert [m.outcome for m in batch] == [["ack"]] * 4, "the stream moves on"
    assert await _values(db, effects) == ["m0", "m3"]
    async with db.unit_of_work() as session:
        kept = sorted(await session.scalars(select(inbox.dead_letters.c.stream_sequence)))
    assert kept == [2, 3], "the one the contract refuses and the one the handler refuses"
