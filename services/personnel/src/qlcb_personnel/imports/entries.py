"""The entries of one record section from an import file, each row checked and written as
`POST /v1/persons/{id}/{section}` checks and writes one (`record.service.check_entry`,
`write_versions`): its fields and catalog codes on the entry's date, its dates, no overlap in a
timeline, one entry per key of a unique event; the person found by personal id and/or staff number,
visible to the caller and inside its scope for writing the section.

Set-based: the people the file names are looked up once; then, a slice of people at a time, their
records are locked and their current entries of the section read in one query each, and a person's
rows are checked in the order of their dates against what the rows before them left (so a career's
rank changes close one another as they would one by one). Catalog codes are read once per unit of
work (`catalogs.value_on`).

A row whose entry is already current on the record (same start, values and decision number, and the
same end if the row gives one) creates nothing; the same row twice in the file is a fault."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, RecordRef, Section
from qlcb_common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from qlcb_common.events.outbox import Outbox
from qlcb_common.record_sections import RecordSection
from qlcb_common.sequences import batched
from qlcb_personnel.imports.rows import Faults, Row, day, entry_input
from qlcb_personnel.persons.models import Person
from qlcb_personnel.record import entry_terms, leadership
from qlcb_personnel.record import service as record
from qlcb_personnel.record.models import RecordEntry
from qlcb_personnel.units.models import Unit

LOOKUP_BATCH = 5000
PEOPLE_AT_ONCE = 500
"""People whose records are checked and written together: locked, read and flushed in one go, then
let go of, so that what the session holds stays bounded however long the file."""


@dataclass(frozen=True)
class Counts:
    created: int
    present: int


@dataclass(frozen=True)
class _Found:
    id: str
    personal_id: str
    staff_number: str
    path: str


async def import_entries(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation],
    section: RecordSection,
    rows: Sequence[Row],
    faults: Faults,
    write: bool,
) -> Counts:
    """Checks every row; writes the entries when `write` and no row is at fault. Whatever it has
    written when a fault turns up later is the caller's to roll back."""
    people = await _people(session, rows)
    mine: dict[str, list[Row]] = {}
    paths: dict[str, str] = {}
    for row in rows:
        whose = _whose(row, people, faults, functools.partial(_visible, actor, delegations))
        if whose is not None and _may_write(actor, delegations, section, whose, row, faults):
            mine.setdefault(whose.id, []).append(row)
            paths[whose.id] = whose.path
    created = present = 0
    seen: dict[tuple[str, str], int] = {}
    for ids in batched(sorted(mine), PEOPLE_AT_ONCE):
        persons, current = await _locked(session, section, ids)
        written: list[tuple[Person, list[RecordEntry]]] = []
        for person_id in ids:
            person = persons[person_id]
            if reason := await leadership.refusal(session, actor, delegations, section, paths[person_id], person):
                for row in mine[person_id]:
                    faults.add(row, "", reason)
                continue
            terms = await entry_terms.of(session, actor, delegations, section, paths[person_id], person)
            entries = current.get(person_id, [])
            versions: list[RecordEntry] = []
            for row in sorted(mine[person_id], key=_in_time):
                try:
                    checked = await record.check_entry(session, section, person, entry_input(section, row))
                except InvalidArgument as refused:
                    faults.add_violations(row, refused.violations)
                    continue
                if beyond := checked.refusal(terms):
                    faults.add_violations(row, [beyond])
                    continue
                key = (person_id, _key(checked))
                if (first := seen.setdefault(key, row.number)) != row.number:
                    faults.add(row, "", f"Trùng với dòng {first}")
                    continue
                if any(_same(entry, checked) for entry in entries):
                    present += 1
                    continue
                try:
                    new = await record.write_versions(session, actor, person, section, checked, entries, terms=terms)
                except (FailedPrecondition, PermissionDenied) as refused:
                    faults.add_message(row, str(refused))
                    continue
                entries = [e for e in entries if e.superseded_at is None] + new
                versions += new
                created += 1
            if versions:
                written.append((person, versions))
        if write and not faults:
            await record.publish(outbox, session, actor, written)
            await session.flush()
        session.expunge_all()
    return Counts(created=created, present=present)


def _in_time(row: Row) -> tuple[str, int]:
    """A person's rows in the order of their dates (an undated or unreadable one first), then of the file."""
    return day(row.get("valid_from")), row.number


async def _people(session: AsyncSession, rows: Sequence[Row]) -> dict[str, _Found]:
    """The records the file names, by "id:<personal id>" and "no:<staff number>"."""
    ids = sorted({r.get("personal_id") for r in rows} - {""})
    numbers = sorted({r.get("staff_number") for r in rows} - {""})
    found: dict[str, _Found] = {}
    query = select(Person.id, Person.personal_id, Person.staff_number, Unit.path).join(Unit, Unit.id == Person.unit_id)
    for batch in batched(ids, LOOKUP_BATCH):
        for hit in await session.execute(query.where(Person.personal_id.in_(batch))):
            found[f"id:{hit.personal_id}"] = _Found(hit.id, hit.personal_id, hit.staff_number, hit.path)
    for batch in batched(numbers, LOOKUP_BATCH):
        for hit in await session.execute(query.where(Person.staff_number.in_(batch))):
            found[f"no:{hit.staff_number}"] = _Found(hit.id, hit.personal_id, hit.staff_number, hit.path)
    return found


