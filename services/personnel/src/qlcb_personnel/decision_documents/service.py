"""Decisions as documents (R-PER-3): one decision names many people; it is checked whole, applied
on its effective date, and cancelled by reversing exactly what it wrote.

A decision whose date has come is applied as it is created; a later one waits (`pending`) and
`apply_due` applies it on the day, all of it or, if a record has changed so that one of its
entries no longer fits, none of it (`failed`, with the reason). Cancelling a pending decision
keeps it from ever applying; cancelling an applied one retracts every entry it made (reopening
the periods those entries closed) and gives back every status it changed.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import events_pb2
from qlcb_common import authz
from qlcb_common import personnel_rules as rules
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.authz.policy import PERSONAL_ID_CLAIM, SECTIONS_CLAIM
from qlcb_common.decision_kinds import KIND_BY_NAME, MAX_PEOPLE, DecisionKind
from qlcb_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    StaleVersion,
)
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import acting_for
from qlcb_common.record_sections import BY_NAME, MAX_DECISION_TEXT, MAX_SIGNER
from qlcb_common.text import control_violation
from qlcb_personnel.audit import trail
from qlcb_personnel.deadlines import service as deadlines
from qlcb_personnel.decision_documents import messages
from qlcb_personnel.decision_documents.models import (
    APPLIED,
    CANCELLED,
    FAILED,
    PENDING,
    DecisionDocument,
    DecisionItem,
)
from qlcb_personnel.persons import status as statuses
from qlcb_personnel.persons.models import Person
from qlcb_personnel.persons.service import record_ref, visible_person
from qlcb_personnel.record import entry_terms, leadership, salary
from qlcb_personnel.record import service as record
from qlcb_personnel.record.entry_terms import EntryTerms
from qlcb_personnel.record.models import RecordEntry
from qlcb_personnel.units.models import Unit

MAX_SUMMARY = 500


@dataclass(frozen=True)
class ItemInput:
    person_id: str
    values: Mapping[str, object]
    valid_to: str = ""


@dataclass(frozen=True)
class DecisionInput:
    kind: str
    number: str
    decision_date: str
    effective_date: str
    body: str
    signer: str
    signer_post: str
    summary: str
    items: Sequence[ItemInput]


@dataclass(frozen=True)
class _Header:
    kind: DecisionKind
    number: str
    decision_date: date
    effective_date: date
    body: str
    signer: str
    signer_post: str
    summary: str


def _date(value: str, field: str, violations: list[FieldViolation]) -> date | None:
    if not value:
        violations.append(FieldViolation(field, "bắt buộc"))
        return None
    if refused := control_violation(field, value):
        violations.append(refused)
        return None
    return rules.iso_date(value, violations, field, "Ngày phải theo dạng YYYY-MM-DD")


def _header(data: DecisionInput, violations: list[FieldViolation]) -> _Header | None:
    before = len(violations)
    kind = KIND_BY_NAME.get(data.kind)
    if kind is None:
        violations.append(FieldViolation("kind", f"phải là một trong {', '.join(KIND_BY_NAME)}"))
    number = rules.decision_number(data.number, violations, "number")
    decided_on = _date(data.decision_date, "decision_date", violations)
    effective = _date(data.effective_date, "effective_date", violations)
    body = rules.short_text(data.body, "body", MAX_DECISION_TEXT, violations, required=True)
    signer = rules.short_text(data.signer, "signer", MAX_SIGNER, violations, required=True)
    signer_post = rules.short_text(data.signer_post, "signer_post", MAX_DECISION_TEXT, violations)
    summary = rules.short_text(data.summary, "summary", MAX_SUMMARY, violations)
    if not data.items:
        violations.append(FieldViolation("items", "Quyết định phải nêu ít nhất một người"))
    elif len(data.items) > MAX_PEOPLE:
        violations.append(FieldViolation("items", f"Một quyết định nêu tối đa {MAX_PEOPLE} người"))
    seen: dict[str, int] = {}
    for index, item in enumerate(data.items):
        if item.person_id in seen:
            violations.append(
                FieldViolation(f"items[{index}].person_id", f"Người này đã có ở items[{seen[item.person_id]}]")
            )
        seen.setdefault(item.person_id, index)
    if len(violations) > before or kind is None or decided_on is None or effective is None:
        return None
    return _Header(kind, number, decided_on, effective, body or "", signer or "", signer_post or "", summary or "")


def _authz_section(kind: DecisionKind) -> Section:
    section = kind.record_section
    return section.authz if section is not None else Section.MOVEMENT


async def _people(
    session: AsyncSession,
    actor: Principal,
    delegations: Sequence[Delegation],
    kind: DecisionKind,
    named: Sequence[tuple[str, Mapping[str, object]]],
    cited: tuple[str, str],
) -> tuple[dict[str, Person], dict[str, EntryTerms]]:
    """Every person `named` (with what the decision writes for them), each one the caller may change
    in the kind's section by the decision `cited` (its number and issuing body), locked in one order
    (by id) so that two decisions naming the same people cannot deadlock; and the terms of the
    caller's entries for those it writes within some (`entry_terms`)."""
    people: dict[str, Person] = {}
    bounded: dict[str, EntryTerms] = {}
    for index, (person_id, values) in sorted(enumerate(named), key=lambda pair: pair[1][0]):
        try:
            person, path = await visible_person(session, actor=actor, delegations=delegations, person_id=person_id)
        except NotFound as missing:
            raise type(missing)(f"items[{index}].person_id: {missing}") from None
        authz.require_record_write(
            actor,
            _authz_section(kind),
            Action.UPDATE,
            path,
            beyond_placements=kind.record_section is not None and kind.record_section.moves_beyond_placements,
            person=record_ref(person),
            delegations=delegations,
        )
        for section in _read_to_decide(kind):
            authz.require(actor, section, Action.READ, path, person=record_ref(person), delegations=delegations)
        await session.execute(select(Person.id).where(Person.id == person.id).with_for_update())
        if kind.record_section is not None and (
            reason := await leadership.refusal(session, actor, delegations, kind.record_section, path, person)
        ):
            raise PermissionDenied(f"items[{index}].person_id: {reason}")
        if kind.record_section is not None and (
            terms := await entry_terms.of(session, actor, delegations, kind.record_section, path, person)
        ):
            terms.require(values, *cited, f"items[{index}].person_id: ")
            bounded[person_id] = terms
        people[person_id] = person
    return people, bounded


