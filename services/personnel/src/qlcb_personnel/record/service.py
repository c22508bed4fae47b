"""The sections of a person's record as dated, corrected, bitemporal history (R-PER-1, R-PER-2).

One mechanism serves every section declared in `qlcb_common.record_sections`:
- recording a change adds an entry from a date; in a timeline section the open entry before it
  is closed the day before (a new version of it, `closed`), and any other overlap is refused
  naming the clashing entry;
- a correction replaces the current version of an entry (the wrong one stays, superseded), and
  must name the version it corrects: of two edits of one version, one wins, the other is stale;
- a retraction withdraws an entry recorded by mistake, again as a new version, and reopens the
  entry its recording closed;
- a record reads as of any date (valid time) and as known at any past moment (transaction time).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import events_pb2
from qlcb_common import authz
from qlcb_common import personnel_rules as rules
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation
from qlcb_common.days import vietnam_today
from qlcb_common.db import one_of
from qlcb_common.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    StaleVersion,
)
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.record_sections import (
    BY_NAME,
    MAX_DECISION_TEXT,
    MAX_ENTRIES_AT_ONCE,
    MAX_SIGNER,
    RecordSection,
    Timing,
    check_values,
)
from qlcb_common.text import control_violation
from qlcb_personnel.audit import trail
from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.deadlines import service as deadlines
from qlcb_personnel.persons.models import Person
from qlcb_personnel.persons.service import record_ref, visible_person, visible_person_in_status
from qlcb_personnel.record import entry_terms, leadership, messages, section_rules
from qlcb_personnel.record.entry_terms import EntryTerms
from qlcb_personnel.record.models import EntryView, RecordEntry
from qlcb_personnel.search import days, facts

RECORDED, CORRECTED, CLOSED, REOPENED, RETRACTED = "recorded", "corrected", "closed", "reopened", "retracted"


@dataclass(frozen=True)
class DecisionInput:
    number: str = ""
    date: str = ""
    body: str = ""
    signer: str = ""
    signer_post: str = ""


@dataclass(frozen=True)
class EntryInput:
    values: Mapping[str, object]
    valid_from: str = ""
    valid_to: str = ""
    decision: DecisionInput = DecisionInput()


@dataclass(frozen=True)
class CheckedEntry:
    values: dict[str, object]
    valid_from: date | None
    valid_to: date | None
    decision: dict[str, object]

    def meets(self, terms: EntryTerms | None, where: str = "") -> None:
        """Refuses the entry if it falls outside the terms of the caller's entries."""
        if refused := self.refusal(terms):
            raise PermissionDenied(f"{where}{refused.description}")

    def refusal(self, terms: EntryTerms | None) -> FieldViolation | None:
        if terms is None:
            return None
        number, body = self.decision["decision_number"], self.decision["decision_body"]
        return terms.refusal(
            self.values, number if isinstance(number, str) else None, body if isinstance(body, str) else None
        )


def section_of(name: str) -> RecordSection:
    section = BY_NAME.get(name)
    if section is None:
        raise NotFound(f"Không có mục hồ sơ {name!r}")
    return section


async def person_for(
    session: AsyncSession,
    actor: Principal,
    delegations: Sequence[Delegation],
    person_id: str,
    section: RecordSection,
) -> Person:
    """The person whose section the caller reads."""
    person, path = await visible_person(session, actor=actor, delegations=delegations, person_id=person_id)
    authz.require(actor, section.authz, Action.READ, path, person=record_ref(person), delegations=delegations)
    return person


async def _person_to_write(
    session: AsyncSession,
    actor: Principal,
    delegations: Sequence[Delegation],
    person_id: str,
    section: RecordSection,
) -> tuple[Person, EntryTerms | None]:
    """The person whose section the caller changes, locked, and the terms of its entries there."""
    person, path = await visible_person(session, actor=actor, delegations=delegations, person_id=person_id)
    _require_write(actor, delegations, section, path, person)
    await _lock(session, person)
    await leadership.require_not_leading(session, actor, delegations, section, path, person)
    return person, await entry_terms.of(session, actor, delegations, section, path, person)


