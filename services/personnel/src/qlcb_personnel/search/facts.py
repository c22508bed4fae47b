"""Keeping `search_facts` as the record, the status history and the units say (ADR 0015).

Every write that changes what a search filters on calls one of these in its own unit of work: the
record's writes with the versions they wrote (`follow_entries`), a status change with its row
(`status_changed`), a person's creation and each move between units (`placed`). The facts of an
entry are a pure function of its current version (`entry_facts`), which the benchmark's loader uses
too, so bulk-loaded records are found exactly as recorded ones are."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_personnel.record.models import RecordEntry
from qlcb_personnel.search.models import OPEN_END, SearchFact

RANK, ETHNICITY, ORGANISATION, POST, TRAINING, RECRUITED = (
    "rank",
    "ethnicity",
    "organisation",
    "post",
    "training",
    "recruited",
)
RELIGION, HOME_PROVINCE, REWARD, DISCIPLINE, CONTRACT = "religion", "home_province", "reward", "discipline", "contract"
STEP = "salary_step"
STATUS, UNIT = "status", "unit"
EVALUATION_PREFIX = "evaluation:"
ONCE_A_DAY = frozenset({RANK, STEP, ETHNICITY, STATUS, UNIT})
"""Facts a person holds at most one of on any day: a timeline section's (whose entries never
overlap), the status and the unit (each period closed where the next begins)."""

ENTRY_FACTS: Mapping[str, tuple[tuple[str, str | None], ...]] = {
    "salary": ((RANK, "rank_code"), (STEP, "step")),
    "personal_details": ((ETHNICITY, "ethnicity"), (RELIGION, "religion"), (HOME_PROVINCE, "home_town_province")),
    "memberships": ((ORGANISATION, "organisation"),),
    "appointments": ((POST, "post_code"),),
    "trainings": ((TRAINING, "level"),),
    "evaluations": ((EVALUATION_PREFIX, "level"),),
    "recruitment": ((RECRUITED, None),),
    "rewards": ((REWARD, "form"),),
    "disciplines": ((DISCIPLINE, "form"),),
    "labour_contracts": ((CONTRACT, "contract_type"),),
}
"""The sections a search filters on: the facts each entry gives and the field that is each one's value."""
HELD_FOR_GOOD = frozenset({"trainings", "evaluations", "recruitment", "rewards"})
"""Sections whose entry, once dated, holds from then on: a degree, a year's evaluation, a
recruitment, a reward received."""


@dataclass(frozen=True)
class Fact:
    fact: str
    value: str
    valid_from: date
    valid_to: date


def evaluation_fact(year: int) -> str:
    return f"{EVALUATION_PREFIX}{year}"


def entry_facts(
    section: str, values: Mapping[str, object], valid_from: date | None, valid_to: date | None
) -> list[Fact]:
    """The facts a current entry of `section` gives; none for a section no search reads.

    A period or a timeline entry holds over its dates (a discipline until its effect ends); a dated
    event holds from its day on (a recruitment, the evaluation of a year, a reward); a training
    level is held from the course's end (the degree) for good."""
    found = []
    for fact, field in ENTRY_FACTS.get(section, ()):
        value = "" if field is None else str(values.get(field) or "")
        if field is not None and not value:
            continue  # an optional code left empty (an appointment without a post code)
        start = valid_from or date.min
        end = OPEN_END if section in HELD_FOR_GOOD else valid_to or OPEN_END
        if section == "trainings":
            start = valid_to or start
        elif section == "evaluations":
            fact = evaluation_fact(int(str(values["year"])))
        found.append(Fact(fact, value, start, end))
    return found


async def follow_entries(session: AsyncSession, versions: Sequence[RecordEntry]) -> None:
    """The facts of the entries these versions (written in this order, of one record or of several)
    leave current: each entry's last version replaces what its earlier ones gave, a retraction takes
    it away."""
    latest: dict[str, RecordEntry] = {v.entry_id: v for v in versions if v.section in ENTRY_FACTS}
    if not latest:
        return
    replaced = [v for v in latest.values() if v.version > 1]  # a first version has no facts yet
    if replaced:
        # By the primary key's (person, source) prefix: an entry id alone is in no index, and the
        # delete read every fact of the sector for each write (17 ms over 20,000 people).
        await session.execute(
            delete(SearchFact).where(
                SearchFact.person_id.in_({v.person_id for v in replaced}),
                SearchFact.source_id.in_([v.entry_id for v in replaced]),
            )
        )
    rows = []
    for entry_id, version in latest.items():
        if version.superseded_at is not None or version.retracted:
            continue
        for fact in entry_facts(version.section, version.values, version.valid_from, version.valid_to):
            rows.append(_row(entry_id, version.person_id, fact))
    if rows:
        await session.execute(insert(SearchFact), rows)


async def placed_at_start(session: AsyncSession, placements: Sequence[tuple[str, str]]) -> None:
    """New people (person id, unit id), each in their unit from the start of their record: `placed`
    for many at once (an import)."""
    if placements:
        await session.execute(
            insert(SearchFact),
            [
                _row(str(uuid.uuid4()), person_id, Fact(UNIT, unit_id, date.min, OPEN_END))
                for person_id, unit_id in placements
            ],
        )


async def status_changed(session: AsyncSession, *, row_id: str, person_id: str, status: str, since: date) -> None:
    """A status from `since`: the one before it ends the day before."""
    await _close(session, person_id, STATUS, since)
    await session.execute(insert(SearchFact), [_row(row_id, person_id, Fact(STATUS, status, since, OPEN_END))])


async def placed(session: AsyncSession, *, person_id: str, unit_id: str, since: date | None) -> None:
    """The person in `unit_id` from `since` (None: from the start of their record), the unit before
    it left the day before."""
    start = since or date.min
    if since is not None:
        await _close(session, person_id, UNIT, since)
    await session.execute(
        insert(SearchFact), [_row(str(uuid.uuid4()), person_id, Fact(UNIT, unit_id, start, OPEN_END))]
    )


async def _close(session: AsyncSession, person_id: str, fact: str, since: date) -> None:
    """Ends the day before `since` every period of the kind that runs on to it, so that no two hold
    on one day: a period that began on that day or after it is left empty (what a later decision
    replaced never held)."""
    await session.execute(
        update(SearchFact)
        .where(SearchFact.person_id == person_id, SearchFact.fact == fact, SearchFact.valid_to >= since)
        .values(valid_to=since - timedelta(days=1) if since > date.min else since)
    )


def _row(source_id: str, person_id: str, fact: Fact) -> dict[str, object]:
    return {
        "source_id": source_id,
        "fact": fact.fact,
        "person_id": person_id,
        "value": fact.value,
        "valid_from": fact.valid_from,
        "valid_to": fact.valid_to,
    }