def _read_to_decide(kind: DecisionKind) -> tuple[Section, ...]:
    """The sections a raise is decided from besides the salary: its refusal names the day it is due,
    which a discipline or a year not completed moves, so deciding one tells of them."""
    if kind.salary_rule is None:
        return ()
    return tuple(BY_NAME[name].authz for name in salary.RAISE_SECTIONS if name != salary.SALARY)


def _item_field(index: int, field: str) -> str:
    """A violation of an item's entry, named as the decision's request names it."""
    if field == "valid_from":
        return f"items[{index}].effective_date"
    if field.startswith("decision."):
        return {"decision.date": "decision_date"}.get(field, field.removeprefix("decision."))
    return f"items[{index}].{field}"


async def _checked_entry(
    session: AsyncSession, header: _Header, person: Person, item: ItemInput, index: int
) -> record.CheckedEntry:
    section = header.kind.record_section
    assert section is not None
    data = record.EntryInput(
        values=item.values,
        valid_from=header.effective_date.isoformat(),
        valid_to=item.valid_to,
        decision=record.DecisionInput(
            number=header.number,
            date=header.decision_date.isoformat(),
            body=header.body,
            signer=header.signer,
            signer_post=header.signer_post,
        ),
    )
    try:
        checked = await record.check_entry(session, section, person, data)
    except InvalidArgument as refused:
        raise InvalidArgument(
            [FieldViolation(_item_field(index, v.field), v.description) for v in refused.violations]
        ) from None
    if header.kind.salary_rule is not None:
        violations: list[FieldViolation] = []
        await salary.check_raise(
            session,
            header.kind.salary_rule,
            person.id,
            checked.values,
            header.effective_date,
            f"items[{index}].",
            violations,
        )
        if violations:
            raise InvalidArgument(
                [
                    FieldViolation(
                        f"items[{index}].{v.field}" if v.field == "effective_date" else v.field, v.description
                    )
                    for v in violations
                ]
            )
    return checked


