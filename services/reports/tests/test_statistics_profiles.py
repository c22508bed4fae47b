"""The profiles (ADR 0036, 0037) count every cell of every counting form as its drill-down lists the
people (the facts' own answer): worked out from the facts for any day, stored for today and the recent
half years' ends, read for a day near a stored one with the people who changed in between worked out
again, computed whole, moved on to later and earlier days, followed by the consumer's transactions in
every slot, and after a code's group changed. On a real SQLite store, over people generated with
dated careers, memberships, trainings and ranks, some beginning or ending after the first day counted."""

from __future__ import annotations

import json
import math
import random
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import TypedDict

import pytest
from google.protobuf.message import Message
from reports_store import sqlite_store
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2, personnel_pb2, record_pb2
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.consumer import note_stream_sequences
from qlcb_common.events.envelope import wrap
from qlcb_reports.statistics import forms as layouts
from qlcb_reports.statistics import profiles, service
from qlcb_reports.statistics.forms import Column
from qlcb_reports.statistics.models import CURRENT, StatPerson, StatProfile, StatProfileDay
from qlcb_reports.statistics.people_then import UNIT_THEN, in_service
from qlcb_reports.statistics.projection import Projection, write_new

GENERATION = 1
UNITS = [f"unit-{n}" for n in range(6)]
FIRST_DAY = date(2026, 6, 30)
RANKS = {"CVCC": "01.001", "CVC": "01.002", "CV": "01.003", "CS": "01.004", "NV": "01.005"}
TRAININGS = {
    "CM": ["TS", "THS", "DH", "CD", "TC", "SC"],
    "LLCT": ["CN", "CC", "TC", "SC"],
    "TH": ["TC", "CC"],
    "NN": ["DH", "CC"],
    "QLNN": ["CVCC", "CVC", "CV"],
}


def _event(subject: str, payload: Message) -> Envelope:
    return wrap(subject, payload, actor="test", occurred_at=datetime(2026, 1, 1, tzinfo=UTC))


EDGES = (
    date(2024, 6, 30),
    date(2024, 7, 1),
    date(2024, 12, 31),
    date(2025, 1, 1),
    date(2025, 6, 30),
    date(2025, 7, 1),
    date(2025, 12, 31),
    date(2026, 1, 1),
    FIRST_DAY,
)
"""Stored days and the days after them: a fact beginning or ending on one is where a profile read from
a stored day could miss a change."""


def _day(rng: random.Random, first: date, last: date, *, edges: bool = True) -> date:
    if edges and rng.random() < 0.15:
        return rng.choice(EDGES)
    return first + timedelta(days=rng.randrange((last - first).days))


