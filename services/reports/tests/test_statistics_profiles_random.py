"""The stored profiles follow whatever the consumer applies (ADR 0036, 0037, 0044): random sectors of a
few people get transfers, statuses, ranks, trainings, recruitments and memberships dated around the
stored days, corrections, retractions and supersessions of them, regrouped codes, quotas and their
particulars again, delivered out of order, in batches and one at a time, with and without the codes'
groups on the entries; after every transaction each stored day's profiles equal those worked out
from the facts. On a real SQLite store."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from google.protobuf.message import Message
from reports_store import sqlite_store
from sqlalchemy import select

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2, personnel_pb2, quota_pb2, record_pb2
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.consumer import note_stream_sequences
from qlcb_common.events.envelope import wrap
from qlcb_reports.statistics import profiles
from qlcb_reports.statistics.models import StatProfile
from qlcb_reports.statistics.projection import Projection

GENERATION = 1
UNITS = [f"unit-{n}" for n in range(4)]
TODAY = date(2026, 6, 30)
YEARS = 2
RANKS = {"CVCC": "01.001", "CVC": "01.002", "CV": "01.003", "CS": "01.004", "NV": "01.005"}
EDGES = [
    date(2024, 6, 30),
    date(2024, 7, 1),
    date(2024, 12, 31),
    date(2025, 1, 1),
    date(2025, 6, 30),
    date(2025, 7, 1),
    date(2025, 12, 31),
    date(2026, 1, 1),
    TODAY,
    date(2026, 7, 1),
]
"""The stored days and the days after them."""
Coded = tuple[str, str, str, str]


class Sector:
    """Random events about a few people, numbered as a stream, handed over in random order."""

    def __init__(self, rng: random.Random, *, coded: bool) -> None:
        self.rng = rng
        self.coded = coded
        self.sequence = 0
        self.pending: list[tuple[int, Envelope]] = []
        self.entries: dict[str, tuple[str, str, int]] = {}
        """Each entry's person, section and last version."""
        self.people: list[str] = []

    def day(self) -> date:
        if self.rng.random() < 0.35:
            return self.rng.choice(EDGES)
        return date(2023, 1, 1) + timedelta(days=self.rng.randrange(365 * 5))

    def publish(self, subject: str, payload: Message) -> None:
        self.sequence += 1
        envelope = wrap(subject, payload, actor="test", occurred_at=datetime(2026, 1, 1, tzinfo=UTC))
        self.pending.append((self.sequence, envelope))

    def person(self, person_id: str | None = None) -> None:
        """A new person, or the particulars of `person_id` again."""
        if person_id is None:
            person_id = f"person-{len(self.people) + 1:03d}"
            self.people.append(person_id)
        person = personnel_pb2.Person(
            id=person_id,
            full_name="Người",
            date_of_birth=f"{self.rng.randrange(1960, 2000)}-0{self.rng.randrange(1, 9)}-15",
            sex=self.rng.choice([personnel_pb2.SEX_MALE, personnel_pb2.SEX_FEMALE]),
            unit_id=self.rng.choice(UNITS),
        )
        self.publish(subjects.PERSONNEL_PERSON_CREATED, events_pb2.PersonCreated(person=person))

    def entry(
        self,
        person_id: str,
        section: str,
        values: dict[str, str],
        span: tuple[date | None, date | None],
        coded: list[Coded],
        *,
        entry_id: str | None = None,
        change: str = "recorded",
        superseded: bool = False,
    ) -> None:
        version = 1 if entry_id is None else self.entries[entry_id][2] + 1
        entry_id = entry_id or f"entry-{len(self.entries) + 1}"
        self.entries[entry_id] = (person_id, section, version)
        since, until = span
        entry = record_pb2.RecordEntry(
            entry_id=entry_id,
            version=version,
            section=section,
            change=change,
            values_json=json.dumps(values),
            valid_from=since.isoformat() if since else "",
            valid_to=until.isoformat() if until else "",
            superseded_at="2026-01-01T00:00:00Z" if superseded else "",
        )
        found = [events_pb2.CodedValue(catalog=c, code=v, stat_group=g, kind=k) for c, v, g, k in coded]
        self.publish(
            subjects.PERSONNEL_RECORD_CHANGED,
            events_pb2.RecordEntryChanged(person_id=person_id, entry=entry, coded=found if self.coded else []),
        )

    def rank(self) -> tuple[dict[str, str], list[Coded]]:
        group = self.rng.choice(list(RANKS))
        return {"rank_code": RANKS[group]}, [("ranks", RANKS[group], group, "")]

    def anything(self) -> None:
        rng = self.rng
        person_id = rng.choice(self.people)
        person = personnel_pb2.Person(id=person_id)
        party: list[Coded] = [("organisations", "DANG", "DANG_VIEN", "")]
        training: list[Coded] = [("training_levels", "CM-DH", "DH", "CM")]
        draw = rng.random()
        if draw < 0.15:
            moved = events_pb2.PersonTransferred(
                person=person, to_unit=personnel_pb2.Unit(id=rng.choice(UNITS)), effective_date=self.day().isoformat()
            )
            self.publish(subjects.PERSONNEL_PERSON_TRANSFERRED, moved)
        elif draw < 0.25:
            subject = rng.choice(
                [
                    subjects.PERSONNEL_PERSON_RETIRED,
                    subjects.PERSONNEL_PERSON_RESIGNED,
                    subjects.PERSONNEL_PERSON_REINSTATED,
                ]
            )
            self.publish(subject, events_pb2.PersonStatusChanged(person=person, effective_date=self.day().isoformat()))
        elif draw < 0.45:
            since = self.day()
            until = since + timedelta(days=rng.randrange(30, 900)) if rng.random() < 0.5 else None
            self.entry(person_id, "salary", *_with_span(self.rank(), (since, until)))
        elif draw < 0.55:
            ended = self.day()
            span = (ended - timedelta(days=700) if rng.random() < 0.8 else None, ended if rng.random() < 0.8 else None)
            self.entry(person_id, "trainings", {"level": "CM-DH"}, span, training)
        elif draw < 0.62:
            self.entry(person_id, "recruitment", {"body": "Cục Hải quan"}, (self.day(), None), [])
        elif draw < 0.67:
            left = None if rng.random() < 0.5 else self.day()
            self.entry(person_id, "memberships", {"organisation": "DANG"}, (self.day(), left), party)
        elif draw < 0.85 and self.entries:
            self.changed(rng.choice(list(self.entries)), party, training)
        elif draw < 0.9:
            regrouped = record_pb2.CatalogValue(
                catalog="ranks", code=rng.choice(list(RANKS.values())), stat_group=rng.choice(list(RANKS))
            )
            self.publish(
                subjects.PERSONNEL_CATALOG_CHANGED, events_pb2.CatalogValueChanged(value=regrouped, change="added")
            )
        elif draw < 0.93:
            quota = quota_pb2.UnitQuotaChange(
                unit_id=rng.choice(UNITS), effective_date=self.day().isoformat(), year=2026, quota=5
            )
            self.publish(subjects.PERSONNEL_UNIT_QUOTA_SET, events_pb2.UnitQuotaSet(change=quota))
        elif draw < 0.96:
            self.person(person_id)
        else:
            self.person()

    def changed(self, entry_id: str, party: list[Coded], training: list[Coded]) -> None:
        """A later version of an entry: retracted, superseded or corrected to other days."""
        person_id, section, _ = self.entries[entry_id]
        draw = self.rng.random()
        if draw < 0.4:
            self.entry(
                person_id,
                section,
                {},
                (None, None),
                [],
                entry_id=entry_id,
                change="retracted" if draw < 0.3 else "recorded",
                superseded=draw >= 0.3,
            )
            return
        ended = self.day()
        corrected: dict[str, tuple[dict[str, str], tuple[date | None, date | None], list[Coded]]] = {
            "salary": _with_span(self.rank(), (self.day(), self.day() if self.rng.random() < 0.4 else None)),
            "trainings": ({"level": "CM-DH"}, (ended - timedelta(days=100), ended), training),
            "recruitment": ({"body": "Cục Hải quan"}, (self.day(), None), []),
            "memberships": ({"organisation": "DANG"}, (self.day(), None), party),
        }
        self.entry(person_id, section, *corrected[section], entry_id=entry_id, change="corrected")

    def take(self, most: int) -> list[tuple[int, Envelope]]:
        """Up to `most` of the events published and not yet handed over, in stream order or not."""
        if self.rng.random() < 0.5:
            self.rng.shuffle(self.pending)
        taken, self.pending = self.pending[:most], self.pending[most:]
        return taken


