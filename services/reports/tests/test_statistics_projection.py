"""The statistics projection gives the same periods and counts the same entries whatever order a
person's events reach it in: a consumer hands them over out of order after a retry's delay, a crash
with a batch in hand, or two replicas pulling from one consumer. On a real SQLite store, each order
in a generation of its own."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from google.protobuf.message import Message
from reports_store import sqlite_store
from sqlalchemy import event as sql_event
from sqlalchemy import select

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2, personnel_pb2, quota_pb2, record_pb2
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.consumer import note_stream_sequences
from qlcb_common.events.envelope import wrap
from qlcb_reports.statistics.generations import Analyzed
from qlcb_reports.statistics.models import BEGINNING, OPEN_END, StatCode, StatFact, StatQuota
from qlcb_reports.statistics.projection import Projection, write_new

PERSON = personnel_pb2.Person(
    id="00000000-0000-0000-0000-0000000000a1",
    personal_id="001080000001",
    staff_number="HQ-0001",
    full_name="Nguyễn Thị Thu",
    date_of_birth="1980-05-05",
    sex=personnel_pb2.SEX_FEMALE,
    unit_id="unit-a",
)


def _event(subject: str, payload: Message) -> Envelope:
    return wrap(subject, payload, actor="test", occurred_at=datetime(2026, 1, 1, tzinfo=UTC))


def _moved(to_unit: str, effective: str) -> Envelope:
    moved = events_pb2.PersonTransferred(
        person=PERSON,
        from_unit=personnel_pb2.Unit(id="unit-a"),
        to_unit=personnel_pb2.Unit(id=to_unit),
        effective_date=effective,
    )
    return _event(subjects.PERSONNEL_PERSON_TRANSFERRED, moved)


def _status(subject: str, effective: str) -> Envelope:
    return _event(subject, events_pb2.PersonStatusChanged(person=PERSON, effective_date=effective))


PUBLISHED: tuple[Envelope, ...] = (
    _event(subjects.PERSONNEL_PERSON_CREATED, events_pb2.PersonCreated(person=PERSON)),
    _moved("unit-b", "2020-01-01"),
    _moved("unit-c", "2022-06-01"),
    # A move recorded late, dated before the one published just before it: from its date on it wins.
    _moved("unit-d", "2021-01-01"),
    _status(subjects.PERSONNEL_PERSON_RETIRED, "2024-01-01"),
    _status(subjects.PERSONNEL_PERSON_REINSTATED, "2024-06-01"),
)
"""One person's events in the order personnel published them (stream sequences 1 to 6)."""

EXPECTED = {
    ("unit", "unit-a", BEGINNING, date(2019, 12, 31)),
    ("unit", "unit-b", date(2020, 1, 1), date(2020, 12, 31)),
    ("unit", "unit-d", date(2021, 1, 1), OPEN_END),
    ("status", "PERSON_STATUS_RETIRED", date(2024, 1, 1), date(2024, 5, 31)),
    ("status", "PERSON_STATUS_ACTIVE", date(2024, 6, 1), OPEN_END),
}
"""The periods that count someone (unit-c's, overtaken before it began, is empty)."""


def _entry(entry_id: str, version: int, change: str, section: str, values: str) -> Envelope:
    entry = record_pb2.RecordEntry(
        entry_id=entry_id, version=version, section=section, change=change, values_json=values, valid_from="2010-01-01"
    )
    changed = events_pb2.RecordEntryChanged(person_id=PERSON.id, entry=entry)
    return _event(subjects.PERSONNEL_RECORD_CHANGED, changed)


ENTRIES: tuple[Envelope, ...] = (
    _event(subjects.PERSONNEL_PERSON_CREATED, events_pb2.PersonCreated(person=PERSON)),
    # Recorded, corrected, then retracted as a mistake: it gives nothing in the end.
    _entry("entry-a", 1, "recorded", "personal_details", '{"ethnicity": "01", "religion": "PHAT_GIAO"}'),
    _entry("entry-a", 2, "corrected", "personal_details", '{"ethnicity": "01", "religion": "CONG_GIAO"}'),
    _entry("entry-a", 3, "retracted", "personal_details", '{"ethnicity": "01", "religion": "CONG_GIAO"}'),
    # Recorded, then corrected: the correction's values count.
    _entry("entry-b", 1, "recorded", "memberships", '{"organisation": "DANG"}'),
    _entry("entry-b", 2, "corrected", "memberships", '{"organisation": "CONG_DOAN"}'),
)
"""A person's record entries in the order personnel published them."""

