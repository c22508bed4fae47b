"""The statistics read-model holds the same rows whether the stream is applied a batch per
transaction or an event per transaction (the batch holds the facts of the people it creates and
applies their later events to them without a query each): the generator's people, as the
benchmark replays them, with an older version of an entry arriving after a newer one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.sector_events import Stream as Generated
from bench.sector_events import events_of, frames, from_child
from bench.statistics import _Delivered, consumer, replay_events
from qlcb.personnel.v1 import events_pb2
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.envelope import parse, unpack, wrap
from qlcb_reports.db_models import Base, make_inbox
from qlcb_reports.statistics.models import StatCode, StatFact, StatPerson


def _late_older_version(stream: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The stream, with the first version of the first entry closed by a second one sent again
    (as a new event) right after that second one."""
    first: dict[str, tuple[str, bytes]] = {}
    for index, (subject, data) in enumerate(stream):
        if subject != subjects.PERSONNEL_RECORD_CHANGED:
            continue
        envelope = parse(data)
        entry = unpack(envelope, events_pb2.RecordEntryChanged).entry
        if entry.version == 1:
            first[entry.entry_id] = (subject, data)
        elif entry.entry_id in first:
            older = parse(first[entry.entry_id][1])
            again = wrap(
                subject,
                unpack(older, events_pb2.RecordEntryChanged),
                actor=older.actor,
                occurred_at=older.occurred_at.ToDatetime(),
            )
            return [*stream[: index + 1], (subject, again.SerializeToString()), *stream[index + 1 :]]
    raise AssertionError("the generated stream closes no entry")


async def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    async with db.unit_of_work() as session:
        for model in (StatFact, StatPerson, StatCode):
            columns = list(model.__table__.columns)
            found[model.__tablename__] = sorted(tuple(r) for r in (await session.execute(select(*columns))).all())
    return found


async def test_batches_and_single_events_build_the_same_model(tmp_path: Path) -> None:
    generated = Generated(40, 12)
    stream = _late_older_version(list(generated.person_events()))
    built = {}
    for mode in ("batches", "one by one"):
        db = Database(f"sqlite+aiosqlite:///{tmp_path / mode.replace(' ', '_')}.sqlite3")
        make_inbox()
        await db.create_schema(Base.metadata)
        try:
            if mode == "batches":
                await replay_events(db, generated, stream)
            else:
                await replay_events(db, generated, [])
                applying = consumer(db, 1)
                for sequence, (subject, data) in enumerate(stream, 1):
                    message = _Delivered(subject, data, sequence)
                    await applying.handle(message)  # type: ignore[arg-type]
                    assert message.acked
            built[mode] = await _rows(db)
        finally:
            await db.dispose()
    assert built["batches"] == built["one by one"]
    facts = built["batches"]["stat_facts"]
    assert len({row[1] for row in facts}) == 40, "every person has facts"
    assert len(facts) > 40 * 5


async def test_events_delivered_again_alone_or_in_later_batches_count_nothing_twice(tmp_path: Path) -> None:
    """JetStream delivers an event again when its acknowledgement was lost (a crash after the commit,
    the ack wait run out): here every third event of the stream comes back after the whole stream,
    in batches with events of their own and twice within one batch, and some one at a time. The
    model is the one the stream once gives, and the inbox holds each event once."""
    generated = Generated(30, 10)
    stream = list(generated.person_events())
    built = {}
    for mode in ("once", "again"):
        db = Database(f"sqlite+aiosqlite:///{tmp_path / mode}.sqlite3")
        inbox = make_inbox()
        await db.create_schema(Base.metadata)
        try:
            await replay_events(db, generated, stream)
            if mode == "again":
                applying = consumer(db, 1)
                again = [_Delivered(subject, data, n) for n, (subject, data) in enumerate(stream, 1) if n % 3 == 0]
                half = len(again) // 2
                await applying.handle_batch([*again[:half], again[0]])  # type: ignore[list-item]
                for message in again[half:]:
                    await applying.handle(message)  # type: ignore[arg-type]
                assert all(m.acked for m in again), "an event delivered again is acknowledged"
            built[mode] = await _rows(db)
            async with db.unit_of_work() as session:
                held = await session.scalar(select(func.count()).select_from(inbox.table))
            assert held == len(stream), mode
        finally:
            await db.dispose()
    assert built["again"] == built["once"]


def _what(event: tuple[str, bytes]) -> tuple[str, str, int]:
    """The subject and whose or which entry's version an event is (the two processes' clocks differ)."""
    subject, data = event
    envelope = parse(data)
    assert envelope.subject == subject
    if subject == subjects.PERSONNEL_RECORD_CHANGED:
        entry = unpack(envelope, events_pb2.RecordEntryChanged).entry
        return subject, entry.entry_id, entry.version
    if subject == subjects.PERSONNEL_PERSON_CREATED:
        return subject, unpack(envelope, events_pb2.PersonCreated).person.id, 0
    if subject == subjects.PERSONNEL_PERSON_TRANSFERRED:
        return subject, unpack(envelope, events_pb2.PersonTransferred).person.id, 0
    return subject, unpack(envelope, events_pb2.PersonStatusChanged).person.id, 0


async def test_the_events_built_by_a_child_process_are_the_streams_own_in_order() -> None:
    """The replay's events come framed from a child process: every one arrives, in order, whole."""
    built = list(Generated(12, 12).person_events())
    fed = [event async for event in from_child(12, 12)]
    assert [_what(event) for event in fed] == [_what(event) for event in built]
    framed = list(frames(built[:7], per_frame=3))
    assert len(framed) == 4, "three frames of at most three events and the empty one"
    assert [event for frame in framed for event in events_of(frame[4:])] == built[:7]