class Sector:
    """People's events as personnel would publish them, with their stream sequences."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.events: list[Envelope] = []
        self.ids = count(1)

    def publish(self, subject: str, payload: Message) -> None:
        self.events.append(_event(subject, payload))

    def entry(
        self,
        person_id: str,
        section: str,
        values: dict[str, str],
        since: date,
        until: date | None,
        *coded: tuple[str, str, str, str],
    ) -> None:
        entry = record_pb2.RecordEntry(
            entry_id=f"entry-{next(self.ids)}",
            version=1,
            section=section,
            change="recorded",
            values_json=json.dumps(values),
            valid_from=since.isoformat(),
            valid_to=until.isoformat() if until else "",
        )
        found = [events_pb2.CodedValue(catalog=c, code=v, stat_group=g, kind=k) for c, v, g, k in coded]
        self.publish(
            subjects.PERSONNEL_RECORD_CHANGED,
            events_pb2.RecordEntryChanged(person_id=person_id, entry=entry, coded=found),
        )

    def recruited(self, person_id: str, day: date) -> str:
        entry_id = f"entry-{next(self.ids)}"
        entry = record_pb2.RecordEntry(
            entry_id=entry_id,
            version=1,
            section="recruitment",
            change="recorded",
            values_json=json.dumps({"body": "Tổng cục Hải quan"}),
            valid_from=day.isoformat(),
        )
        self.publish(subjects.PERSONNEL_RECORD_CHANGED, events_pb2.RecordEntryChanged(person_id=person_id, entry=entry))
        return entry_id

    def member(self, n: int, joined: date, left: date | None) -> None:
        """A person in service all along, in the first unit, a Party member from `joined` to `left`."""
        person = personnel_pb2.Person(
            id=f"person-{n:04d}",
            full_name=f"Người {n}",
            date_of_birth="1980-01-01",
            sex=personnel_pb2.SEX_FEMALE,
            unit_id=UNITS[0],
        )
        self.publish(subjects.PERSONNEL_PERSON_CREATED, events_pb2.PersonCreated(person=person))
        party = ("organisations", "DANG", "DANG_VIEN", "")
        self.entry(person.id, "memberships", {"organisation": "DANG"}, joined, left, party)

    def person(self, n: int) -> None:
        rng = self.rng
        person = personnel_pb2.Person(
            id=f"person-{n:04d}",
            full_name=f"Người {n}",
            date_of_birth=_day(rng, date(1962, 1, 1), date(2004, 1, 1), edges=False).isoformat(),
            sex=rng.choice([personnel_pb2.SEX_MALE, personnel_pb2.SEX_FEMALE]),
            unit_id=rng.choice(UNITS),
        )
        self.publish(subjects.PERSONNEL_PERSON_CREATED, events_pb2.PersonCreated(person=person))
        if rng.random() < 0.6:
            # Recruited on a day, some after the days counted: not in service before it.
            self.recruited(person.id, _day(rng, date(2005, 1, 1), date(2027, 12, 31)))
        for _ in range(rng.randrange(3)):
            moved = events_pb2.PersonTransferred(
                person=person,
                to_unit=personnel_pb2.Unit(id=rng.choice(UNITS)),
                effective_date=_day(rng, date(2015, 1, 1), date(2027, 12, 31)).isoformat(),
            )
            self.publish(subjects.PERSONNEL_PERSON_TRANSFERRED, moved)
        if rng.random() < 0.3:
            left = rng.choice([subjects.PERSONNEL_PERSON_RETIRED, subjects.PERSONNEL_PERSON_RESIGNED])
            since = _day(rng, date(2020, 1, 1), date(2027, 12, 31))
            self.publish(left, events_pb2.PersonStatusChanged(person=person, effective_date=since.isoformat()))
            if rng.random() < 0.4:
                again = (since + timedelta(days=rng.randrange(1, 400))).isoformat()
                self.publish(
                    subjects.PERSONNEL_PERSON_REINSTATED,
                    events_pb2.PersonStatusChanged(person=person, effective_date=again),
                )
        since = _day(rng, date(2005, 1, 1), date(2020, 1, 1))
        for _ in range(rng.randrange(1, 4)):
            group = rng.choice(list(RANKS))
            until = since + timedelta(days=rng.randrange(300, 3000))
            last = until > date(2027, 6, 1)
            code = RANKS[group]
            rank = ("ranks", code, group, "")
            self.entry(person.id, "salary", {"rank_code": code}, since, None if last else until, rank)
            if last:
                break
            since = until + timedelta(days=1)
        for _ in range(rng.randrange(4)):
            kind = rng.choice(list(TRAININGS))
            level = rng.choice(TRAININGS[kind])
            code = f"{kind}-{level}"
            ended = _day(rng, date(2000, 1, 1), date(2027, 12, 31))
            start = ended - timedelta(days=700)
            self.entry(person.id, "trainings", {"level": code}, start, ended, ("training_levels", code, level, kind))
        ethnicity = rng.choice([("01", "KINH"), ("04", "DTTS"), ("05", "DTTS")])
        religion = rng.choice([("", ""), ("PHAT_GIAO", "TON_GIAO")])
        details = {"ethnicity": ethnicity[0], **({"religion": religion[0]} if religion[0] else {})}
        coded = [("ethnicities", ethnicity[0], ethnicity[1], "")]
        if religion[0]:
            coded.append(("religions", religion[0], religion[1], ""))
        self.entry(person.id, "personal_details", details, date(1990, 1, 1), None, *coded)
        if rng.random() < 0.6:
            joined = _day(rng, date(2000, 1, 1), date(2027, 12, 31))
            left_party = joined + timedelta(days=rng.randrange(200, 6000)) if rng.random() < 0.3 else None
            party = ("organisations", "DANG", "DANG_VIEN", "")
            self.entry(person.id, "memberships", {"organisation": "DANG"}, joined, left_party, party)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_store(tmp_path) as database:
        yield database


async def _apply(db: Database, events: Sequence[Envelope], first: int, *, followed: bool) -> None:
    """Applies `events` in batches of 25, as the consumer does, the profiles following if asked."""
    projection = Projection(GENERATION)
    for start in range(0, len(events), 25):
        batch = events[start : start + 25]
        async with db.unit_of_work() as session:
            note_stream_sequences(session, {e.event_id: first + start + n for n, e in enumerate(batch)})
            await projection.prepare(session, batch)
            for envelope in batch:
                await projection.apply(session, envelope)
            if followed:
                await profiles.follow(session, GENERATION)
            else:
                await write_new(session)


async def _listed(session: AsyncSession, day: date, columns: Sequence[Column]) -> dict[str, list[int]]:
    """Per unit, how many people each column's drill-down lists (`service.condition` over the facts)."""
    query = (
        select(UNIT_THEN.value, *(func.count().filter(service.condition(c, GENERATION, day)) for c in columns))
        .select_from(StatPerson)
        .join(UNIT_THEN, UNIT_THEN.person_id == StatPerson.person_id)
        .where(*in_service(GENERATION, day, UNITS))
        .group_by(UNIT_THEN.value)
    )
    return {unit: [int(n) for n in found] for unit, *found in await session.execute(query)}