def _with_span(
    given: tuple[dict[str, str], list[Coded]], span: tuple[date | None, date | None]
) -> tuple[dict[str, str], tuple[date | None, date | None], list[Coded]]:
    values, coded = given
    return values, span, coded


async def _apply(db: Database, batch: list[tuple[int, Envelope]], *, together: bool) -> None:
    """As the consumer applies a batch: in one transaction after reading its people, or one by one."""
    projection = Projection(GENERATION)
    groups = [batch] if together else [[one] for one in batch]
    for group in groups:
        async with db.unit_of_work() as session:
            note_stream_sequences(session, {envelope.event_id: sequence for sequence, envelope in group})
            if together:
                await projection.prepare(session, [envelope for _, envelope in group])
            for _, envelope in group:
                await projection.apply(session, envelope)
            await profiles.follow(session, GENERATION)


async def _wrong(db: Database) -> dict[date, tuple[set[tuple[object, ...]], set[tuple[object, ...]]]]:
    """Each stored day whose profiles are not those worked out from the facts: (stored, worked out)."""
    columns = (StatProfile.person_id, StatProfile.unit_id, StatProfile.sex, StatProfile.date_of_birth, StatProfile.held)
    wrong = {}
    async with db.unit_of_work() as session:
        codes = await profiles.coded(session, GENERATION)
        for slot, day in (await profiles.stored_days(session, GENERATION)).items():
            rows = await session.execute(
                select(*columns).where(StatProfile.generation == GENERATION, StatProfile.slot == slot)
            )
            stored = {tuple(row) for row in rows}
            worked = {tuple(row) for row in await session.execute(profiles.profiles_of(GENERATION, day, codes))}
            if stored != worked:
                wrong[day] = (stored - worked, worked - stored)
    return wrong