async def _check_items(
    session: AsyncSession, header: _Header, people: Mapping[str, Person], items: Sequence[ItemInput]
) -> list[record.CheckedEntry | None]:
    """Every item checked against its person's record; all the reasons at once."""
    checked: list[record.CheckedEntry | None] = []
    violations: list[FieldViolation] = []
    for index, item in enumerate(items):
        person = people[item.person_id]
        if header.kind.status is not None:
            if item.values or item.valid_to:
                violations.append(FieldViolation(f"items[{index}].values", "Quyết định này không ghi mục hồ sơ"))
            if header.effective_date < person.date_of_birth:
                violations.append(FieldViolation(f"items[{index}].effective_date", "Trước ngày sinh của người này"))
            checked.append(None)
            continue
        try:
            checked.append(await _checked_entry(session, header, person, item, index))
        except InvalidArgument as refused:
            violations += [v for v in refused.violations if v not in violations]
            checked.append(None)
    if violations:
        raise InvalidArgument(violations)
    return checked


async def _publish(outbox: Outbox, session: AsyncSession, actor: str, document: DecisionDocument) -> None:
    items = await items_of(session, document.id)
    await outbox.add(
        session,
        subject=subjects.PERSONNEL_DECISION_CHANGED,
        payload=events_pb2.DecisionChanged(decision=messages.to_proto(document, items, len(items))),
        actor=actor,
    )


async def items_of(session: AsyncSession, decision_id: str) -> list[DecisionItem]:
    return list(
        await session.scalars(
            select(DecisionItem).where(DecisionItem.decision_id == decision_id).order_by(DecisionItem.position)
        )
    )


async def _apply(
    session: AsyncSession,
    outbox: Outbox,
    actor: Principal,
    document: DecisionDocument,
    header: _Header,
    people: Mapping[str, Person],
    bounded: Mapping[str, EntryTerms],
    items: Sequence[DecisionItem],
    checked: Sequence[record.CheckedEntry | None],
) -> None:
    """Writes what the decision does to each person, within the terms of the caller's entries for
    those `bounded`; any refusal undoes it all (the caller's unit of work rolls back)."""
    for index, (item, entry) in enumerate(zip(items, checked, strict=True)):
        person = people[item.person_id]
        try:
            if header.kind.status is not None:
                item.previous_status, row = await statuses.set_status(
                    session,
                    outbox=outbox,
                    actor=actor,
                    person=person,
                    status=header.kind.status,
                    effective=header.effective_date,
                    decision=header.number,
                    entered=(document.created_at, document.created_by),
                )
                item.status_entry_id = row.id
            else:
                section = header.kind.record_section
                assert section is not None
                assert entry is not None
                made = await record.record_change(
                    session,
                    outbox=outbox,
                    actor=actor,
                    person=person,
                    section=section,
                    checked=entry,
                    decision_id=document.id,
                    terms=bounded.get(item.person_id),
                )
                item.entry_id = made.entry_id
        except FailedPrecondition as refused:
            raise FailedPrecondition(f"items[{index}]: {refused}") from None
        except PermissionDenied as refused:
            raise PermissionDenied(f"items[{index}]: {refused}") from None
        except InvalidArgument as refused:
            raise InvalidArgument(
                [FieldViolation(_item_field(index, v.field), v.description) for v in refused.violations]
            ) from None
    document.state = APPLIED
    document.applied_at = datetime.now(UTC)