class Way(TypedDict, total=False):
    moved_share: float
    few_units: int


WAYS: list[Way] = [
    {"moved_share": math.inf},  # from the nearest stored day, however many changed since
    {"moved_share": 0.0},  # worked out from the facts unless a stored day or no change
    {"moved_share": 0.0, "few_units": 0},  # the same, reading every fact of the day
]
"""The ways `profiles.counts` may take besides the one its thresholds choose, each to count the same."""


async def _differences(db: Database, day: date) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Every counting form's cells per unit as of `day` (over the stored profiles if they hold the
    day, else over profiles worked out from the facts) against the people each cell's drill-down
    lists, where they differ."""
    differ = {}
    async with db.unit_of_work() as session:
        for form in layouts.forms().values():
            if form.kind != "counts":
                continue
            columns = [c for c in form.columns if c.count == "people"]
            listed = await _listed(session, day, columns)
            counted = await profiles.counts(session, GENERATION, day, UNITS, columns)
            # A form of some units reads their people alone, and counts them as the whole does.
            some = await profiles.counts(session, GENERATION, day, UNITS[:2], columns)
            assert some == {unit: counted[unit] for unit in UNITS[:2] if unit in counted}
            for way in WAYS:
                assert await profiles.counts(session, GENERATION, day, UNITS, columns, **way) == counted, way
            for unit in UNITS:
                for i, column in enumerate(columns):
                    a = listed.get(unit, [0] * len(columns))[i]
                    b = counted.get(unit, [0] * len(columns))[i]
                    if a != b:
                        differ[form.code, unit, column.key] = (a, b)
    return differ


async def _stored(db: Database) -> dict[int, date]:
    async with db.unit_of_work() as session:
        return await profiles.stored_days(session, GENERATION)


async def _headcount(db: Database, slot: int = CURRENT) -> int:
    async with db.unit_of_work() as session:
        counted = await session.scalar(select(func.count()).select_from(StatProfile).where(StatProfile.slot == slot))
        return int(counted or 0)


YEARS = 2


def _ends(today: date, *ends: tuple[int, int, int]) -> dict[int, date]:
    return {CURRENT: today} | {profiles.slot_of(date(*end)): date(*end) for end in ends}


KEPT_ENDS = ((2024, 6, 30), (2024, 12, 31), (2025, 6, 30), (2025, 12, 31))
KEPT_ON_FIRST_DAY = _ends(FIRST_DAY, *KEPT_ENDS)
"""What the supervisor keeps stored on 30 June 2026: that day, and the half years' ends of the two years
before it."""


async def _kept(db: Database, today: date) -> dict[int, date]:
    """What the supervisor's steps store for `today`: today's profiles at the first step, one more half
    year's end at each step until none is missing."""
    wanted = profiles.wanted(today, YEARS)
    for _ in range(len(wanted)):
        before = await _stored(db)
        await profiles.keep_current(db, GENERATION, today, years=YEARS)
        after = await _stored(db)
        added = [slot for slot in after if slot != CURRENT and slot not in before]
        assert after[CURRENT] == today
        assert len(added) <= 1, "one day computed whole per step"
        assert await _missing(db, today) == len(wanted) - len(after)
    assert await _missing(db, today) == 0
    return await _stored(db)