def _require_write(
    actor: Principal, delegations: Sequence[Delegation], section: RecordSection, path: str, person: Person
) -> None:
    authz.require_record_write(
        actor,
        section.authz,
        Action.UPDATE,
        path,
        beyond_placements=section.moves_beyond_placements,
        person=record_ref(person),
        delegations=delegations,
    )


async def _lock(session: AsyncSession, person: Person) -> None:
    """One writer per record at a time: the overlap check of a second one must see the first's
    entries (a row lock alone would not show it rows inserted meanwhile)."""
    await session.execute(select(Person.id).where(Person.id == person.id).with_for_update())


def _date(value: str, field: str, violations: list[FieldViolation]) -> date | None:
    if not value:
        return None
    if refused := control_violation(field, value):
        violations.append(refused)
        return None
    return rules.iso_date(value, violations, field, "Ngày phải theo dạng YYYY-MM-DD")


async def check_entry(session: AsyncSession, section: RecordSection, person: Person, data: EntryInput) -> CheckedEntry:
    """Every field of the entry checked, all reasons at once; nothing is written on any."""
    violations: list[FieldViolation] = []
    values = check_values(section, data.values, violations)
    valid_from = _date(data.valid_from, "valid_from", violations)
    valid_to = _date(data.valid_to, "valid_to", violations)
    if section.dated and valid_from is None and not any(v.field == "valid_from" for v in violations):
        violations.append(FieldViolation("valid_from", "Ngày bắt đầu (ngày có hiệu lực) là bắt buộc"))
    if not section.dated and (data.valid_from or data.valid_to):
        violations.append(FieldViolation("valid_from", "Mục này không ghi theo thời gian"))
    if valid_from is not None and valid_from < person.date_of_birth:
        violations.append(FieldViolation("valid_from", "Trước ngày sinh của người này"))
    if valid_to is not None and valid_from is not None and valid_to < valid_from:
        violations.append(FieldViolation("valid_to", "Ngày kết thúc trước ngày bắt đầu"))
    if valid_to is not None and section.timing is Timing.EVENTS:
        violations.append(FieldViolation("valid_to", "Mục này ghi sự kiện theo ngày, không có ngày kết thúc"))
    decision = data.decision
    number = None
    if decision.number:
        number = rules.decision_number(decision.number, violations, "decision.number")
    elif section.decision_required:
        violations.append(FieldViolation("decision.number", "Số quyết định là bắt buộc với mục này"))
    decided_on = _date(decision.date, "decision.date", violations)
    if decided_on is not None and decided_on < person.date_of_birth:
        violations.append(FieldViolation("decision.date", "Trước ngày sinh của người này"))
    checked_decision: dict[str, object] = {
        "decision_number": number,
        "decision_date": decided_on,
        "decision_body": rules.short_text(decision.body, "decision.body", MAX_DECISION_TEXT, violations),
        "decision_signer": rules.short_text(decision.signer, "decision.signer", MAX_SIGNER, violations),
        "decision_signer_post": rules.short_text(
            decision.signer_post, "decision.signer_post", MAX_DECISION_TEXT, violations
        ),
    }
    if not violations:
        await section_rules.check(session, section, values, valid_from or vietnam_today(), violations)
    if violations:
        raise InvalidArgument(violations)
    return CheckedEntry(values, valid_from, valid_to, checked_decision)


def _current(person_id: str, section: RecordSection) -> tuple[ColumnElement[bool], ...]:
    return (
        RecordEntry.person_id == person_id,
        RecordEntry.section == section.name,
        RecordEntry.superseded_at.is_(None),
        RecordEntry.retracted.is_(False),
    )


def _period(entry: RecordEntry) -> str:
    start = entry.valid_from.isoformat() if entry.valid_from else "…"
    return f"{start}–{entry.valid_to.isoformat() if entry.valid_to else '…'}"


def _has_overlap_rule(section: RecordSection) -> bool:
    """Whether an entry of the section is checked against the section's other current entries."""
    return section.timing is Timing.TIMELINE or (section.timing is Timing.EVENTS and bool(section.unique))