async def create(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    data: DecisionInput,
    today: date,
) -> tuple[DecisionDocument, list[DecisionItem]]:
    """Checks the whole decision and stores it; applies it now if its effective date has come."""
    violations: list[FieldViolation] = []
    header = _header(data, violations)
    if header is None:
        raise InvalidArgument(violations)
    people, bounded = await _people(
        session,
        actor,
        delegations,
        header.kind,
        [(item.person_id, item.values) for item in data.items],
        (header.number, header.body),
    )
    checked = await _check_items(session, header, people, data.items)
    if await session.scalar(
        select(DecisionDocument.id).where(
            DecisionDocument.number == header.number, DecisionDocument.decision_date == header.decision_date
        )
    ):
        raise AlreadyExists(f"number: đã có quyết định số {header.number} ngày {header.decision_date.isoformat()}")
    now = datetime.now(UTC)
    document = DecisionDocument(
        id=str(uuid.uuid4()),
        kind=header.kind.name,
        number=header.number,
        decision_date=header.decision_date,
        effective_date=header.effective_date,
        body=header.body,
        signer=header.signer,
        signer_post=header.signer_post,
        summary=header.summary,
        state=PENDING,
        version=1,
        created_by=actor.subject,
        created_as=await _rights_of(session, actor),
        created_at=now,
    )
    session.add(document)
    items = [
        DecisionItem(
            id=str(uuid.uuid4()),
            decision_id=document.id,
            position=index,
            person_id=item.person_id,
            values=dict(entry.values) if entry is not None else {},
            valid_to=entry.valid_to if entry is not None else None,
        )
        for index, (item, entry) in enumerate(zip(data.items, checked, strict=True))
    ]
    session.add_all(items)
    await session.flush()
    if header.effective_date <= today:
        await _apply(session, outbox, actor, document, header, people, bounded, items, checked)
    await session.flush()
    await _publish(outbox, session, actor.subject, document)
    return document, items


def _header_of(document: DecisionDocument) -> _Header:
    return _Header(
        KIND_BY_NAME[document.kind],
        document.number,
        document.decision_date,
        document.effective_date,
        document.body,
        document.signer,
        document.signer_post,
        document.summary,
    )


KEPT_CLAIMS = (SECTIONS_CLAIM, PERSONAL_ID_CLAIM)
"""The claims of the author's token its rights depend on besides its tiers and unit."""


async def _rights_of(session: AsyncSession, actor: Principal) -> dict[str, Any]:
    """The author's rights, its unit kept by id too: a unit moved in the tree before the decision's
    day is the author's unit there; and who held the author's account then, whom the audit trail
    names for what the decision writes on its day (ADR 0047)."""
    unit_id = await session.scalar(select(Unit.id).where(Unit.path == actor.unit_path)) if actor.unit_path else None
    holder = await session.run_sync(trail.holder_at, actor.username, datetime.now(UTC))
    return {
        "username": actor.username,
        "roles": sorted(actor.roles),
        "unit_path": actor.unit_path,
        "unit_id": unit_id,
        "claims": {claim: actor.claims[claim] for claim in KEPT_CLAIMS if claim in actor.claims},
        "holder": asdict(holder),
    }


async def _creator(session: AsyncSession, document: DecisionDocument) -> Principal:
    """The decision's author with the rights it had when it recorded the decision, in its unit where
    that unit is now, as whom its entries are recorded when the service applies it later."""
    kept = document.created_as or {}
    moved = await session.scalar(select(Unit.path).where(Unit.id == kept["unit_id"])) if kept.get("unit_id") else None
    return Principal(
        subject=document.created_by,
        username=str(kept.get("username") or document.created_by),
        roles=frozenset(kept.get("roles") or ()),
        unit_path=moved or kept.get("unit_path"),
        token="",
        claims=dict(kept.get("claims") or {}),
    )