ENTRIES_EXPECTED = {
    ("unit", "unit-a", BEGINNING, OPEN_END),
    ("organisation", "CONG_DOAN", date(2010, 1, 1), OPEN_END),
}


def _orders(published: tuple[Envelope, ...] = PUBLISHED) -> list[tuple[Envelope, ...]]:
    """The published order, its reverse, each event first and each last, and random shuffles (all
    720 orders take a minute)."""
    shuffled = random.Random(20261203)
    orders: list[tuple[Envelope, ...]] = [published, published[::-1]]
    for n, event in enumerate(published):
        others = published[:n] + published[n + 1 :]
        orders += [(event, *others), (*others, event)]
    orders += [tuple(shuffled.sample(published, len(published))) for _ in range(24)]
    return orders


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_store(tmp_path) as database:
        yield database


async def _apply(
    db: Database,
    generation: int,
    events: Sequence[Envelope],
    *,
    batched: bool,
    published: Sequence[Envelope] = PUBLISHED,
) -> None:
    """`events` handed over in the order given, each at its position in `published`: one per
    transaction, with the queries of a single event, or in one batch read ahead by `prepare` as
    the consumer of a generation does."""
    sequence = {envelope.event_id: n for n, envelope in enumerate(published, start=1)}
    projection = Projection(generation)
    for transaction in [events] if batched else [[e] for e in events]:
        async with db.unit_of_work() as session:
            note_stream_sequences(session, {e.event_id: sequence[e.event_id] for e in transaction})
            if batched:
                await projection.prepare(session, transaction)
            for envelope in transaction:
                await projection.apply(session, envelope)
            await write_new(session)


async def _periods(db: Database, generation: int) -> set[tuple[str, str, date, date]]:
    async with db.unit_of_work() as session:
        facts = await session.scalars(select(StatFact).where(StatFact.generation == generation))
        return {(f.fact, f.value, f.valid_from, f.valid_to) for f in facts if f.valid_from <= f.valid_to}


@pytest.mark.parametrize("batched", [False, True], ids=["one-per-transaction", "one-batch"])
async def test_every_order_of_a_persons_events_gives_the_periods_of_the_published_order(
    db: Database, batched: bool
) -> None:
    orders = _orders()
    for generation, order in enumerate(orders, start=1):
        await _apply(db, generation, order, batched=batched)
    wrong = {}
    for generation, order in enumerate(orders, start=1):
        found = await _periods(db, generation)
        if found != EXPECTED:
            wrong[tuple(PUBLISHED.index(e) + 1 for e in order)] = found ^ EXPECTED
    assert not wrong, f"{len(wrong)} of {len(orders)} orders differ, e.g. {next(iter(wrong.items()))}"


@pytest.mark.parametrize("batched", [False, True], ids=["one-per-transaction", "one-batch"])
async def test_every_order_of_an_entrys_versions_gives_what_its_latest_version_gives(
    db: Database, batched: bool
) -> None:
    """A retraction handed over before the versions it withdraws (a crash with the batch holding
    them in hand, redelivered after the next one) leaves nothing of them counted."""
    orders = _orders(ENTRIES)
    for generation, order in enumerate(orders, start=1):
        await _apply(db, generation, order, batched=batched, published=ENTRIES)
    wrong = {}
    for generation, order in enumerate(orders, start=1):
        found = await _periods(db, generation)
        if found != ENTRIES_EXPECTED:
            wrong[tuple(ENTRIES.index(e) + 1 for e in order)] = found ^ ENTRIES_EXPECTED
    assert not wrong, f"{len(wrong)} of {len(orders)} orders differ, e.g. {next(iter(wrong.items()))}"