async def _current_entries(
    session: AsyncSession, person: Person, sections: Sequence[RecordSection]
) -> dict[str, list[RecordEntry]]:
    """The current entries of `sections` that have an overlap rule, in one query, locked."""
    checked = [s.name for s in sections if _has_overlap_rule(s)]
    current: dict[str, list[RecordEntry]] = {name: [] for name in checked}
    if checked:
        query = select(RecordEntry).where(
            RecordEntry.person_id == person.id,
            RecordEntry.section.in_(checked),
            RecordEntry.superseded_at.is_(None),
            RecordEntry.retracted.is_(False),
        )
        for entry in await session.scalars(query.with_for_update()):
            current[entry.section].append(entry)
    return current


async def _clashes(
    session: AsyncSession,
    section: RecordSection,
    person: Person,
    checked: CheckedEntry,
    entry_id: str | None,
    current: Sequence[RecordEntry] | None = None,
) -> RecordEntry | None:
    """In a timeline section: the open entry the new one succeeds (to close), after refusing any
    other overlap. In an events section: refuses a second entry for the same unique key. The
    section's `current` entries are read unless given."""
    unique_events = section.timing is Timing.EVENTS and bool(section.unique)
    if not _has_overlap_rule(section) or (not unique_events and checked.valid_from is None):
        return None
    if current is None:
        current = list(
            await session.scalars(select(RecordEntry).where(*_current(person.id, section)).with_for_update())
        )
    others = [e for e in current if e.entry_id != entry_id]
    if unique_events:
        for other in others:
            if all(other.values.get(k) == checked.values.get(k) for k in section.unique):
                key = ", ".join(f"{k} = {checked.values.get(k)}" for k in section.unique)
                raise FailedPrecondition(f"values.{section.unique[0]}: đã có mục {other.entry_id} với {key}")
        return None
    assert checked.valid_from is not None
    start, end = checked.valid_from, checked.valid_to or date.max
    successor_of: RecordEntry | None = None
    for other in others:
        assert other.valid_from is not None
        other_end = other.valid_to or date.max
        succeeded = other.valid_to is None and other.valid_from < start and entry_id is None
        if succeeded and not any(o.valid_from is not None and o.valid_from >= start for o in others):
            successor_of = other
            continue
        if other.valid_from <= end and start <= other_end:
            raise FailedPrecondition(f"valid_from: trùng thời gian với mục {other.entry_id} ({_period(other)})")
    return successor_of


def _version(
    previous: RecordEntry | None,
    *,
    entry_id: str,
    person: Person,
    section: RecordSection,
    actor: Principal,
    change: str,
    now: datetime,
    checked: CheckedEntry | None = None,
    valid_to: date | None = None,
) -> RecordEntry:
    """A new version: from `checked` (a new entry or a correction), or `previous` closed or
    reopened to end at `valid_to`, or retracted. A new version keeps the decision document and
    the closed entry its entry was recorded with."""
    source: dict[str, object]
    if checked is not None:
        source = {"values": checked.values, "valid_from": checked.valid_from, "valid_to": checked.valid_to}
        source |= checked.decision
    else:
        assert previous is not None
        source = {
            "values": previous.values,
            "valid_from": previous.valid_from,
            "valid_to": valid_to if change in (CLOSED, REOPENED) else previous.valid_to,
            "decision_number": previous.decision_number,
            "decision_date": previous.decision_date,
            "decision_body": previous.decision_body,
            "decision_signer": previous.decision_signer,
            "decision_signer_post": previous.decision_signer_post,
        }
    if previous is not None:
        previous.superseded_at = now
        source |= {"decision_id": previous.decision_id, "closed_entry_id": previous.closed_entry_id}
    return RecordEntry(
        id=str(uuid.uuid4()),
        entry_id=entry_id,
        version=previous.version + 1 if previous is not None else 1,
        person_id=person.id,
        section=section.name,
        change=change,
        recorded_at=now,
        recorded_by=actor.subject,
        retracted=change == RETRACTED,
        **source,
    )


async def _publish(
    outbox: Outbox, session: AsyncSession, actor: Principal, person: Person, *versions: RecordEntry
) -> None:
    await publish(outbox, session, actor, [(person, versions)])