async def apply_decision(
    session: AsyncSession, outbox: Outbox, decision_id: str, delegations: DelegationCopy, today: date
) -> DecisionDocument | None:
    """Applies one pending decision whose day has come, re-checking every item against the records
    as they are now and the author's right to change each person there: its rights as they were when
    it recorded the decision, with the delegations to its unit in force `today` (a person moved out
    of its scope, or a delegation since ended or revoked, refuses). Returns it applied, or None if
    another replica took it first. Raises the refusal if an item no longer fits (the caller marks it
    failed in a fresh unit of work)."""
    document = await session.scalar(
        select(DecisionDocument)
        .where(DecisionDocument.id == decision_id, DecisionDocument.state == PENDING)
        .with_for_update(skip_locked=True)
    )
    if document is None:
        return None
    header = _header_of(document)
    items = await items_of(session, document.id)
    actor = await _creator(session, document)
    people: dict[str, Person] = {}
    bounded: dict[str, EntryTerms] = {}
    if document.created_as is None:
        for item in sorted(items, key=lambda i: i.person_id):
            people[item.person_id] = await session.get_one(Person, item.person_id, with_for_update=True)
    else:
        # In force on the decision's day, their periods checked for it rather than for the server's.
        granted = [
            replace(d, valid_from=None, valid_to=None) for d in await delegations.for_caller(session, actor, on=today)
        ]
        people, bounded = await _people(
            session,
            actor,
            granted,
            header.kind,
            [(item.person_id, item.values) for item in items],
            (header.number, header.body),
        )
    inputs = [
        ItemInput(item.person_id, item.values, item.valid_to.isoformat() if item.valid_to else "") for item in items
    ]
    checked = await _check_items(session, header, people, inputs)
    kept = (document.created_as or {}).get("holder")
    with acting_for(actor), trail.held_by(trail.Holder(**kept)) if kept else contextlib.nullcontext():
        await _apply(session, outbox, actor, document, header, people, bounded, items, checked)
        await session.flush()
    document.version += 1
    await session.flush()
    await _publish(outbox, session, actor.subject, document)
    return document


async def mark_failed(session: AsyncSession, outbox: Outbox, decision_id: str, reason: str) -> None:
    document = await session.scalar(
        select(DecisionDocument).where(DecisionDocument.id == decision_id, DecisionDocument.state == PENDING)
    )
    if document is None:
        return
    document.state = FAILED
    document.failure = reason
    document.version += 1
    await session.flush()
    await _publish(outbox, session, document.created_by, document)


async def due(session: AsyncSession, today: date) -> list[str]:
    """The pending decisions whose effective date has come, oldest first."""
    return list(
        await session.scalars(
            select(DecisionDocument.id)
            .where(DecisionDocument.state == PENDING, DecisionDocument.effective_date <= today)
            .order_by(DecisionDocument.effective_date, DecisionDocument.created_at)
        )
    )


async def _visible(
    session: AsyncSession,
    actor: Principal,
    delegations: Sequence[Delegation],
    document: DecisionDocument,
    items: Sequence[DecisionItem],
) -> list[DecisionItem]:
    """The items whose person the caller may read in the kind's section."""
    section = _authz_section(KIND_BY_NAME[document.kind])
    rows = (
        await session.execute(
            select(Person, Unit.path)
            .join(Unit, Unit.id == Person.unit_id)
            .where(Person.id.in_([item.person_id for item in items]))
        )
    ).all()
    readable = {
        row.Person.id
        for row in rows
        if authz.permits(actor, section, Action.READ, row.path, person=record_ref(row.Person), delegations=delegations)
    }
    return [item for item in items if item.person_id in readable]


async def get(
    session: AsyncSession, *, actor: Principal, delegations: Sequence[Delegation] = (), decision_id: str
) -> tuple[DecisionDocument, list[DecisionItem], int]:
    """The decision with the items the caller may read; one naming nobody the caller may read
    answers as unknown."""
    document = await session.get(DecisionDocument, decision_id)
    items = await items_of(session, decision_id) if document is not None else []
    visible = await _visible(session, actor, delegations, document, items) if document is not None else []
    if document is None or not visible:
        raise NotFound(f"Không có quyết định {decision_id!r}")
    return document, visible, len(items)


DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
BAD_TOKEN = "Không phải mã trang do hệ thống trả về"


@dataclass(frozen=True)
class DecisionsPage:
    found: list[tuple[DecisionDocument, list[DecisionItem], int]]
    next_page_token: str


