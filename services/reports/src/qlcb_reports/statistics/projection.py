"""Applies personnel's events to one generation of the statistics read-model, inside the consumer's
transaction (the inbox beside it makes a redelivered event change nothing).

The facts follow personnel's own search facts (ADR 0015) rule for rule, so that a form's cell and a
search with the same criteria count the same people: a person is in their first unit from the start
of their record; a move or a status from its effective date ends the period before it the day
before (before in the order personnel published them, whatever order they arrive in); a record
entry's latest version gives its facts, a retraction takes them away (and is kept, so that a
version before it arriving late adds nothing); a training level is held from the course's end for
good."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2, personnel_pb2, quota_pb2
from qlcb_common import names
from qlcb_common.db import insert_rows
from qlcb_common.events import subjects
from qlcb_common.events.consumer import stream_sequence
from qlcb_common.events.envelope import unpack
from qlcb_reports.statistics.models import BEGINNING, OPEN_END, StatCode, StatFact, StatPerson, StatQuota

UNIT, STATUS, RANK, ETHNICITY, RELIGION, ORGANISATION, TRAINING, POST, ALLOWANCE, EDUCATION = (
    "unit",
    "status",
    "rank",
    "ethnicity",
    "religion",
    "organisation",
    "training",
    "post",
    "allowance",
    "education",
)
RECRUITED, REWARD, DISCIPLINE = "recruited", "reward", "discipline"
WITHDRAWN = "withdrawn"
"""The fact kept for an entry whose latest version gives none (retracted): an empty period, which no
form counts, holding the version, so that an earlier version handed over after it is known to be older
and left out rather than counted again."""
ENTRY_FACTS: dict[str, tuple[tuple[str, str], ...]] = {
    "salary": ((RANK, "rank_code"),),
    "personal_details": ((ETHNICITY, "ethnicity"), (RELIGION, "religion"), (EDUCATION, "general_education")),
    "memberships": ((ORGANISATION, "organisation"),),
    "trainings": ((TRAINING, "level"),),
    "appointments": ((POST, "post_code"),),
    "allowances": ((ALLOWANCE, "kind"),),
    "recruitment": ((RECRUITED, ""),),
    "rewards": ((REWARD, "form"),),
    "honorary_titles": ((REWARD, "title"),),  # a danh hiệu vinh dự nhà nước is a form of reward
    "disciplines": ((DISCIPLINE, "form"),),
}
"""The record sections a form counts or lists: each fact an entry gives and the field holding its code."""
DETAILS = {
    "salary": ("step", "coefficient", "over_frame_percent"),
    "appointments": ("post",),
    "allowances": ("coefficient", "percent"),
}
"""The values of an entry a list form prints besides its code (`StatFact.detail`)."""
UNCODED = frozenset({POST, RECRUITED})
"""Facts held without a code (a post its appointment names in words only, a recruitment)."""
CATALOG_OF = {RANK: "ranks", ETHNICITY: "ethnicities", RELIGION: "religions", ORGANISATION: "organisations"}
CATALOG_OF |= {TRAINING: "training_levels", POST: "posts", ALLOWANCE: "allowance_kinds"}
CATALOG_OF |= {EDUCATION: "general_education"}

SUBJECTS = (
    subjects.PERSONNEL_PERSON_CREATED,
    *subjects.PERSONNEL_PERSON_LEFT,
    subjects.PERSONNEL_PERSON_REINSTATED,
    subjects.PERSONNEL_PERSON_TRANSFERRED,
    subjects.PERSONNEL_RECORD_CHANGED,
    subjects.PERSONNEL_CATALOG_CHANGED,
    subjects.PERSONNEL_UNIT_QUOTA_SET,
)
"""What the model follows (the unit tree it adds up over is the headcount consumer's)."""

PEOPLE_HELD = "statistics_people_held"
"""The key of `session.info` under which a transaction holds every fact of the people of its batch
(`prepare`) or that it created (`_known`)."""
PEOPLE_NEW = "statistics_people_new"
"""The key of `session.info` under which a transaction keeps the people of its batch with no row yet."""
CODES_HELD = "statistics_codes_held"
"""The key of `session.info` under which a transaction keeps the codes it read or added, by key."""
PEOPLE_TOUCHED = "statistics_people_touched"
"""The key of `session.info` under which a transaction keeps, by generation, the people whose facts
or particulars it changed (their profiles follow, ADR 0036)."""
REACHED = "statistics_reached"
"""The key of `session.info` under which a transaction keeps, by generation, the earliest day its changes
of facts or particulars reach: the stored profiles of earlier days stay as they are (ADR 0044)."""
CODES_REGROUPED = "statistics_codes_regrouped"
"""The key of `session.info` under which a transaction keeps, by generation, the (catalog, code) pairs
whose group or kind it changed (the profiles of their holders follow)."""
CODES_PREPARED = "statistics_codes_prepared"
"""The key of `session.info` under which a transaction keeps the codes `prepare` looked for (read or
found missing), so a missing one is added without asking again."""

FACTS_NEW = "statistics_facts_new"
"""The key of `session.info` under which a transaction keeps the facts it added and has not written
yet (`write_new`), by their identity."""

STATUS_OF = {
    subjects.PERSONNEL_PERSON_RETIRED: "PERSON_STATUS_RETIRED",
    subjects.PERSONNEL_PERSON_RESIGNED: "PERSON_STATUS_RESIGNED",
    subjects.PERSONNEL_PERSON_DIED: "PERSON_STATUS_DECEASED",
    subjects.PERSONNEL_PERSON_MOVED_OUT: "PERSON_STATUS_MOVED_OUT",
    subjects.PERSONNEL_PERSON_REINSTATED: "PERSON_STATUS_ACTIVE",
}


def _day_before(day: date) -> date:
    return day - timedelta(days=1) if day > BEGINNING else day


@dataclass(eq=False)
class NewFact:
    """A fact a transaction adds, held in memory (where the events after it in the transaction may
    still end its period or take it away) until `write_new` writes them all in one statement: as ORM
    objects, their bookkeeping and flush took about a quarter of a replay's time."""

    generation: int
    person_id: str
    source_id: str
    fact: str
    value: str
    valid_from: date
    valid_to: date
    version: int
    sequence: int
    detail: str = "{}"


FACT_COLUMNS = tuple(field.name for field in fields(NewFact))
_values = operator.attrgetter(*FACT_COLUMNS)

Held = StatFact | NewFact
"""A fact of a person a transaction holds: stored (an ORM object, its changes flushed as usual) or new."""


async def write_new(session: AsyncSession) -> None:
    """Writes the facts the transaction added, after flushing its other changes (a new version of an
    entry has the key of the stored one it replaces, deleted first). Their people are no longer held:
    a later event of theirs in the transaction reads what is stored. Called before the transaction's
    queries of facts and by its finish (`profiles.follow`), which every consumer's transaction runs."""
    added: dict[int, NewFact] | None = session.info.pop(FACTS_NEW, None)
    if not added:
        return
    await session.flush()
    await insert_rows(
        session, cast(Table, StatFact.__table__), FACT_COLUMNS, [_values(fact) for fact in added.values()]
    )
    held: dict[tuple[int, str], list[Held]] = session.info.get(PEOPLE_HELD, {})
    for fact in added.values():
        held.pop((fact.generation, fact.person_id), None)


@dataclass(frozen=True)
class Projection:
    generation: int

    async def apply(self, session: AsyncSession, envelope: Envelope) -> None:
        subject = envelope.subject
        if subject == subjects.PERSONNEL_PERSON_CREATED:
            person = unpack(envelope, events_pb2.PersonCreated).person
            await self._person(session, person)
            await self._known(session, person.id)
            await self._from(session, envelope, person.id, UNIT, person.unit_id, None)
        elif subject in STATUS_OF:
            changed = unpack(envelope, events_pb2.PersonStatusChanged)
            since = date.fromisoformat(changed.effective_date)
            await self._from(session, envelope, changed.person.id, STATUS, STATUS_OF[subject], since)
        elif subject == subjects.PERSONNEL_PERSON_TRANSFERRED:
            moved = unpack(envelope, events_pb2.PersonTransferred)
            since = date.fromisoformat(moved.effective_date)
            await self._from(session, envelope, moved.person.id, UNIT, moved.to_unit.id, since)
        elif subject == subjects.PERSONNEL_RECORD_CHANGED:
            await self._entry(session, envelope, unpack(envelope, events_pb2.RecordEntryChanged))
        elif subject == subjects.PERSONNEL_CATALOG_CHANGED:
            catalog = unpack(envelope, events_pb2.CatalogValueChanged)
            if catalog.change == "added":
                value = catalog.value
                kind = json.loads(value.attributes_json or "{}").get("kind") or ""
                await self._code(session, envelope, value.catalog, value.code, value.stat_group, str(kind))
        elif subject == subjects.PERSONNEL_UNIT_QUOTA_SET:
            await self._quota(session, envelope, unpack(envelope, events_pb2.UnitQuotaSet).change)

    async def _quota(self, session: AsyncSession, envelope: Envelope, quota: quota_pb2.UnitQuotaChange) -> None:
        """A correction replaces the quota of its date; of two events for one date, the one published
        later holds, whichever reaches reports last."""
        sequence = stream_sequence(session, envelope)
        key = (self.generation, quota.unit_id, date.fromisoformat(quota.effective_date))
        stored = await session.get(StatQuota, key)
        if stored is None:
            session.add(
                StatQuota(
                    generation=self.generation,
                    unit_id=quota.unit_id,
                    effective_date=key[2],
                    year=quota.year,
                    quota=quota.quota,
                    sequence=sequence,
                )
            )
        elif sequence > stored.sequence:
            stored.year, stored.quota, stored.sequence = quota.year, quota.quota, sequence

    def _touched(self, session: AsyncSession, person_id: str, reaches: date) -> None:
        """The person's profiles follow, from `reaches` on."""
        session.info.setdefault(PEOPLE_TOUCHED, {}).setdefault(self.generation, set()).add(person_id)
        self._reaches(session, reaches)

    def _reaches(self, session: AsyncSession, day: date) -> None:
        reached: dict[int, date] = session.info.setdefault(REACHED, {})
        reached[self.generation] = min(day, reached.get(self.generation, day))

    def _reaches_fact(self, session: AsyncSession, fact: str, valid_from: date) -> None:
        """A fact added or removed changes the profiles of the days it holds; a recruitment, every day
        before it too (someone with no recruitment recorded counts from the start, `people_then`)."""
        self._reaches(session, BEGINNING if fact == RECRUITED else valid_from)

    async def _person(self, session: AsyncSession, person: personnel_pb2.Person) -> None:
        self._touched(session, person.id, BEGINNING)
        row = StatPerson(
            generation=self.generation,
            person_id=person.id,
            personal_id=person.personal_id,
            staff_number=person.staff_number,
            full_name=person.full_name,
            name_sort=names.sort_key(person.full_name),
            date_of_birth=date.fromisoformat(person.date_of_birth),
            sex=personnel_pb2.Sex.Name(person.sex),
        )
        new: set[tuple[int, str]] = session.info.get(PEOPLE_NEW, set())
        if (self.generation, person.id) in new:
            new.discard((self.generation, person.id))
            session.add(row)
        else:
            await session.merge(row)

    async def prepare(self, session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        """Before a batch: every stored fact and row of the people its events are about, and of the
        codes they name, read in three queries, so that each event is applied to objects in the
        session with no query of its own (ADR 0031, Throughput)."""
        people: set[str] = set()
        codes: set[str] = set()
        for envelope in envelopes:
            subject = envelope.subject
            if subject == subjects.PERSONNEL_PERSON_CREATED:
                people.add(unpack(envelope, events_pb2.PersonCreated).person.id)
            elif subject in STATUS_OF:
                people.add(unpack(envelope, events_pb2.PersonStatusChanged).person.id)
            elif subject == subjects.PERSONNEL_PERSON_TRANSFERRED:
                people.add(unpack(envelope, events_pb2.PersonTransferred).person.id)
            elif subject == subjects.PERSONNEL_RECORD_CHANGED:
                changed = unpack(envelope, events_pb2.RecordEntryChanged)
                people.add(changed.person_id)
                codes.update(coded.code for coded in changed.coded)
            elif subject == subjects.PERSONNEL_CATALOG_CHANGED:
                codes.add(unpack(envelope, events_pb2.CatalogValueChanged).value.code)
        held: dict[tuple[int, str], list[Held]] = session.info.setdefault(PEOPLE_HELD, {})
        for person_id in people:
            held.setdefault((self.generation, person_id), [])
        if people:
            stored = await session.scalars(
                select(StatFact).where(StatFact.generation == self.generation, StatFact.person_id.in_(people))
            )
            for fact in stored:
                held[self.generation, fact.person_id].append(fact)
            rows = await session.scalars(
                select(StatPerson).where(StatPerson.generation == self.generation, StatPerson.person_id.in_(people))
            )
            found = {row.person_id for row in rows}
            session.info.setdefault(PEOPLE_NEW, set()).update((self.generation, p) for p in people - found)
        known: dict[tuple[int, str, str], StatCode | None] = session.info.setdefault(CODES_HELD, {})
        if codes:
            for catalog_code in await session.scalars(
                select(StatCode).where(StatCode.generation == self.generation, StatCode.code.in_(codes))
            ):
                known[self.generation, catalog_code.catalog, catalog_code.code] = catalog_code
        session.info.setdefault(CODES_PREPARED, set()).update((self.generation, code) for code in codes)

    async def _known(self, session: AsyncSession, person_id: str) -> None:
        """Starts following in the session every fact of a person created in this transaction who has
        none stored yet, so that their later events in it are applied to those objects without a
        query each (what `prepare` does for a whole batch at once)."""
        if self._held(session, self.generation, person_id) is not None:
            return
        await write_new(session)
        stored = await session.scalar(
            select(StatFact.person_id)
            .where(StatFact.generation == self.generation, StatFact.person_id == person_id)
            .limit(1)
        )
        if stored is None:
            session.info.setdefault(PEOPLE_HELD, {})[(self.generation, person_id)] = []

    @staticmethod
    def _held(session: AsyncSession, generation: int, person_id: str) -> list[Held] | None:
        """Every fact of the person, if this transaction holds them all (`_known`)."""
        held: dict[tuple[int, str], list[Held]] = session.info.get(PEOPLE_HELD, {})
        return held.get((generation, person_id))

    def _add(self, session: AsyncSession, fact: NewFact) -> None:
        session.info.setdefault(FACTS_NEW, {})[id(fact)] = fact
        held = self._held(session, self.generation, fact.person_id)
        if held is not None:
            held.append(fact)

    async def _from(
        self,
        session: AsyncSession,
        envelope: Envelope,
        person_id: str,
        fact: str,
        value: str,
        since: date | None,
    ) -> None:
        """`value` from `since` (None: from the start of the record) until the next event of the same
        fact published after this one begins; the periods of the events published before it that run
        on to `since` end the day before (one beginning on it or later is left empty). Compared by
        stream sequence, not by arrival, so events handed over out of order give the same periods."""
        start = since or BEGINNING
        self._touched(session, person_id, start)
        self._reaches_fact(session, fact, start)
        sequence = stream_sequence(session, envelope)
        held = self._held(session, self.generation, person_id)
        if held is not None:
            same = [f for f in held if f.fact == fact]
            later = [f.valid_from for f in same if f.sequence > sequence and f.valid_from > BEGINNING]
            if since is not None:
                for running in same:
                    if running.sequence < sequence and running.valid_to >= since:
                        running.valid_to = _day_before(since)
        else:
            await write_new(session)
            mine = (StatFact.generation == self.generation, StatFact.person_id == person_id, StatFact.fact == fact)
            later_start = await session.scalar(
                select(func.min(StatFact.valid_from)).where(
                    *mine, StatFact.sequence > sequence, StatFact.valid_from > BEGINNING
                )
            )
            later = [later_start] if later_start is not None else []
            if since is not None:
                await session.execute(
                    update(StatFact)
                    .where(*mine, StatFact.sequence < sequence, StatFact.valid_to >= since)
                    .values(valid_to=_day_before(since))
                )
        self._add(
            session,
            NewFact(
                generation=self.generation,
                person_id=person_id,
                source_id=envelope.event_id,
                fact=fact,
                value=value,
                valid_from=start,
                valid_to=_day_before(min(later)) if later else OPEN_END,
                version=0,
                sequence=sequence,
            ),
        )

    async def _entry(self, session: AsyncSession, envelope: Envelope, changed: events_pb2.RecordEntryChanged) -> None:
        entry = changed.entry
        for coded in changed.coded:
            await self._code(session, envelope, coded.catalog, coded.code, coded.stat_group, coded.kind)
        gives = ENTRY_FACTS.get(entry.section)
        if gives is None:
            return
        if not await self._replace(session, changed.person_id, entry.entry_id, entry.version):
            return  # an older version arriving after a newer one has nothing left to say
        self._touched(session, changed.person_id, OPEN_END)  # the facts removed and added say from when
        given = self._given(session, envelope, changed)
        if entry.change == "retracted" or entry.superseded_at:
            given(WITHDRAWN, "", OPEN_END, BEGINNING, "{}")
            return
        values = json.loads(entry.values_json)
        start = date.fromisoformat(entry.valid_from) if entry.valid_from else BEGINNING
        end = date.fromisoformat(entry.valid_to) if entry.valid_to else OPEN_END
        if entry.section == "trainings":
            start, end = (end if entry.valid_to else start), OPEN_END
        detail = json.dumps({k: values[k] for k in DETAILS.get(entry.section, ()) if k in values}, ensure_ascii=False)
        for fact, field in gives:
            code = str(values.get(field) or "") if field else ""
            if code or fact in UNCODED:
                given(fact, code, start, end, detail)

    def _given(
        self, session: AsyncSession, envelope: Envelope, changed: events_pb2.RecordEntryChanged
    ) -> Callable[[str, str, date, date, str], None]:
        """Adds a fact the entry's version gives: (fact, value, valid from, valid to, detail)."""

        def add(fact: str, value: str, valid_from: date, valid_to: date, detail: str) -> None:
            self._reaches_fact(session, fact, valid_from)
            self._add(
                session,
                NewFact(
                    generation=self.generation,
                    person_id=changed.person_id,
                    source_id=changed.entry.entry_id,
                    fact=fact,
                    value=value,
                    valid_from=valid_from,
                    valid_to=valid_to,
                    version=changed.entry.version,
                    sequence=stream_sequence(session, envelope),
                    detail=detail,
                ),
            )

        return add

    async def _replace(self, session: AsyncSession, person_id: str, entry_id: str, version: int) -> bool:
        """Removes the facts an earlier version of the entry gave; False, removing nothing, if a later
        version gave them."""
        held = self._held(session, self.generation, person_id)
        if held is None:
            await write_new(session)
            mine = (
                StatFact.generation == self.generation,
                StatFact.person_id == person_id,
                StatFact.source_id == entry_id,
            )
            newest = await session.scalar(select(func.max(StatFact.version)).where(*mine))
            if newest is not None and newest > version:
                return False
            removed = await session.execute(delete(StatFact).where(*mine).returning(StatFact.fact, StatFact.valid_from))
            for kind, valid_from in removed:
                self._reaches_fact(session, kind, valid_from)
            return True
        earlier = [f for f in held if f.source_id == entry_id]
        if any(f.version > version for f in earlier):
            return False
        added: dict[int, NewFact] = session.info.get(FACTS_NEW, {})
        for fact in earlier:
            self._reaches_fact(session, fact.fact, fact.valid_from)
            held.remove(fact)
            if isinstance(fact, NewFact):
                del added[id(fact)]
            else:
                await session.delete(fact)
        return True

    async def _code(
        self, session: AsyncSession, envelope: Envelope, catalog: str, code: str, group: str, kind: str
    ) -> None:
        """The group and kind of the latest event naming the code, by stream sequence. A batch names
        the same few codes over and over: those `prepare` read, or this transaction added, are found
        without a query. A code seen for the first time counts as regrouped: facts may already hold it
        (entries recorded before events named their codes' groups), and their profiles gain its group on
        every day they hold it."""
        sequence = stream_sequence(session, envelope)
        key = (self.generation, catalog, code)
        held: dict[tuple[int, str, str], StatCode | None] = session.info.setdefault(CODES_HELD, {})
        if key in held or (self.generation, code) in session.info.get(CODES_PREPARED, set()):
            known = held.get(key)
        else:
            known = await session.get(StatCode, key)
        if known is None:
            known = StatCode(
                generation=self.generation, catalog=catalog, code=code, stat_group=group, kind=kind, sequence=sequence
            )
            session.add(known)
            held[key] = known
            self._regrouped(session, catalog, code)
        elif known.sequence <= sequence:
            if (known.stat_group, known.kind) != (group, kind):
                self._regrouped(session, catalog, code)
            known.stat_group, known.kind, known.sequence = group, kind, sequence

    def _regrouped(self, session: AsyncSession, catalog: str, code: str) -> None:
        session.info.setdefault(CODES_REGROUPED, {}).setdefault(self.generation, set()).add((catalog, code))