def _visible(actor: Principal, delegations: Sequence[Delegation], person: _Found) -> bool:
    ref = RecordRef(id=person.id, personal_id=person.personal_id)
    return authz.permits(actor, Section.IDENTITY, Action.READ, person.path, person=ref, delegations=delegations) or any(
        d.serves_caller(actor) and d.covers(person.path, person.id) for d in delegations
    )


def _whose(row: Row, people: dict[str, _Found], faults: Faults, visible: Callable[[_Found], bool]) -> _Found | None:
    """The record a row is about, by its personal id and/or staff number (both must name the same).
    A record the caller may not read is looked for as one that does not exist, by either number: a
    row must not tell whose staff number goes with whose personal id outside the caller's scope."""
    personal_id, number = row.get("personal_id"), row.get("staff_number")
    if not personal_id and not number:
        faults.add(row, "personal_id", "Cần số định danh cá nhân hoặc số hiệu cán bộ")
        return None
    by_id = people.get(f"id:{personal_id}") if personal_id else None
    by_number = people.get(f"no:{number}") if number else None
    by_id = by_id if by_id is not None and visible(by_id) else None
    by_number = by_number if by_number is not None and visible(by_number) else None
    if personal_id and by_id is None:
        faults.add(row, "personal_id", f"Không có hồ sơ với số định danh {personal_id}")
        return None
    if number and by_number is None:
        faults.add(row, "staff_number", f"Không có hồ sơ với số hiệu {number}")
        return None
    if by_id is not None and by_number is not None and by_id.id != by_number.id:
        faults.add(row, "staff_number", "Số hiệu cán bộ không phải của người có số định danh ghi cùng dòng")
        return None
    return by_id or by_number


def _may_write(
    actor: Principal,
    delegations: Sequence[Delegation],
    section: RecordSection,
    person: _Found,
    row: Row,
    faults: Faults,
) -> bool:
    """A record the caller may not read answers as one that does not exist (R-PER-7); one it reads
    but may not write this section of is refused naming the section."""
    ref = RecordRef(id=person.id, personal_id=person.personal_id)
    column = "personal_id" if row.get("personal_id") else "staff_number"
    try:
        authz.require_visible(
            actor, Section.IDENTITY, person.path, person=ref, delegations=delegations, what="hồ sơ này"
        )
        authz.require_record_write(
            actor,
            section.authz,
            Action.UPDATE,
            person.path,
            beyond_placements=section.moves_beyond_placements,
            person=ref,
            delegations=delegations,
        )
    except NotFound:
        key = row.get(column)
        faults.add(row, column, f"Không có hồ sơ với {'số định danh' if column == 'personal_id' else 'số hiệu'} {key}")
        return False
    except PermissionDenied:
        faults.add(row, column, f"Không có quyền ghi phần «{section.label}» của hồ sơ này")
        return False
    return True


async def _locked(
    session: AsyncSession, section: RecordSection, ids: Sequence[str]
) -> tuple[dict[str, Person], dict[str, list[RecordEntry]]]:
    """The records, locked in the order of their ids (as one writer at a time per record wants),
    and their current entries of the section."""
    persons = {
        p.id: p
        for p in await session.scalars(select(Person).where(Person.id.in_(ids)).order_by(Person.id).with_for_update())
    }
    current: dict[str, list[RecordEntry]] = {}
    query = select(RecordEntry).where(
        RecordEntry.person_id.in_(ids),
        RecordEntry.section == section.name,
        RecordEntry.superseded_at.is_(None),
        RecordEntry.retracted.is_(False),
    )
    for entry in await session.scalars(query.with_for_update()):
        current.setdefault(entry.person_id, []).append(entry)
    return persons, current


def _key(checked: record.CheckedEntry) -> str:
    return json.dumps(
        [
            _iso(checked.valid_from),
            _iso(checked.valid_to),
            checked.values,
            checked.decision["decision_number"],
        ],
        sort_keys=True,
        ensure_ascii=False,
    )


def _iso(day_: date | None) -> str | None:
    return day_.isoformat() if day_ is not None else None


def _same(entry: RecordEntry, checked: record.CheckedEntry) -> bool:
    """Whether the entry is what the row says: its start, values and decision, and its end when the
    row gives one (a period the next one closed has an end the row need not repeat)."""
    return (
        entry.valid_from == checked.valid_from
        and (checked.valid_to is None or entry.valid_to == checked.valid_to)
        and entry.values == checked.values
        and (entry.decision_number or None) == checked.decision["decision_number"]
    )