def _token_of(document: DecisionDocument) -> str:
    """Where a page ended, in the listing's order (effective date, then when it was made, newest first)."""
    return f"{document.effective_date.isoformat()}_{document.created_at.isoformat()}_{document.id}"


def _after(token: str) -> tuple[date, datetime, str]:
    try:
        day, made, document_id = token.split("_")
        moment = datetime.fromisoformat(made)
        position = (date.fromisoformat(day), moment.astimezone(UTC), document_id)
    except (ValueError, OverflowError):
        raise InvalidArgument.single("page_token", BAD_TOKEN) from None
    if moment.tzinfo is None or not _DOCUMENT_ID.fullmatch(document_id):
        raise InvalidArgument.single("page_token", BAD_TOKEN)
    return position


_DOCUMENT_ID = re.compile(r"[0-9A-Za-z-]{1,36}")


async def list_decisions(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    person_id: str = "",
    unit_id: str = "",
    include_subtree: bool = False,
    state: str = "",
    kind: str = "",
    page_size: int = 0,
    page_token: str = "",
) -> DecisionsPage:
    """Decisions naming the person, or people now in the unit (or its subtree), that the caller
    may read; newest effective date first, a page at a time. A page is read in batches until it
    holds `page_size` the caller may read, so a decision naming only people it may not read takes
    no place on a page."""
    if bool(person_id) == bool(unit_id):
        raise InvalidArgument.single("person_id", "Cần đúng một trong person_id và unit_id")
    if kind and kind not in KIND_BY_NAME:
        raise InvalidArgument.single("kind", f"phải là một trong {', '.join(KIND_BY_NAME)}")
    if not 0 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidArgument.single("page_size", f"Từ 1 đến {MAX_PAGE_SIZE}")
    after = _after(page_token) if page_token else None
    size = page_size or DEFAULT_PAGE_SIZE
    query: Select[tuple[str]] = select(DecisionItem.decision_id).distinct()  # type: ignore[assignment]
    if person_id:
        await visible_person(session, actor=actor, delegations=delegations, person_id=person_id)
        query = query.where(DecisionItem.person_id == person_id)
    else:
        unit = await session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(f"Không có đơn vị {unit_id!r}")
        # A unit is no secret (GET /v1/units/{id} answers the same): out of reach is a refusal.
        authz.require(actor, Section.UNIT, Action.READ, unit.path, delegations=delegations)
        in_unit = (
            Unit.path.startswith(unit.path + "/") | (Unit.id == unit.id) if include_subtree else Unit.id == unit.id
        )
        query = query.join(Person, Person.id == DecisionItem.person_id).join(Unit, Unit.id == Person.unit_id)
        query = query.where(in_unit)
    documents = select(DecisionDocument).where(DecisionDocument.id.in_(query))
    if state:
        documents = documents.where(DecisionDocument.state == state)
    if kind:
        documents = documents.where(DecisionDocument.kind == kind)
    position = (DecisionDocument.effective_date, DecisionDocument.created_at, DecisionDocument.id)
    documents = documents.order_by(*(column.desc() for column in position))
    found: list[tuple[DecisionDocument, list[DecisionItem], int]] = []
    while len(found) <= size:
        batch = documents if after is None else documents.where(tuple_(*position) < tuple_(*after))
        scanned = list(await session.scalars(batch.limit(size + 1)))
        items = await _items_of_each(session, [document.id for document in scanned])
        for document in scanned:
            visible = await _visible(session, actor, delegations, document, items[document.id])
            if visible:
                found.append((document, visible, len(items[document.id])))
        if len(scanned) <= size:
            break
        last = scanned[-1]
        after = (last.effective_date, last.created_at, last.id)
    if len(found) <= size:
        return DecisionsPage(found, "")
    return DecisionsPage(found[:size], _token_of(found[size - 1][0]))


