"""The profiles of a day on PostgreSQL (ADR 0036, 0037): a move to the next day waits for a consumer's
transaction that computed a profile for the day before, then computes it for its own day, so that
no profile of a day the profiles have left is committed after the move; a form of the day before is
then counted from the stored day, the person who changed in between worked out again."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import UTC, date, datetime

import pytest
from google.protobuf.message import Message
from sqlalchemy import select

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2, personnel_pb2, record_pb2
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.consumer import note_stream_sequences
from qlcb_common.events.envelope import wrap
from qlcb_reports.db_models import Base
from qlcb_reports.statistics import forms as layouts
from qlcb_reports.statistics import profiles
from qlcb_reports.statistics.models import CURRENT, StatProfile
from qlcb_reports.statistics.projection import Projection, write_new
from tests.support import System, eventually, sessions_waiting_on_locks

pytestmark = pytest.mark.integration

BEFORE, AFTER = date(2026, 12, 4), date(2026, 12, 5)
PERSON = personnel_pb2.Person(
    id="person-1", full_name="Lê Văn Bình", date_of_birth="1975-03-02", sex=personnel_pb2.SEX_MALE, unit_id="unit-a"
)


def _event(subject: str, payload: Message) -> Envelope:
    return wrap(subject, payload, actor="test", occurred_at=datetime(2026, 12, 1, tzinfo=UTC))


def _joined_the_party() -> Envelope:
    entry = record_pb2.RecordEntry(
        entry_id="entry-1",
        version=1,
        section="memberships",
        change="recorded",
        values_json='{"organisation": "DANG"}',
        valid_from="2001-05-19",
    )
    coded = events_pb2.CodedValue(catalog="organisations", code="DANG", stat_group="DANG_VIEN")
    return _event(
        subjects.PERSONNEL_RECORD_CHANGED,
        events_pb2.RecordEntryChanged(person_id=PERSON.id, entry=entry, coded=[coded]),
    )


async def _apply(db: Database, events: list[Envelope], first: int) -> None:
    async with db.unit_of_work() as session:
        note_stream_sequences(session, {e.event_id: first + n for n, e in enumerate(events)})
        for envelope in events:
            await Projection(1).apply(session, envelope)
        await write_new(session)


async def test_a_move_to_the_next_day_waits_for_a_profile_of_the_day_before_then_computes_its_own(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert system.infra.postgres is not None
    name = f"profiles_{uuid.uuid4().hex[:8]}"
    system.infra.postgres.create_database(name)
    db = Database(system.infra.postgres.dsn(name))
    try:
        await db.create_schema(Base.metadata)
        moved = events_pb2.PersonTransferred(
            person=PERSON, to_unit=personnel_pb2.Unit(id="unit-b"), effective_date=AFTER.isoformat()
        )
        await _apply(
            db,
            [
                _event(subjects.PERSONNEL_PERSON_CREATED, events_pb2.PersonCreated(person=PERSON)),
                _event(subjects.PERSONNEL_PERSON_TRANSFERRED, moved),
            ],
            1,
        )
        await profiles.keep_current(db, 1, BEFORE, years=0)

        followed = asyncio.Event()
        may_commit = asyncio.Event()

        async def consumer() -> None:
            """A consumer's transaction: the membership applied, the profile followed as of the
            profiles' day (the day before), then held open before its commit."""
            party = _joined_the_party()
            async with db.unit_of_work() as session:
                note_stream_sequences(session, {party.event_id: 3})
                await Projection(1).apply(session, party)
                await profiles.follow(session, 1)
                followed.set()
                await may_commit.wait()

        applying = asyncio.create_task(consumer())
        await followed.wait()
        moving = asyncio.create_task(profiles.keep_current(db, 1, AFTER, years=0))

        async def waiting() -> int:
            return await sessions_waiting_on_locks(system.postgres_dsn(name), name, advisory=True)

        await eventually(waiting, lambda n: n == 1, timeout=30, what="the move to wait on the generation's lock")
        assert not moving.done()
        may_commit.set()
        await asyncio.wait_for(applying, timeout=30)
        await asyncio.wait_for(moving, timeout=30)

        async with db.unit_of_work() as session:
            assert await profiles.stored_days(session, 1) == {CURRENT: AFTER}
            rows = (await session.execute(select(StatProfile.unit_id, StatProfile.held))).all()
            assert [unit for unit, _ in rows] == ["unit-b"], "the profile of the day moved to"
            bm01 = layouts.forms()["BM01"]
            columns = [c for c in bm01.columns if c.count == "people"]
            profiled = await profiles.counts(session, 1, AFTER, ["unit-a", "unit-b"], columns)
            # Counted from the stored day, the person who changed in between worked out again, and
            # worked out whole reading every fact of the day.
            day_before = await profiles.counts(session, 1, BEFORE, ["unit-a", "unit-b"], columns, moved_share=math.inf)
            whole_before = await profiles.counts(
                session, 1, BEFORE, ["unit-a", "unit-b"], columns, moved_share=0.0, few_units=0
            )
        assert whole_before == day_before
        keys = [c.key for c in columns]
        assert list(profiled) == ["unit-b"]
        assert profiled["unit-b"][keys.index("headcount")] == 1
        assert profiled["unit-b"][keys.index("party")] == 1, "the membership the consumer committed is in the profile"
        assert list(day_before) == ["unit-a"], "transferred the next day: worked out again, not the stored profile"
        assert day_before["unit-a"][keys.index("party")] == 1

        # Bits above 32: the forms may ask up to 63 groups.
        high = {token: bit << 34 for token, bit in profiles.tokens().items()}
        monkeypatch.setattr(profiles, "tokens", lambda: high)
        async with db.unit_of_work() as session:
            assert await profiles.stored_days(session, 1) == {}, "the stored bits meant other groups"
            worked_out = await profiles.counts(session, 1, AFTER, ["unit-a", "unit-b"], columns)
            worked_out_before = await profiles.counts(session, 1, BEFORE, ["unit-a", "unit-b"], columns)
        assert worked_out == profiled
        assert worked_out_before == day_before
    finally:
        await db.dispose()
