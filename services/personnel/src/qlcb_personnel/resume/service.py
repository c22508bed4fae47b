"""A person's resume (2C-BNV/2008) as the record stood on a day: the whole-record read, noted in the
audit trail as a resume (R-PER-7), its codes named as their catalogs named them on each entry's
date, and the units the person was in on that day, named as they were then."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.authz import Delegation
from qlcb_common.record_sections import BY_NAME, Kind
from qlcb_personnel.audit import trail
from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.persons.models import Person
from qlcb_personnel.record import service as record
from qlcb_personnel.record.models import RecordEntry
from qlcb_personnel.resume import form
from qlcb_personnel.search import facts
from qlcb_personnel.search.models import SearchFact
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
) -> Resume:
    person, sections, entries = await record.whole_record(
        session, actor=actor, delegations=delegations, person_id=person_id, as_of=as_of, noted_as=trail.RESUME
    )
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


async def _labelled(session: AsyncSession, entry: RecordEntry, as_of: date) -> form.Entry:
    labels: dict[str, str] = {}
    on = entry.valid_from or as_of
    for spec in BY_NAME[entry.section].fields:
        code = entry.values.get(spec.name)
        if spec.kind is Kind.CODE and spec.catalog and code:
            value = await catalogs.value_on(session, spec.catalog, str(code), on)
            if value is not None:
                labels[spec.name] = value.label
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
