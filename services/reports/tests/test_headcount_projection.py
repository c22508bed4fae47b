"""The unit tree reports keeps is the one personnel's latest published event describes, whatever
order a unit's events reach it in (a retry's delay, a batch redelivered after a crash, two replicas
pulling from one consumer). On a real SQLite store, every order of one unit's life."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from google.protobuf.message import Message
from reports_store import sqlite_store

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2, personnel_pb2
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.consumer import note_stream_sequences
from qlcb_common.events.envelope import wrap
from qlcb_reports.headcount import projection
from qlcb_reports.headcount.models import UnitHeadcount, UnitNode


def _event(subject: str, payload: Message) -> Envelope:
    return wrap(subject, payload, actor="test", occurred_at=datetime(2026, 1, 1, tzinfo=UTC))


def _published(unit_id: str) -> tuple[Envelope, ...]:
    """One unit's life in the order personnel published it: established under one department by a
    decision effective on 1 July 2025, renamed, moved under another with its path, renamed again, dissolved."""

    def unit(name: str, parent: str, dissolved_on: str = "") -> personnel_pb2.Unit:
        return personnel_pb2.Unit(
            id=unit_id,
            code="CC01",
            name=name,
            kind=personnel_pb2.UNIT_KIND_SUB_UNIT,
            parent_id=parent,
            path=f"/TCHQ/{parent}/CC01",
            dissolved_on=dissolved_on,
        )

    return (
        _event(
            subjects.PERSONNEL_UNIT_ESTABLISHED,
            events_pb2.UnitEstablished(unit=unit("Chi cục Bắc Ninh", "HQBN"), established_on="2025-07-01"),
        ),
        _event(subjects.PERSONNEL_UNIT_RENAMED, events_pb2.UnitRenamed(unit=unit("Chi cục Hải quan Bắc Ninh", "HQBN"))),
        _event(subjects.PERSONNEL_UNIT_MOVED, events_pb2.UnitMoved(unit=unit("Chi cục Hải quan Bắc Ninh", "HQKV5"))),
        _event(
            subjects.PERSONNEL_UNIT_RENAMED, events_pb2.UnitRenamed(unit=unit("Chi cục Hải quan khu vực V", "HQKV5"))
        ),
        _event(
            subjects.PERSONNEL_UNIT_DISSOLVED,
            events_pb2.UnitDissolved(unit=unit("Chi cục Hải quan khu vực V", "HQKV5", "2026-06-30")),
        ),
    )


EXPECTED = (
    "Chi cục Hải quan khu vực V",
    "sub_unit",
    "HQKV5",
    "/TCHQ/HQKV5/CC01",
    date(2025, 7, 1),
    date(2026, 6, 30),
    0,
)
"""The node after the last published event: name, kind, parent, path, establishment (from the first
event, whenever it arrives), dissolution, headcount."""


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_store(tmp_path) as database:
        yield database


async def _node(db: Database, unit_id: str) -> tuple[object, ...]:
    async with db.unit_of_work() as session:
        node = await session.get(UnitNode, unit_id)
        counted = await session.get(UnitHeadcount, unit_id)
        assert node is not None, unit_id
        assert counted is not None, unit_id
        return (
            node.name,
            node.kind,
            node.parent_id,
            node.path,
            node.established_on,
            node.dissolved_on,
            counted.headcount,
        )


@pytest.mark.parametrize("batched", [False, True], ids=["one-per-transaction", "one-batch"])
async def test_every_order_of_a_units_events_leaves_what_the_last_published_one_says(
    db: Database, batched: bool
) -> None:
    orders = list(itertools.permutations(range(5)))
    for n, order in enumerate(orders):
        published = _published(f"unit-{n}")
        sequence = {envelope.event_id: position for position, envelope in enumerate(published, start=1)}
        handed = [published[i] for i in order]
        for transaction in [handed] if batched else [[e] for e in handed]:
            async with db.unit_of_work() as session:
                note_stream_sequences(session, {e.event_id: sequence[e.event_id] for e in transaction})
                for envelope in transaction:
                    await projection.apply(session, envelope)
    wrong = {}
    for n, order in enumerate(orders):
        found = await _node(db, f"unit-{n}")
        if found != EXPECTED:
            wrong[tuple(i + 1 for i in order)] = found
    assert not wrong, f"{len(wrong)} of {len(orders)} orders differ, e.g. {next(iter(wrong.items()))}"


async def test_an_event_handed_over_again_after_later_ones_changes_nothing(db: Database) -> None:
    """The first rename redelivered once the unit has moved and been renamed again (the consumer's
    ordinary retry) does not bring the old name or place back."""
    published = _published("unit-a")[:4]
    sequence = {envelope.event_id: position for position, envelope in enumerate(published, start=1)}
    for envelope in (*published, published[1]):
        async with db.unit_of_work() as session:
            note_stream_sequences(session, {envelope.event_id: sequence[envelope.event_id]})
            await projection.apply(session, envelope)
    assert await _node(db, "unit-a") == (*EXPECTED[:5], None, 0)


async def test_a_unit_taken_in_without_an_establishing_decision_has_no_establishment_day(db: Database) -> None:
    """Its establishment event tells no day (ADR 0041): the unit existed before the records begin."""
    unit = personnel_pb2.Unit(
        id="unit-old", code="HQHN", name="Cục Hải quan TP Hà Nội", kind=personnel_pb2.UNIT_KIND_PROVINCIAL_DEPARTMENT
    )
    envelope = _event(subjects.PERSONNEL_UNIT_ESTABLISHED, events_pb2.UnitEstablished(unit=unit))
    async with db.unit_of_work() as session:
        note_stream_sequences(session, {envelope.event_id: 1})
        await projection.apply(session, envelope)
    async with db.unit_of_work() as session:
        node = await session.get(UnitNode, "unit-old")
        assert node is not None
        assert node.established_on is None