async def publish(
    outbox: Outbox,
    session: AsyncSession,
    actor: Principal,
    written: Sequence[tuple[Person, Sequence[RecordEntry]]],
) -> None:
    """What follows every write of records (of one person, or of many in an import): the search
    facts and the deadlines' measure follow the versions written, and a `record.changed` event for
    each version, in order, is staged with them."""
    entries = [v for _, versions in written for v in versions]
    await facts.follow_entries(session, entries)
    await days.refresh(session, {v.person_id for v in entries if v.section in days.SECTIONS})
    for person, versions in written:
        await deadlines.follow(session, person, versions)
    await outbox.add_many(
        session,
        [
            (
                subjects.PERSONNEL_RECORD_CHANGED,
                events_pb2.RecordEntryChanged(
                    person_id=person.id,
                    personal_id=person.personal_id,
                    entry=messages.to_proto(entry),
                    coded=await coded_values(session, entry),
                ),
            )
            for person, versions in written
            for entry in versions
        ],
        actor=actor.subject,
    )


async def coded_values(session: AsyncSession, entry: RecordEntry) -> list[events_pb2.CodedValue]:
    """The catalog codes of the entry's values with the group and kind of the version valid on the
    entry's date (of the code's latest version for an undated entry), so that a consumer counting
    by group needs no copy of the catalogs."""
    day = entry.valid_from or vietnam_today()
    coded = []
    for spec in BY_NAME[entry.section].fields:
        code = entry.values.get(spec.name)
        if spec.catalog is None or not code:
            continue
        value = await catalogs.value_on(session, spec.catalog, str(code), day) or await catalogs.latest(
            session, spec.catalog, str(code)
        )
        if value is None:
            continue
        coded.append(
            events_pb2.CodedValue(
                field=spec.name,
                catalog=spec.catalog,
                code=str(code),
                stat_group=value.stat_group or "",
                kind=str((value.attributes or {}).get("kind") or ""),
                head=(value.attributes or {}).get("head") is True,
            )
        )
    return coded


async def add_entry(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    person_id: str,
    section_name: str,
    data: EntryInput,
) -> RecordEntry:
    section = section_of(section_name)
    person, terms = await _person_to_write(session, actor, delegations, person_id, section)
    written = await _record(session, actor, person, section, data, terms=terms)
    await _publish(outbox, session, actor, person, *written)
    return written[-1]


async def add_entries(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    person_id: str,
    items: Sequence[tuple[str, EntryInput]],
) -> list[RecordEntry]:
    """Several changes to one record, in the order given, all or nothing (a record taken in from
    paper): the caller must be allowed to change every section named, and each entry is checked
    as `add_entry` checks it, against the record as the entries before it left it. The first
    one refused raises, its fields or message named `entries[i]`, and the caller's unit of work
    rolls the others back. Returns the new entries; their events follow all of them."""
    if not items:
        raise InvalidArgument.single("entries", "Cần ít nhất một mục")
    if len(items) > MAX_ENTRIES_AT_ONCE:
        raise InvalidArgument.single("entries", f"Nhiều nhất {MAX_ENTRIES_AT_ONCE} mục một lần")
    unknown = [
        FieldViolation(f"entries[{index}].section", f"Không có mục hồ sơ {name!r}")
        for index, (name, _) in enumerate(items)
        if name not in BY_NAME
    ]
    if unknown:
        raise InvalidArgument(unknown)
    sections = [BY_NAME[name] for name, _ in items]
    person, path = await visible_person(session, actor=actor, delegations=delegations, person_id=person_id)
    for section in dict.fromkeys(sections):
        _require_write(actor, delegations, section, path, person)
    await _lock(session, person)
    terms: dict[str, EntryTerms | None] = {}
    for section in dict.fromkeys(sections):
        await leadership.require_not_leading(session, actor, delegations, section, path, person)
        terms[section.name] = await entry_terms.of(session, actor, delegations, section, path, person)
    # The record as each entry is checked against it: read once, then kept as the batch changes it.
    current = await _current_entries(session, person, sections)
    written: list[RecordEntry] = []
    recorded: list[RecordEntry] = []
    for index, (section, (_, data)) in enumerate(zip(sections, items, strict=True)):
        try:
            versions = await _record(
                session, actor, person, section, data, current.get(section.name), terms=terms[section.name]
            )
        except InvalidArgument as refused:
            raise InvalidArgument(
                [FieldViolation(f"entries[{index}].{v.field}", v.description) for v in refused.violations]
            ) from None
        except FailedPrecondition as refused:
            raise FailedPrecondition(f"entries[{index}].{refused}") from None
        except PermissionDenied as refused:
            raise PermissionDenied(f"entries[{index}]: {refused}") from None
        if section.name in current:
            current[section.name] = [e for e in current[section.name] if e.superseded_at is None] + versions
        written += versions
        recorded.append(versions[-1])
    await _publish(outbox, session, actor, person, *written)
    return recorded