async def _items_of_each(session: AsyncSession, decision_ids: list[str]) -> dict[str, list[DecisionItem]]:
    grouped: dict[str, list[DecisionItem]] = {decision_id: [] for decision_id in decision_ids}
    for item in await session.scalars(
        select(DecisionItem).where(DecisionItem.decision_id.in_(decision_ids)).order_by(DecisionItem.position)
    ):
        grouped[item.decision_id].append(item)
    return grouped


async def _reverse_item(
    session: AsyncSession,
    outbox: Outbox,
    actor: Principal,
    document: DecisionDocument,
    item: DecisionItem,
    person: Person,
    index: int,
    terms: EntryTerms | None,
) -> list[RecordEntry]:
    kind = KIND_BY_NAME[document.kind]
    if kind.status is not None:
        latest = (await statuses.current(session, [person.id])).get(person.id)
        if latest is None or latest.id != item.status_entry_id:
            raise FailedPrecondition(
                f"items[{index}]: tình trạng của {person.full_name} đã thay đổi sau quyết định này: "
                "hủy hoặc điều chỉnh quyết định sau trước"
            )
        assert item.previous_status is not None
        await statuses.set_status(
            session,
            outbox=outbox,
            actor=actor,
            person=person,
            status=item.previous_status,
            effective=document.effective_date,
            decision=document.cancel_number or document.number,
            measured=False,
        )
        await deadlines.forget(session, latest.id)
        return []
    section = kind.record_section
    assert section is not None
    current = await session.scalar(
        select(RecordEntry)
        .where(
            RecordEntry.entry_id == item.entry_id,
            RecordEntry.superseded_at.is_(None),
            RecordEntry.retracted.is_(False),
        )
        .with_for_update()
    )
    if current is None:
        return []
    try:
        retracted = await record.retract(
            session, outbox=outbox, actor=actor, person=person, section=section, current=current, terms=terms
        )
    except PermissionDenied as refused:
        raise PermissionDenied(f"items[{index}]: {refused}") from None
    return [retracted]


async def cancel(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    decision_id: str,
    expected_version: int,
    reason: str,
    cancel_number: str,
) -> tuple[DecisionDocument, list[DecisionItem], list[RecordEntry]]:
    """Cancels the decision at the version the caller read; reverses what it applied. The caller
    must be allowed to change every person it names."""
    violations: list[FieldViolation] = []
    why = rules.short_text(reason, "reason", MAX_SUMMARY, violations)
    if not why and not violations:
        violations.append(FieldViolation("reason", "Lý do hủy là bắt buộc"))
    number = rules.decision_number(cancel_number, violations, "cancel_number") if cancel_number else ""
    if violations:
        raise InvalidArgument(violations)
    document, _, _ = await get(session, actor=actor, delegations=delegations, decision_id=decision_id)
    # The decision before its people, in the order the applier takes them, so the two cannot deadlock.
    locked = await session.scalar(
        select(DecisionDocument)
        .where(DecisionDocument.id == decision_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    items = await items_of(session, document.id)
    kind = KIND_BY_NAME[document.kind]
    people, bounded = await _people(
        session,
        actor,
        delegations,
        kind,
        [(item.person_id, item.values) for item in items],
        (document.number, document.body),
    )
    if locked.version != expected_version:
        raise StaleVersion(
            f"Quyết định đã thay đổi (phiên bản hiện tại {locked.version}, yêu cầu phiên bản {expected_version}): "
            "hãy đọc lại"
        )
    if locked.state == CANCELLED:
        raise FailedPrecondition(f"Quyết định {locked.number} đã bị hủy")
    locked.cancel_number = number or None
    reversed_entries: list[RecordEntry] = []
    if locked.state == APPLIED:
        for index, item in enumerate(items):
            reversed_entries += await _reverse_item(
                session, outbox, actor, locked, item, people[item.person_id], index, bounded.get(item.person_id)
            )
    locked.state = CANCELLED
    locked.cancelled_at = datetime.now(UTC)
    locked.cancelled_by = actor.subject
    locked.cancel_reason = why
    locked.version += 1
    await session.flush()
    await _publish(outbox, session, actor.subject, locked)
    visible = await _visible(session, actor, delegations, locked, items)
    return locked, visible, reversed_entries