async def _missing(db: Database, today: date) -> int:
    """What the supervisor exports after its step (the gauge the alert of the same name watches)."""
    async with db.unit_of_work() as session:
        return await profiles.missing(session, GENERATION, today, YEARS)


async def test_the_profiles_count_every_cell_as_its_drill_down_lists_on_any_day_and_when_moved(
    db: Database,
) -> None:
    sector = Sector(20261205)
    for n in range(120):
        sector.person(n)
    # Left the Party on a stored 31 December, or joined the next day: counted on one side of it only.
    sector.member(200, date(2010, 5, 1), date(2025, 12, 31))
    sector.member(201, date(2026, 1, 1), None)
    await _apply(db, sector.events, 1, followed=True)  # no profiles yet: following changes nothing
    assert await _headcount(db) == 0
    # Worked out from the facts for the question, on days with and without profiles stored.
    for day in (date(2012, 1, 1), date(2019, 7, 1), FIRST_DAY):
        assert await _differences(db, day) == {}, day
    assert await _kept(db, FIRST_DAY) == KEPT_ON_FIRST_DAY
    assert 40 < await _headcount(db) < 120
    assert 40 < await _headcount(db, profiles.slot_of(date(2024, 12, 31))) < 120
    assert 40 < await _headcount(db, profiles.slot_of(date(2024, 6, 30))) < 120
    # Stored days, days near one (the people who changed in between worked out again), and far ones.
    for day in (
        FIRST_DAY,
        date(2025, 12, 31),
        date(2024, 12, 31),
        date(2025, 6, 30),
        date(2025, 7, 1),
        date(2024, 9, 30),
        date(2025, 1, 20),
        date(2025, 4, 1),
        date(2023, 2, 1),
        date(2026, 1, 1),
        date(2025, 12, 30),
        date(2025, 12, 5),
    ):
        assert await _differences(db, day) == {}, day
    # Today's, and the half years' ends back to the last one on or before the day two years ago.
    for day, kept in (
        (date(2026, 12, 5), _ends(date(2026, 12, 5), *KEPT_ENDS, (2026, 6, 30))),
        (date(2027, 3, 1), _ends(date(2027, 3, 1), *KEPT_ENDS[1:], (2026, 6, 30), (2026, 12, 31))),
        (date(2027, 12, 31), _ends(date(2027, 12, 31), (2025, 12, 31), (2026, 6, 30), (2026, 12, 31), (2027, 6, 30))),
        (
            date(2024, 1, 1),
            _ends(date(2024, 1, 1), (2021, 12, 31), (2022, 6, 30), (2022, 12, 31), (2023, 6, 30), (2023, 12, 31)),
        ),
        (FIRST_DAY, KEPT_ON_FIRST_DAY),
    ):
        assert await _kept(db, day) == kept
        for asked in (day, day - timedelta(days=20), day + timedelta(days=25), day - timedelta(days=100)):
            assert await _differences(db, asked) == {}, (day, asked)


async def test_the_consumers_transactions_keep_the_profiles_of_the_people_they_change(db: Database) -> None:
    sector = Sector(7)
    for n in range(60):
        sector.person(n)
    first = len(sector.events)
    await _apply(db, sector.events, 1, followed=True)
    await _kept(db, FIRST_DAY)
    last_year_end = profiles.slot_of(date(2025, 12, 31))
    before = await _headcount(db), await _headcount(db, last_year_end)
    for n in range(60, 100):
        sector.person(n)
    # A rank moved to another group: every holder's profile follows, not only this batch's people.
    regrouped = record_pb2.CatalogValue(catalog="ranks", code=RANKS["CV"], stat_group="CVC")
    sector.publish(subjects.PERSONNEL_CATALOG_CHANGED, events_pb2.CatalogValueChanged(value=regrouped, change="added"))
    await _apply(db, sector.events[first:], first + 1, followed=True)
    assert await _headcount(db) > before[0]
    assert await _headcount(db, last_year_end) > before[1]
    assert await _stored(db) == KEPT_ON_FIRST_DAY
    for day in (FIRST_DAY, date(2025, 12, 31), date(2025, 6, 30), date(2024, 12, 31), date(2025, 3, 1)):
        assert await _differences(db, day) == {}, day