async def _record(
    session: AsyncSession,
    actor: Principal,
    person: Person,
    section: RecordSection,
    data: EntryInput,
    current: Sequence[RecordEntry] | None = None,
    *,
    terms: EntryTerms | None,
) -> list[RecordEntry]:
    """A new entry in the record of `person`, whose lock the caller holds, checked against the
    section's `current` entries (read unless given) and the `terms` of the caller's entries there:
    the versions written, the closed predecessor (if the entry succeeds one) before the new entry."""
    checked = await check_entry(session, section, person, data)
    checked.meets(terms)
    return await write_versions(session, actor, person, section, checked, current, terms=terms)


async def record_change(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    person: Person,
    section: RecordSection,
    checked: CheckedEntry,
    decision_id: str | None = None,
    terms: EntryTerms | None = None,
) -> RecordEntry:
    """A checked change of a person the caller may change (and holds locked, `person_for`) within
    the `terms` of its entries: the new entry, after closing the open one it succeeds in a timeline
    or refusing an overlap."""
    written = await write_versions(session, actor, person, section, checked, decision_id=decision_id, terms=terms)
    await _publish(outbox, session, actor, person, *written)
    return written[-1]


async def write_versions(
    session: AsyncSession,
    actor: Principal,
    person: Person,
    section: RecordSection,
    checked: CheckedEntry,
    current: Sequence[RecordEntry] | None = None,
    *,
    decision_id: str | None = None,
    terms: EntryTerms | None = None,
) -> list[RecordEntry]:
    """The versions a checked change writes: the closed predecessor (if the entry succeeds one and
    the caller's `terms` let it close it), then the new entry, made by `decision_id` if a decision
    made it."""
    predecessor = await _clashes(session, section, person, checked, None, current)
    if predecessor is not None and terms is not None:
        terms.require_touchable(predecessor)
    now = datetime.now(UTC)
    written = []
    if predecessor is not None:
        assert checked.valid_from is not None
        written.append(
            _version(
                predecessor,
                entry_id=predecessor.entry_id,
                person=person,
                section=section,
                actor=actor,
                change=CLOSED,
                now=now,
                valid_to=checked.valid_from - timedelta(days=1),
            )
        )
    entry = _version(
        None,
        entry_id=str(uuid.uuid4()),
        person=person,
        section=section,
        actor=actor,
        change=RECORDED,
        now=now,
        checked=checked,
    )
    entry.decision_id = decision_id
    entry.closed_entry_id = predecessor.entry_id if predecessor is not None else None
    written.append(entry)
    session.add_all(written)
    return written


async def _current_version(
    session: AsyncSession, person: Person, section: RecordSection, entry_id: str, expected_version: int
) -> RecordEntry:
    entry = await session.scalar(
        select(RecordEntry).where(*_current(person.id, section), RecordEntry.entry_id == entry_id).with_for_update()
    )
    if entry is None:
        known = await session.scalar(
            select(RecordEntry.version)
            .where(RecordEntry.person_id == person.id, RecordEntry.section == section.name)
            .where(RecordEntry.entry_id == entry_id)
            .limit(1)
        )
        if known is None:
            raise NotFound(f"Không có mục {entry_id!r} trong phần {section.name} của hồ sơ này")
        # Superseded while this call waited for its lock, or retracted since it was read.
        raise StaleVersion(f"Mục {entry_id} đã được sửa hoặc rút sau khi đọc: hãy đọc lại")
    if expected_version != entry.version:
        raise StaleVersion(
            f"Mục {entry_id} đã được sửa (phiên bản hiện tại {entry.version}, yêu cầu sửa phiên bản "
            f"{expected_version}): hãy đọc lại rồi sửa"
        )
    return entry


