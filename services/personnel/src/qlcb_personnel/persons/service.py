from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import events_pb2
from qlcb_common import authz, names
from qlcb_common import personnel_rules as rules
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, RecordRef, Section
from qlcb_common.days import vietnam_today
from qlcb_common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_personnel.persons.messages import ACTIVE, to_proto
from qlcb_personnel.persons.models import Person, PersonStatusEntry
from qlcb_personnel.search import days, facts
from qlcb_personnel.units import history
from qlcb_personnel.units.models import Unit, in_subtree
from qlcb_personnel.units.service import to_proto as unit_to_proto

MIN_AGE, MAX_AGE = 15, 100
MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 500, 100


@dataclass(frozen=True)
class PersonCreate:
    personal_id: str
    staff_number: str
    full_name: str
    date_of_birth: str
    sex: str
    unit_id: str


@dataclass(frozen=True)
class CheckedPerson:
    """A new person's own fields, as stored: checked, trimmed, NFC."""

    personal_id: str
    staff_number: str
    full_name: str
    date_of_birth: date
    sex: str


def check_fields(data: PersonCreate, violations: list[FieldViolation]) -> CheckedPerson | None:
    """The person's fields checked one by one (the unit apart): every fault added to `violations`."""
    personal_id = rules.personal_id(data.personal_id, violations)
    staff_number = rules.staff_number(data.staff_number, violations)
    full_name = rules.full_name(data.full_name, violations)
    birth = _birth_date(data.date_of_birth, violations)
    rules.sex(data.sex, violations)
    if birth is None:
        return None
    return CheckedPerson(personal_id, staff_number, full_name, birth, data.sex)


def new_person(checked: CheckedPerson, *, unit_id: str, actor: Principal, now: datetime) -> Person:
    return Person(
        id=str(uuid.uuid4()),
        personal_id=checked.personal_id,
        staff_number=checked.staff_number,
        full_name=checked.full_name,
        name_folded=names.fold(checked.full_name),
        name_sort=names.sort_key(checked.full_name),
        date_of_birth=checked.date_of_birth,
        sex=checked.sex,
        unit_id=unit_id,
        created_at=now,
        created_by=actor.subject,
    )


def created_event(person: Person, unit: Unit) -> events_pb2.PersonCreated:
    return events_pb2.PersonCreated(person=to_proto(person), unit=unit_to_proto(unit))


async def create_person(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    data: PersonCreate,
) -> Person:
    violations: list[FieldViolation] = []
    checked = check_fields(data, violations)
    unit = await session.get(Unit, data.unit_id) if data.unit_id else None
    if unit is None:
        violations.append(FieldViolation("unit_id", "Đơn vị không tồn tại"))
    elif gone := (await history.dissolved_on(session, [unit.id])).get(unit.id):
        violations.append(FieldViolation("unit_id", f"Đơn vị đã giải thể ngày {gone}"))
    if violations or unit is None or checked is None:
        raise InvalidArgument(violations)
    authz.require(actor, Section.IDENTITY, Action.CREATE, unit.path, delegations=delegations)
    clash = await session.scalar(
        select(Person).where(
            or_(Person.personal_id == checked.personal_id, Person.staff_number == checked.staff_number)
        )
    )
    if clash is not None:
        field = "personal_id" if clash.personal_id == checked.personal_id else "staff_number"
        raise AlreadyExists(f"{field}: đã có hồ sơ với giá trị này")
    person = new_person(checked, unit_id=unit.id, actor=actor, now=datetime.now(UTC))
    session.add(person)
    await session.flush()
    await facts.placed(session, person_id=person.id, unit_id=unit.id, since=None)
    await days.refresh(session, [person.id])
    await outbox.add(
        session, subject=subjects.PERSONNEL_PERSON_CREATED, payload=created_event(person, unit), actor=actor.subject
    )
    return person


def record_ref(person: Person) -> RecordRef:
    return RecordRef(id=person.id, personal_id=person.personal_id)


async def visible_person(
    session: AsyncSession, *, actor: Principal, delegations: Sequence[Delegation] = (), person_id: str
) -> tuple[Person, str]:
    """The person and its unit path, if the caller may read the record; one it may not read
    answers exactly as an unknown id (R-PER-7: a refusal must not reveal that a record exists)."""
    row = await _visible(session, select(Person, Unit.path), actor, delegations, person_id)
    return row.Person, str(row.path)


async def visible_person_in_status(
    session: AsyncSession, *, actor: Principal, delegations: Sequence[Delegation] = (), person_id: str
) -> tuple[Person, str, str]:
    """`visible_person`, with the person's status (their latest status row's, else active) read in
    the same statement."""
    latest = (
        select(PersonStatusEntry.status)
        .where(PersonStatusEntry.person_id == Person.id)
        .order_by(PersonStatusEntry.valid_from.desc(), PersonStatusEntry.recorded_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    row = await _visible(session, select(Person, Unit.path, latest.label("status")), actor, delegations, person_id)
    return row.Person, str(row.path), row.status or ACTIVE


async def _visible(
    session: AsyncSession,
    query: Select[*tuple[Any, ...]],
    actor: Principal,
    delegations: Sequence[Delegation],
    person_id: str,
) -> Row[*tuple[Any, ...]]:
    """The row `query` (the person and their unit's path, maybe more) reads of the person, if the
    caller may read the record."""
    row = (await session.execute(query.join(Unit, Unit.id == Person.unit_id).where(Person.id == person_id))).first()
    missing = f"hồ sơ {person_id!r}"
    if row is None:
        raise NotFound(f"Không có {missing}")
    authz.require_visible(
        actor, Section.IDENTITY, row.path, person=record_ref(row.Person), delegations=delegations, what=missing
    )
    return row


async def list_persons(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    unit_id: str,
    include_subtree: bool,
    page_size: int,
    page_token: str,
) -> tuple[list[Person], str]:
    unit = await session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        raise NotFound(f"Không có đơn vị {unit_id!r}")
    if page_size < 0 or page_size > MAX_PAGE_SIZE:
        raise InvalidArgument.single("page_size", f"Từ 0 đến {MAX_PAGE_SIZE}")
    if page_token and not _PERSON_ID.fullmatch(page_token):
        raise InvalidArgument.single("page_token", "Không phải next_page_token của trang trước")
    limit = page_size or DEFAULT_PAGE_SIZE
    query = select(Person).join(Unit, Unit.id == Person.unit_id)
    query = query.where(in_subtree(unit.path) if include_subtree else Unit.id == unit.id)
    query = query.where(
        authz.sql_scope(
            actor,
            Section.IDENTITY,
            Action.READ,
            Unit.path,
            person_id_column=Person.id,
            personal_id_column=Person.personal_id,
            delegations=delegations,
        )
    )
    if page_token:
        query = query.where(Person.id > page_token)
    persons = list((await session.scalars(query.order_by(Person.id).limit(limit + 1))).all())
    next_token = persons[limit - 1].id if len(persons) > limit else ""
    return persons[:limit], next_token


_PERSON_ID = re.compile(r"[0-9A-Za-z-]{1,36}")
"""What a page token of the people of a unit is: the last id of the page before."""


def _birth_date(value: str, violations: list[FieldViolation]) -> date | None:
    birth = rules.iso_date(value, violations, "date_of_birth", "Ngày sinh phải theo dạng YYYY-MM-DD")
    if birth is None:
        return None
    today = vietnam_today()
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if not MIN_AGE <= age <= MAX_AGE:
        violations.append(FieldViolation("date_of_birth", f"Tuổi phải từ {MIN_AGE} đến {MAX_AGE}"))
        return None
    return birth