async def _count_writes(db: Database) -> None:
    """Notes each stored profile written or deleted, by slot and person, in `profile_writes` (triggers
    of the test's)."""
    async with db.unit_of_work() as session:
        await session.execute(text("CREATE TABLE profile_writes (slot INTEGER, person_id TEXT)"))
        for event, row in (("INSERT", "new"), ("DELETE", "old")):
            await session.execute(
                text(
                    f"CREATE TRIGGER profile_{event.lower()} AFTER {event} ON stat_profiles BEGIN "
                    f"INSERT INTO profile_writes VALUES ({row}.slot, {row}.person_id); END"
                )
            )


async def _written(db: Database, person_id: str) -> list[int]:
    async with db.unit_of_work() as session:
        rows = await session.scalars(
            text("SELECT slot FROM profile_writes WHERE person_id = :p ORDER BY rowid"), {"p": person_id}
        )
        return list(rows)


async def test_a_change_recomputes_the_stored_days_it_reaches_and_no_earlier_ones(db: Database) -> None:
    """A transfer of today is not a change of the half years' ends before it; one dated back, a
    correction moving an entry back, and a recruitment (whoever has none counts from the start) are."""
    sector = Sector(23)
    for n in range(40):
        sector.member(n, date(2010, 1, 1), None)
    await _apply(db, sector.events, 1, followed=True)
    assert await _kept(db, FIRST_DAY) == KEPT_ON_FIRST_DAY
    past = {slot: day for slot, day in KEPT_ON_FIRST_DAY.items() if slot != CURRENT}
    await _count_writes(db)

    def transfer(n: int, unit: str, day: date) -> None:
        person = personnel_pb2.Person(id=f"person-{n:04d}", unit_id=UNITS[0])
        moved = events_pb2.PersonTransferred(
            person=person, to_unit=personnel_pb2.Unit(id=unit), effective_date=day.isoformat()
        )
        sector.publish(subjects.PERSONNEL_PERSON_TRANSFERRED, moved)

    async def changed(publish: Callable[[], object]) -> set[date]:
        """The stored days whose profile of person 1 was computed again by the events `publish` adds."""
        first = len(sector.events)
        before = len(await _written(db, "person-0001"))
        publish()
        await _apply(db, sector.events[first:], first + 1, followed=True)
        return {KEPT_ON_FIRST_DAY[slot] for slot in (await _written(db, "person-0001"))[before:]}

    assert await changed(lambda: transfer(1, UNITS[1], FIRST_DAY)) == {FIRST_DAY}
    assert await changed(lambda: transfer(1, UNITS[2], date(2027, 1, 1))) == set(), "takes effect later"
    assert await changed(lambda: transfer(1, UNITS[3], date(2025, 1, 15))) == {
        FIRST_DAY,
        date(2025, 6, 30),
        date(2025, 12, 31),
    }
    assert await changed(lambda: sector.recruited("person-0001", date(2026, 3, 1))) == set(KEPT_ON_FIRST_DAY.values())
    for day in (*past.values(), FIRST_DAY, date(2025, 3, 1)):
        assert await _differences(db, day) == {}, day
    async with db.unit_of_work() as session:
        headcount = [c for c in layouts.forms()["BM01"].columns if c.key == "headcount"]
        counted = await profiles.counts(session, GENERATION, date(2025, 12, 31), UNITS, headcount)
    assert sum(n for (n,) in counted.values()) == 39, "recruited in 2026: not in service at the end of 2025"
    await profiles.keep_current(db, GENERATION, date(2027, 1, 2), years=0)
    assert await _differences(db, date(2027, 1, 2)) == {}, "the later transfer, once its day came"


async def test_a_code_named_for_the_first_time_reaches_every_stored_day_of_its_holders(db: Database) -> None:
    """An entry recorded before events named its codes' groups holds a rank since 2015; a step raise of
    today names the rank's group for the first time: the earlier entry's days count it too."""
    sector = Sector(29)
    for n in range(10):
        sector.member(n, date(2010, 1, 1), None)
    sector.entry("person-0001", "salary", {"rank_code": RANKS["CV"]}, date(2015, 1, 1), date(2026, 5, 31))
    await _apply(db, sector.events, 1, followed=True)
    assert await _kept(db, FIRST_DAY) == KEPT_ON_FIRST_DAY
    first = len(sector.events)
    rank = ("ranks", RANKS["CV"], "CV", "")
    sector.entry("person-0001", "salary", {"rank_code": RANKS["CV"]}, date(2026, 6, 1), None, rank)
    await _apply(db, sector.events[first:], first + 1, followed=True)
    for day in KEPT_ON_FIRST_DAY.values():
        assert await _differences(db, day) == {}, day