async def correct_entry(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    person_id: str,
    section_name: str,
    entry_id: str,
    expected_version: int,
    data: EntryInput,
) -> RecordEntry:
    """Replaces the entry's current version by a corrected one; the wrong one stays, superseded."""
    section = section_of(section_name)
    person, terms = await _person_to_write(session, actor, delegations, person_id, section)
    checked = await check_entry(session, section, person, data)
    current = await _current_version(session, person, section, entry_id, expected_version)
    if terms is not None:
        terms.require(current.values, current.decision_number, current.decision_body, f"Mục {entry_id}: ")
        checked.meets(terms)
    await _clashes(session, section, person, checked, entry_id)
    now = datetime.now(UTC)
    corrected = _version(
        current,
        entry_id=entry_id,
        person=person,
        section=section,
        actor=actor,
        change=CORRECTED,
        now=now,
        checked=checked,
    )
    await session.flush()
    session.add(corrected)
    await session.flush()
    await _publish(outbox, session, actor, person, corrected)
    return corrected


async def retract_entry(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    person_id: str,
    section_name: str,
    entry_id: str,
    expected_version: int,
) -> RecordEntry:
    """Withdraws an entry recorded by mistake; it stays in the history as what was known until now.
    An entry a decision made goes with its decision's cancellation, not alone."""
    section = section_of(section_name)
    person, terms = await _person_to_write(session, actor, delegations, person_id, section)
    current = await _current_version(session, person, section, entry_id, expected_version)
    if terms is not None:
        terms.require(current.values, current.decision_number, current.decision_body, f"Mục {entry_id}: ")
    if current.decision_id is not None:
        raise FailedPrecondition(
            f"Mục {entry_id} do quyết định {current.decision_number} ghi nhận: hủy quyết định đó để rút mục này"
        )
    return await retract(
        session, outbox=outbox, actor=actor, person=person, section=section, current=current, terms=terms
    )


async def retract(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    person: Person,
    section: RecordSection,
    current: RecordEntry,
    terms: EntryTerms | None = None,
) -> RecordEntry:
    """Retracts the entry's current version (locked by the caller) and reopens the timeline entry
    its recording closed, up to the next entry still there, if the caller's `terms` let it."""
    now = datetime.now(UTC)
    retracted = _version(
        current, entry_id=current.entry_id, person=person, section=section, actor=actor, change=RETRACTED, now=now
    )
    await session.flush()
    session.add(retracted)
    await session.flush()
    await _publish(outbox, session, actor, person, retracted)
    if current.closed_entry_id is not None:
        await _reopen(session, outbox, actor, person, section, current, now, terms)
    return retracted


async def _reopen(
    session: AsyncSession,
    outbox: Outbox,
    actor: Principal,
    person: Person,
    section: RecordSection,
    retracted: RecordEntry,
    now: datetime,
    terms: EntryTerms | None,
) -> None:
    closed = await session.scalar(
        select(RecordEntry)
        .where(*_current(person.id, section), RecordEntry.entry_id == retracted.closed_entry_id)
        .with_for_update()
    )
    if closed is None or retracted.valid_from is None or closed.valid_to != retracted.valid_from - timedelta(days=1):
        # Retracted or corrected to other dates since: what it says now stands.
        return
    if terms is not None:
        terms.require_touchable(closed)
    later = await session.scalar(
        select(RecordEntry.valid_from)
        .where(*_current(person.id, section), RecordEntry.valid_from > retracted.valid_from)
        .order_by(RecordEntry.valid_from)
        .limit(1)
    )
    reopened = _version(
        closed,
        entry_id=closed.entry_id,
        person=person,
        section=section,
        actor=actor,
        change=REOPENED,
        now=now,
        valid_to=later - timedelta(days=1) if later is not None else None,
    )
    await session.flush()
    session.add(reopened)
    await session.flush()
    await _publish(outbox, session, actor, person, reopened)


