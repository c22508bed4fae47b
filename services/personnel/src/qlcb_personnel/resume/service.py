"""A person's resume (2C-BNV/2008) as the record stood on a day: the whole-record read, noted in the
audit trail as a resume (R-PER-7), its codes named as their catalogs named them on each entry's
date, and the units the person was in on that day, named as they were then."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.errors import FieldViolation, InvalidArgument
from qlcb_common.record_sections import BY_NAME, Kind
from qlcb_personnel.audit import trail
from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.persons.models import Person
from qlcb_personnel.persons.service import MAX_PAGE_SIZE
from qlcb_personnel.record import service as record
from qlcb_personnel.record.models import EntryView
from qlcb_personnel.resume import form
from qlcb_personnel.search import facts
from qlcb_personnel.search import service as search
from qlcb_personnel.search.models import SearchFact
from qlcb_personnel.units import service as units
from qlcb_personnel.units.models import Unit, UnitChange


@dataclass(frozen=True)
class Resume:
    person: Person
    managing_body: str
    employing_unit: str
    as_of: date
    items: list[form.Item]


async def resume_of(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    person_id: str,
    as_of: date,
    batch_id: str | None = None,
) -> Resume:
    person, _status, sections, entries = await record.whole_record(
        session,
        actor=actor,
        delegations=delegations,
        person_id=person_id,
        as_of=as_of,
        noted_as=trail.RESUME,
        batch_id=batch_id,
    )
    await catalogs.read_versions(session, (pair for entry in entries for _, pair in _coded(entry)))
    labelled = [await _labelled(session, entry, as_of) for entry in entries]
    subject = form.Subject(person.full_name, person.date_of_birth, person.sex, person.personal_id)
    employing, managing = await _units(session, await _unit_on(session, person, as_of), as_of)
    return Resume(
        person=person,
        managing_body=managing,
        employing_unit=employing,
        as_of=as_of,
        items=form.draw(subject, labelled, [s.name for s in sections], as_of),
    )


FORMATS = ("pdf", "docx")
MAX_BATCH = MAX_PAGE_SIZE
"""The most resumes one batch gives: one page of the search that finds them."""


@dataclass(frozen=True)
class Batch:
    """A unit's batch, allowed and noted: its id, which each resume's own entry carries, and its
    people in staff-list order."""

    id: str
    person_ids: list[str]


async def unit_batch(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    unit_id: str,
    include_subtree: bool,
    as_of: date,
    format: str,
    max_people: int,
) -> Batch:
    """The people working in the unit on the day whose records the caller reads, as a search of the
    unit finds them, noted in the audit trail as one batch of resumes: the unit, the subtree, the
    day, the format and the people, before any resume is drawn. Refused whole rather than cut short
    when more than `max_people` are found."""
    violations: list[FieldViolation] = []
    if format not in FORMATS:
        violations.append(FieldViolation("format", f"Định dạng phải là một trong: {', '.join(FORMATS)}"))
    if not 1 <= max_people <= MAX_BATCH:
        violations.append(FieldViolation("max_people", f"Số người mỗi lần in phải từ 1 đến {MAX_BATCH}"))
    if violations:
        raise InvalidArgument(violations)
    unit = await units.get_unit(session, actor=actor, delegations=delegations, unit_id=unit_id)
    # A unit's resumes at once are its people's records as files: an export, as the search's is.
    authz.require(actor, Section.IDENTITY, Action.EXPORT, unit.path, delegations=delegations)
    found = await search.search(
        session,
        actor=actor,
        delegations=delegations,
        request=search.SearchRequest(
            unit_id=unit.id,
            include_subtree=include_subtree,
            status="active",
            as_of=as_of.isoformat(),
            sort="name",
            page=1,
            page_size=max_people,
        ),
    )
    if found.total > max_people:
        raise InvalidArgument.single(
            "unit_id", f"Đơn vị có {found.total} người đang công tác, quá {max_people} sơ yếu lý lịch mỗi lần in"
        )
    if found.total == 0:
        raise InvalidArgument.single("unit_id", "Đơn vị không có người đang công tác trong phạm vi được xem")
    batch = Batch(str(uuid.uuid4()), [f.person.id for f in found.found])
    await trail.note_read(
        session,
        action=trail.RESUME,
        what="resume_batch",
        person=None,
        unit_path=unit.path,
        details={
            "batch_id": batch.id,
            "unit_id": unit.id,
            "include_subtree": include_subtree,
            "as_of": as_of,
            "format": format,
            "people": len(batch.person_ids),
            "person_ids": batch.person_ids,
        },
    )
    return batch


def _coded(entry: EntryView) -> Iterator[tuple[str, tuple[str, str]]]:
    """Each field of the entry that holds a catalog's code: its name, and the catalog and code."""
    for spec in BY_NAME[entry.section].fields:
        code = entry.values.get(spec.name)
        if spec.kind is Kind.CODE and spec.catalog and code:
            yield spec.name, (spec.catalog, str(code))


async def _labelled(session: AsyncSession, entry: EntryView, as_of: date) -> form.Entry:
    labels: dict[str, str] = {}
    on = entry.valid_from or as_of
    for name, (catalog, code) in _coded(entry):
        value = await catalogs.value_on(session, catalog, code, on)
        if value is not None:
            labels[name] = value.label
    return form.Entry(entry.section, entry.valid_from, entry.valid_to, entry.values, labels)


async def _unit_on(session: AsyncSession, person: Person, as_of: date) -> str:
    """The unit the person was in on the day (their stays are kept as search facts), else the one
    they are in now (a day before the record began)."""
    held = await session.scalar(
        select(SearchFact.value).where(
            SearchFact.person_id == person.id,
            SearchFact.fact == facts.UNIT,
            SearchFact.valid_from <= as_of,
            SearchFact.valid_to >= as_of,
        )
    )
    return held or person.unit_id


async def _units(session: AsyncSession, unit_id: str, as_of: date) -> tuple[str, str]:
    """The unit's name and its parent's, as the last decision by the day left them."""
    name, parent_id = await _as_of(session, unit_id, as_of)
    if parent_id is None:
        return name, ""
    parent_name, _ = await _as_of(session, parent_id, as_of)
    return name, parent_name


async def _as_of(session: AsyncSession, unit_id: str, as_of: date) -> tuple[str, str | None]:
    change = await session.scalar(
        select(UnitChange)
        .where(UnitChange.unit_id == unit_id, UnitChange.effective_date <= as_of)
        .order_by(UnitChange.effective_date.desc(), UnitChange.recorded_at.desc())
        .limit(1)
    )
    if change is not None:
        return change.name, change.parent_id
    unit = await session.get(Unit, unit_id)
    return (unit.name, unit.parent_id) if unit is not None else ("", None)