async def test_profiles_built_for_other_groups_are_not_read_and_are_computed_again(db: Database) -> None:
    sector = Sector(11)
    for n in range(30):
        sector.person(n)
    await _apply(db, sector.events, 1, followed=False)
    await _kept(db, FIRST_DAY)
    async with db.unit_of_work() as session:
        await session.execute(update(StatProfileDay).values(tokens="rank||CV"))
        await session.execute(update(StatProfile).values(held=0))
    assert await _stored(db) == {}
    assert await _missing(db, FIRST_DAY) == len(KEPT_ON_FIRST_DAY)
    for day in (FIRST_DAY, date(2025, 12, 31), date(2025, 11, 1)):
        assert await _differences(db, day) == {}, "worked out from the facts meanwhile"
    assert await _kept(db, FIRST_DAY) == KEPT_ON_FIRST_DAY
    for day in (FIRST_DAY, date(2025, 12, 31), date(2025, 11, 1)):
        assert await _differences(db, day) == {}


async def test_a_record_counts_from_its_recruitment_and_one_without_any_from_its_start(db: Database) -> None:
    """The go-live take-in: records created now, with the recruitment each began with. Whoever was
    recruited on 1 March 2026 is not counted on 28 February, by the profiles or the drill-down; a
    record with no recruitment, or whose recruitment was retracted, counts on both days."""
    sector = Sector(11)
    for n, (name, day) in enumerate((("recruited", date(2026, 3, 1)), ("none", None), ("retracted", date(2026, 3, 1)))):
        person = personnel_pb2.Person(
            id=f"person-{name}",
            full_name=name,
            date_of_birth="1990-01-01",
            sex=personnel_pb2.SEX_MALE,
            unit_id=UNITS[n],
        )
        sector.publish(subjects.PERSONNEL_PERSON_CREATED, events_pb2.PersonCreated(person=person))
        if day is None:
            continue
        entry_id = sector.recruited(person.id, day)
        if name == "retracted":
            gone = record_pb2.RecordEntry(
                entry_id=entry_id, version=2, section="recruitment", change="retracted", valid_from=day.isoformat()
            )
            sector.publish(
                subjects.PERSONNEL_RECORD_CHANGED, events_pb2.RecordEntryChanged(person_id=person.id, entry=gone)
            )
    await _apply(db, sector.events, 1, followed=False)
    headcount = [c for c in layouts.forms()["BM01"].columns if c.key == "headcount"]
    expected = {
        date(2026, 2, 28): {UNITS[1]: [1], UNITS[2]: [1]},
        date(2026, 3, 1): {UNITS[0]: [1], UNITS[1]: [1], UNITS[2]: [1]},
    }
    for day, units in expected.items():
        async with db.unit_of_work() as session:
            assert await _listed(session, day, headcount) == units, day
            assert await profiles.counts(session, GENERATION, day, UNITS, headcount) == units, day
    await profiles.keep_current(db, GENERATION, date(2026, 2, 28), years=0)
    for day, units in expected.items():
        async with db.unit_of_work() as session:
            assert await profiles.counts(session, GENERATION, day, UNITS, headcount) == units, ("stored", day)


@pytest.mark.parametrize("today", [date(2026, 12, 6), date(2026, 6, 30), date(2026, 7, 1), date(2028, 2, 29)])
def test_every_day_of_the_years_kept_is_within_a_quarter_of_a_stored_day(today: date) -> None:
    """A form of any day of the last five years counts from a stored day at most 92 days away, not the
    half year a day in June was from the nearest 31 December (ADR 0044)."""
    kept = profiles.wanted(today, 5)
    assert kept[CURRENT] == today
    assert all(day < today and (day.month, day.day) in profiles.HALF_YEAR_ENDS for slot, day in kept.items() if slot)
    assert len(set(kept.values())) == len(kept), "no day stored twice"
    assert all(profiles.slot_of(day) == slot for slot, day in kept.items() if slot)
    start = date(today.year - 5, today.month, min(today.day, 28))
    for offset in range((today - start).days + 1):
        day = start + timedelta(days=offset)
        assert min(abs((day - stored).days) for stored in kept.values()) <= 92, day
    assert profiles.wanted(today, 0) == {CURRENT: today}