_ENTRY = RecordEntry.__table__.c
"""The entries' columns, not the ORM's attributes: what a reader is given is the table's rows
(`EntryView`), whose statement does not go through the ORM's compiling and loading."""


def _known(known_at: datetime | None) -> tuple[ColumnElement[bool], ...]:
    if known_at is None:
        return (_ENTRY.superseded_at.is_(None),)
    return (
        _ENTRY.recorded_at <= known_at,
        or_(_ENTRY.superseded_at.is_(None), _ENTRY.superseded_at > known_at),
    )


async def _entries(
    session: AsyncSession,
    person: Person,
    sections: Sequence[RecordSection],
    as_of: date | None,
    known_at: datetime | None,
) -> list[EntryView]:
    query = select(RecordEntry.__table__).where(
        _ENTRY.person_id == person.id,
        one_of(session.get_bind().dialect.name, _ENTRY.section, [s.name for s in sections]),
        _ENTRY.retracted.is_(False),
        *_known(known_at),
    )
    if as_of is not None:
        query = query.where(or_(_ENTRY.valid_from.is_(None), _ENTRY.valid_from <= as_of))
    rows = await session.execute(query.order_by(_ENTRY.section, _ENTRY.valid_from, _ENTRY.recorded_at))
    return list(rows)


async def list_entries(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    person_id: str,
    section_name: str,
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> list[EntryView]:
    """The section's entries that had begun by `as_of`, as known at `known_at` (default: now)."""
    section = section_of(section_name)
    person = await person_for(session, actor, delegations, person_id, section)
    entries = await _entries(session, person, [section], as_of, known_at)
    await trail.note_read(
        session,
        action=trail.READ,
        what="record_section",
        person=person,
        details=_read_details([section], as_of, known_at, entries),
    )
    return entries


async def entry_versions(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    person_id: str,
    section_name: str,
    entry_id: str,
) -> list[RecordEntry]:
    """Every version of one entry, oldest first: what was recorded, corrected, closed, retracted."""
    section = section_of(section_name)
    person = await person_for(session, actor, delegations, person_id, section)
    versions = list(
        await session.scalars(
            select(RecordEntry)
            .where(
                RecordEntry.person_id == person.id,
                RecordEntry.section == section.name,
                RecordEntry.entry_id == entry_id,
            )
            .order_by(RecordEntry.version)
        )
    )
    if not versions:
        raise NotFound(f"Không có mục {entry_id!r} trong phần {section.name} của hồ sơ này")
    await trail.note_read(
        session,
        action=trail.READ,
        what="record_entry_versions",
        person=person,
        details={"section": section.name, "entry_id": entry_id, "versions": len(versions)},
    )
    return versions


async def whole_record(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    person_id: str,
    as_of: date | None = None,
    known_at: datetime | None = None,
    noted_as: str = trail.READ,
    batch_id: str | None = None,
) -> tuple[Person, str, list[RecordSection], list[EntryView]]:
    """The person, their status now, the sections the caller may read, and their entries, in one
    query; the read is noted in the audit trail as `noted_as` (a read, or a resume drawn from it, one
    of a batch when `batch_id` names it)."""
    person, path, status_now = await visible_person_in_status(
        session, actor=actor, delegations=delegations, person_id=person_id
    )
    readable = [
        s
        for s in BY_NAME.values()
        if authz.permits(actor, s.authz, Action.READ, path, person=record_ref(person), delegations=delegations)
    ]
    entries = await _entries(session, person, readable, as_of, known_at)
    await trail.note_read(
        session,
        action=noted_as,
        what="record",
        person=person,
        unit_path=path,
        details=_read_details(readable, as_of, known_at, entries) | ({"batch_id": batch_id} if batch_id else {}),
    )
    return person, status_now, readable, entries


def _read_details(
    sections: Sequence[RecordSection], as_of: date | None, known_at: datetime | None, entries: Sequence[EntryView]
) -> dict[str, Any]:
    return {
        "sections": [s.name for s in sections],
        "as_of": as_of,
        "known_at": known_at,
        "entries": len(entries),
    }
