"""New people from an import file: each row checked as `POST /v1/persons` checks one (its fields, its
unit existing and not dissolved, the caller allowed to create records there), against the records
already there and the file's other rows, with the units and the records it names read once.

A row whose personal id is on a record with the same staff number, name, birth date and sex is
already present and creates nothing (the same file imported twice); the same personal id with other
particulars, or a staff number someone else holds, is a fault. A record the caller may not read is
compared with nothing: the row is at fault with the same words whatever its particulars, so that a
file cannot tell a name or a birth date of someone outside the caller's scope, only that the personal
id is taken, as a unique key must."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.errors import FieldViolation
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.sequences import batched
from qlcb_personnel.imports.rows import Faults, Row, person_input
from qlcb_personnel.persons.models import Person
from qlcb_personnel.persons.service import CheckedPerson, check_fields, created_event, new_person
from qlcb_personnel.search import days, facts
from qlcb_personnel.units import history
from qlcb_personnel.units.models import Unit

LOOKUP_BATCH = 5000
"""Keys per query when the records a file names are looked up."""
WRITE_BATCH = 1000
"""Records flushed at a time: what the session holds stays bounded."""


@dataclass(frozen=True)
class Counts:
    created: int
    present: int


_COMPARED = (
    ("staff_number", "staff_number"),
    ("full_name", "full_name"),
    ("date_of_birth", "date_of_birth"),
    ("sex", "sex"),
)


async def import_persons(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation],
    rows: Sequence[Row],
    faults: Faults,
    write: bool,
) -> Counts:
    """Checks every row; writes the new records when `write` and no row is at fault."""
    units = await _units(session, {r.get("unit_code").upper() for r in rows})
    gone = await history.dissolved_on(session, [u.id for u in units.values()])
    checked: list[tuple[Row, CheckedPerson, Unit]] = []
    for row in rows:
        violations: list[FieldViolation] = []
        code = row.get("unit_code").upper()
        unit = units.get(code)
        person = check_fields(person_input(row, unit.id if unit else "", violations), violations)
        if not code:
            violations.append(FieldViolation("unit_code", "Mã đơn vị là bắt buộc"))
        elif unit is None:
            violations.append(FieldViolation("unit_code", f"Không có đơn vị mã {code}"))
        elif unit.id in gone:
            violations.append(FieldViolation("unit_code", f"Đơn vị {code} đã giải thể ngày {gone[unit.id]}"))
        elif not authz.permits(actor, Section.IDENTITY, Action.CREATE, unit.path, delegations=delegations):
            violations.append(FieldViolation("unit_code", f"Không có quyền tạo hồ sơ ở đơn vị {code}"))
        if violations or person is None or unit is None:
            faults.add_violations(row, violations)
            continue
        checked.append((row, person, unit))
    visible = functools.partial(_visible, actor, delegations)
    fresh, present = await _against_records(session, _against_file(checked, faults), faults, visible)
    if not write or faults:
        return Counts(created=len(fresh), present=present)
    now = datetime.now(UTC)
    for batch in batched(fresh, WRITE_BATCH):
        made = [(new_person(person, unit_id=unit.id, actor=actor, now=now), unit) for _, person, unit in batch]
        session.add_all([p for p, _ in made])
        await session.flush()
        await facts.placed_at_start(session, [(p.id, unit.id) for p, unit in made])
        await days.refresh(session, [p.id for p, _ in made])
        await outbox.add_many(
            session,
            [(subjects.PERSONNEL_PERSON_CREATED, created_event(p, unit)) for p, unit in made],
            actor=actor.subject,
        )
        session.expunge_all()
    return Counts(created=len(fresh), present=present)


async def _units(session: AsyncSession, codes: set[str]) -> dict[str, Unit]:
    found: dict[str, Unit] = {}
    for batch in batched(sorted(c for c in codes if c), LOOKUP_BATCH):
        found |= {u.code: u for u in await session.scalars(select(Unit).where(Unit.code.in_(batch)))}
    return found


def _against_file(
    checked: Sequence[tuple[Row, CheckedPerson, Unit]], faults: Faults
) -> list[tuple[Row, CheckedPerson, Unit]]:
    """The rows whose personal id and staff number no earlier row of the file has."""
    ids: dict[str, int] = {}
    numbers: dict[str, int] = {}
    kept = []
    for row, person, unit in checked:
        clash = False
        if (first := ids.setdefault(person.personal_id, row.number)) != row.number:
            faults.add(row, "personal_id", f"Trùng số định danh cá nhân với dòng {first}")
            clash = True
        if (first := numbers.setdefault(person.staff_number, row.number)) != row.number:
            faults.add(row, "staff_number", f"Trùng số hiệu cán bộ với dòng {first}")
            clash = True
        if not clash:
            kept.append((row, person, unit))
    return kept


def _visible(actor: Principal, delegations: Sequence[Delegation], person: Person, unit_path: str) -> bool:
    ref = authz.RecordRef(person.id, person.personal_id)
    return authz.permits(actor, Section.IDENTITY, Action.READ, unit_path, person=ref, delegations=delegations)


async def _against_records(
    session: AsyncSession,
    checked: Sequence[tuple[Row, CheckedPerson, Unit]],
    faults: Faults,
    visible: Callable[[Person, str], bool],
) -> tuple[list[tuple[Row, CheckedPerson, Unit]], int]:
    """The rows no record has yet, and how many are there already as the row says; the others are
    at fault (a personal id with other particulars or on a record the caller may not read, a staff
    number held by someone else)."""
    by_id: dict[str, tuple[Person, str]] = {}
    by_number: dict[str, Person] = {}
    for batch in batched(checked, LOOKUP_BATCH):
        ids = [p.personal_id for _, p, _ in batch]
        numbers = [p.staff_number for _, p, _ in batch]
        query = (
            select(Person, Unit.path)
            .join(Unit, Unit.id == Person.unit_id)
            .where(or_(Person.personal_id.in_(ids), Person.staff_number.in_(numbers)))
        )
        for found, path in await session.execute(query):
            by_id[found.personal_id] = (found, path)
            by_number[found.staff_number] = found
    fresh = []
    present = 0
    for row, person, unit in checked:
        existing, path = by_id.get(person.personal_id, (None, ""))
        if existing is not None and not visible(existing, path):
            faults.add(row, "personal_id", "Số định danh cá nhân đã có hồ sơ khác")
            continue
        if existing is not None:
            differing = [f for f, attribute in _COMPARED if getattr(existing, attribute) != getattr(person, attribute)]
            if differing:
                column = faults.template.header_of(differing[0])
                faults.add(row, "personal_id", f"Đã có hồ sơ với số định danh này, khác ở cột «{column}»")
            else:
                present += 1
            continue
        holder = by_number.get(person.staff_number)
        if holder is not None:
            faults.add(row, "staff_number", "Số hiệu cán bộ đã cấp cho hồ sơ khác")
            continue
        fresh.append((row, person, unit))
    return fresh, present