async def test_a_person_created_in_an_earlier_transaction_is_moved_by_later_ones_alone(db: Database) -> None:
    """The path that reads stored facts (a person from an earlier batch) and the one that keeps a new
    person's facts in the session agree: here split across two batches, the second out of order."""
    first, rest = PUBLISHED[:2], PUBLISHED[2:]
    await _apply(db, 1, first, batched=True)
    await _apply(db, 1, tuple(reversed(rest)), batched=True)
    assert await _periods(db, 1) == EXPECTED


async def test_a_code_keeps_the_group_of_the_latest_published_event_naming_it(db: Database) -> None:
    def grouped(stat_group: str) -> Envelope:
        value = record_pb2.CatalogValue(catalog="ranks", code="01.003", stat_group=stat_group)
        return _event(subjects.PERSONNEL_CATALOG_CHANGED, events_pb2.CatalogValueChanged(value=value, change="added"))

    published = (grouped("CVC"), grouped("CV"))
    for generation, order in ((1, published), (2, published[::-1])):
        await _apply(db, generation, order, batched=False, published=published)
        await _apply(db, generation + 2, order, batched=True, published=published)
    async with db.unit_of_work() as session:
        codes = await session.scalars(select(StatCode).order_by(StatCode.generation))
        assert [(c.generation, c.stat_group) for c in codes] == [(g, "CV") for g in (1, 2, 3, 4)]


async def test_a_replay_samples_its_tables_each_time_the_batches_have_doubled(db: Database) -> None:
    """The planner's statistics follow the tables a replay fills (`generations.Analyzed`): before
    the 4th, 8th, 16th batch, not before the others."""
    sampled: list[int] = []
    batches = [0]

    def executed(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("ANALYZE stat_facts"):
            sampled.append(batches[-1])

    sql_event.listen(db.engine.sync_engine, "before_cursor_execute", executed)
    analyzed = Analyzed(Projection(1), ["stat_facts", "stat_persons"])
    for batch in range(1, 20):
        batches.append(batch)
        async with db.unit_of_work() as session:
            await analyzed.prepare(session, [])
    assert sampled == [4, 8, 16]


async def test_a_quota_of_a_date_keeps_the_latest_published_event_for_it(db: Database) -> None:
    """A quota assigned, then corrected for the same date: the correction holds in either order of
    arrival; a quota from a later date is a row of its own."""

    def quota(change: str, effective: str, value: int) -> Envelope:
        set_quota = events_pb2.UnitQuotaSet(
            change=quota_pb2.UnitQuotaChange(
                unit_id="unit-a", year=2026, quota=value, change=change, effective_date=effective
            )
        )
        return _event(subjects.PERSONNEL_UNIT_QUOTA_SET, set_quota)

    published = (
        quota("assigned", "2026-01-01", 50),
        quota("corrected", "2026-01-01", 48),
        quota("changed", "2026-07-01", 52),
    )
    orders = (published, published[::-1], (published[1], published[2], published[0]))
    for generation, order in enumerate(orders, start=1):
        await _apply(db, generation, order, batched=False, published=published)
        await _apply(db, generation + len(orders), order, batched=True, published=published)
    async with db.unit_of_work() as session:
        quotas = await session.scalars(select(StatQuota).order_by(StatQuota.generation, StatQuota.effective_date))
        held: dict[int, list[tuple[date, int]]] = {}
        for row in quotas:
            held.setdefault(row.generation, []).append((row.effective_date, row.quota))
    expected = [(date(2026, 1, 1), 48), (date(2026, 7, 1), 52)]
    assert held == {generation: expected for generation in range(1, 2 * len(orders) + 1)}


async def test_an_honorary_title_conferred_is_counted_among_the_rewards(db: Database) -> None:
    events = (
        _event(subjects.PERSONNEL_PERSON_CREATED, events_pb2.PersonCreated(person=PERSON)),
        _entry("entry-r", 1, "recorded", "rewards", '{"form": "LDTT"}'),
        _entry("entry-t", 1, "recorded", "honorary_titles", '{"title": "NGUT"}'),
    )
    await _apply(db, 1, events, batched=False, published=events)
    rewards = {(value, start) for fact, value, start, _ in await _periods(db, 1) if fact == "reward"}
    assert rewards == {("LDTT", date(2010, 1, 1)), ("NGUT", date(2010, 1, 1))}