@pytest.mark.parametrize("coded", [True, False], ids=["groups-on-entries", "groups-from-catalog-events"])
@pytest.mark.parametrize("seed", range(5))
async def test_every_stored_day_follows_whatever_the_consumer_applies(tmp_path: Path, seed: int, coded: bool) -> None:
    rng = random.Random(seed)
    sector = Sector(rng, coded=coded)
    async with sqlite_store(tmp_path) as db:
        for _ in range(10):
            sector.person()
        for _ in range(30):
            sector.anything()
        await _apply(db, sector.take(len(sector.pending)), together=True)
        for _ in profiles.wanted(TODAY, YEARS):
            await profiles.keep_current(db, GENERATION, TODAY, years=YEARS)
        assert len(await _stored(db)) == len(profiles.wanted(TODAY, YEARS))
        assert await _wrong(db) == {}
        for step in range(40):
            for _ in range(rng.randrange(1, 5)):
                sector.anything()
            batch = sector.take(rng.randrange(1, 6))
            await _apply(db, batch, together=rng.random() < 0.6)
            assert await _wrong(db) == {}, (step, [(sequence, envelope.subject) for sequence, envelope in batch])


async def _stored(db: Database) -> dict[int, date]:
    async with db.unit_of_work() as session:
        return await profiles.stored_days(session, GENERATION)
