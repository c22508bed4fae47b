"""What goes into the audit trail, and when: every row of the records that a unit of work
inserts, changes or deletes, captured as the session flushes it, with the before and after of
each field; and the reads the services note (`note_read`). Both land in `audit_entries` in the
same transaction as what they record, so a change is never committed unrecorded.

The capture sits on the session (`AuditedSession`), not in each service function, so that a
write added later is audited without anyone remembering to."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Insert, String, and_, bindparam, event, func, insert, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, Session, UOWTransaction

from qlcb_common.auth import Principal
from qlcb_common.db import UtcDateTime
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.audit.models import AccountHolder, AuditEntry
from qlcb_personnel.persons.models import Person
from qlcb_personnel.units.models import Unit

CREATE, UPDATE, DELETE, READ, RESUME, EXPORT, IMPORT = (
    "create",
    "update",
    "delete",
    "read",
    "resume",
    "export",
    "import",
)

_system_actor: contextvars.ContextVar[str] = contextvars.ContextVar("qlcb_audit_system_actor", default="system")
_kept_holder: contextvars.ContextVar[Holder | None] = contextvars.ContextVar("qlcb_audit_kept_holder", default=None)


@contextlib.contextmanager
def acting_as_system(name: str) -> Iterator[None]:
    """What the service does of itself (outside any call) within the block is recorded as
    `system:<name>`."""
    token = _system_actor.set(name)
    try:
        yield
    finally:
        _system_actor.reset(token)


@dataclass(frozen=True)
class _Subject:
    """Whose record, or which unit, a row of a table is about."""

    person: Callable[[Any], str | None] = lambda _row: None
    unit: Callable[[Any], str | None] = lambda _row: None


_AUDITED: dict[str, _Subject] = {
    "persons": _Subject(person=lambda r: r.id, unit=lambda r: r.unit_id),
    "person_statuses": _Subject(person=lambda r: r.person_id),
    "transfers": _Subject(person=lambda r: r.person_id),
    "record_entries": _Subject(person=lambda r: r.person_id),
    "decision_items": _Subject(person=lambda r: r.person_id),
    # A decision is about many people: its own entries are its author's unit's, whose officers
    # and those above it answer for it (decisions recorded before the author was kept have none).
    "decision_documents": _Subject(unit=lambda r: (r.created_as or {}).get("unit_id")),
    "units": _Subject(unit=lambda r: r.id),
    "unit_changes": _Subject(unit=lambda r: r.unit_id),
    "unit_quotas": _Subject(unit=lambda r: r.unit_id),
    "catalog_values": _Subject(),
}
"""The tables of the records, and how to find whose they are. The rest are projections and
plumbing (search facts, outbox, inbox, the delegations' copy, the audit itself)."""

_DERIVED = frozenset({"name_folded", "name_sort"})
"""Columns computed from others: their change says nothing the others do not."""


def _plain(value: Any) -> Any:
    if type(value) is date and value == date.min:
        return None  # the start of the records (ADR 0041): a unit taken in has no day to tell
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _fields(name: str, before: Any, after: Any, changes: dict[str, list[Any]]) -> None:
    """Adds the field's change; a JSON object's keys each as a field of their own."""
    if isinstance(before, dict) or isinstance(after, dict):
        old, new = before or {}, after or {}
        for key in sorted(set(old) | set(new)):
            _fields(f"{name}.{key}", old.get(key), new.get(key), changes)
    elif before != after and (old := _plain(before)) != (new := _plain(after)):
        changes[name] = [old, new]


def _changes(row: Any, action: str) -> dict[str, list[Any]]:
    state = inspect(row)
    changes: dict[str, list[Any]] = {}
    for column in state.mapper.column_attrs:
        if column.key in _DERIVED:
            continue
        value = getattr(row, column.key)
        if action == CREATE:
            _fields(column.key, None, value, changes)
        elif action == DELETE:
            _fields(column.key, value, None, changes)
        else:
            history = state.attrs[column.key].history
            if history.has_changes():
                before = history.deleted[0] if history.deleted else None
                _fields(column.key, before, value, changes)
    return changes


def _row_id(row: Any) -> str:
    mapper = inspect(row).mapper
    return "/".join(str(getattr(row, column.key)) for column in mapper.primary_key)


@dataclass(frozen=True)
class _Actor:
    account: str
    subject: str
    tiers: str

    @classmethod
    def now(cls) -> _Actor:
        try:
            principal: Principal = current_principal()
        except LookupError:
            name = f"system:{_system_actor.get()}"
            return cls(name, name, "")
        return cls(principal.username, principal.subject, ",".join(sorted(principal.roles)))


@dataclass(frozen=True)
class Holder:
    name: str
    personal_id: str
    folded: str


_NOBODY = Holder("", "", "")


@contextlib.contextmanager
def held_by(holder: Holder) -> Iterator[None]:
    """Entries written within the block name `holder` for their account, whoever holds it now: a
    decision applied on its day is its author's write, by whoever held the author's account when it
    was recorded."""
    token = _kept_holder.set(holder)
    try:
        yield
    finally:
        _kept_holder.reset(token)


def holder_at(session: Session, account: str, at: datetime) -> Holder:
    """Who held the account at `at` as personnel's copy of the holder history tells, looked up once
    in a unit of work: its entries are all written within moments. Nobody holds a person's own
    account nor the service's."""
    known: dict[str, Holder] = session.info.setdefault("audit_holders", {})
    if account not in known:
        found = None
        if not account.startswith("system:"):
            with session.no_autoflush:
                found = session.execute(
                    select(AccountHolder.holder_name, AccountHolder.holder_personal_id, AccountHolder.holder_folded)
                    .where(
                        AccountHolder.account == account,
                        AccountHolder.held_from <= at,
                        or_(AccountHolder.held_until.is_(None), AccountHolder.held_until > at),
                    )
                    .order_by(AccountHolder.held_from.desc())
                    .limit(1)
                ).first()
        known[account] = Holder(found[0], found[1] or "", found[2]) if found is not None else _NOBODY
    return known[account]


def _known_holder(session: Session, account: str) -> Holder | None:
    """The holder of `account` without a query: kept for the block, the service's own nobody, or
    already looked up in this unit of work."""
    if (kept := _kept_holder.get()) is not None:
        return kept
    if account.startswith("system:"):
        return _NOBODY
    known: dict[str, Holder] = session.info.get("audit_holders", {})
    return known.get(account)


def _entry(session: Session, values: dict[str, Any]) -> AuditEntry:
    """An entry of `values` (`_values`) with who held its account then."""
    holder = _known_holder(session, values["account"]) or holder_at(session, values["account"], values["occurred_at"])
    return AuditEntry(
        **values, holder_name=holder.name, holder_personal_id=holder.personal_id, holder_folded=holder.folded
    )


def _values(
    session: Session,
    *,
    action: str,
    target: str,
    target_id: str | None,
    person_id: str | None,
    unit_path: str | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    """An entry's columns but its holder's."""
    actor = _Actor.now()
    return {
        "id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC),
        "transaction_id": session.info.setdefault("audit_transaction", str(uuid.uuid4())),
        "account": actor.account,
        "subject": actor.subject,
        "tiers": actor.tiers,
        "action": action,
        "target": target,
        "target_id": target_id,
        "person_id": person_id,
        "unit_path": unit_path,
        "details": details,
    }


@functools.cache
def _entry_inserted() -> tuple[Insert, Insert]:
    """The two statements that write an entry, built once: one with its holder as given, one that
    looks the holder up itself (`held_account` at `held_at`). Either takes the unit's path as given
    (`given_path`) or looks it up by the unit's id (`path_of`). So a read on record costs one round
    trip rather than a lookup or two and then a flush."""
    table = AuditEntry.metadata.tables[AuditEntry.__tablename__]
    at = bindparam("held_at", type_=UtcDateTime())
    held = and_(
        AccountHolder.account == bindparam("held_account"),
        AccountHolder.held_from <= at,
        or_(AccountHolder.held_until.is_(None), AccountHolder.held_until > at),
    )

    def then(column: InstrumentedAttribute[Any]) -> ColumnElement[str]:
        found = select(column).where(held).order_by(AccountHolder.held_from.desc()).limit(1).scalar_subquery()
        return func.coalesce(found, "")

    path = func.coalesce(
        bindparam("given_path", type_=String()),
        select(Unit.path).where(Unit.id == bindparam("path_of", type_=String())).scalar_subquery(),
    )
    given = insert(table).values(unit_path=path)
    looked_up = given.values(
        holder_name=then(AccountHolder.holder_name),
        holder_personal_id=then(AccountHolder.holder_personal_id),
        holder_folded=then(AccountHolder.holder_folded),
    )
    return given, looked_up


async def _write(session: AsyncSession, values: dict[str, Any], unit_id: str | None) -> None:
    """`values` written at once, with who held the account when, in the unit of `unit_id` unless
    `values` name the unit's path."""
    given, looked_up = _entry_inserted()
    row = {k: v for k, v in values.items() if k != "unit_path"}
    row |= {"given_path": values["unit_path"], "path_of": unit_id}
    if (holder := _known_holder(session.sync_session, values["account"])) is not None:
        held = {"holder_name": holder.name, "holder_personal_id": holder.personal_id, "holder_folded": holder.folded}
        await session.execute(given, row | held)
    else:
        await session.execute(looked_up, row | {"held_account": values["account"], "held_at": values["occurred_at"]})


def _unit_paths(session: Session, person_ids: Iterable[str], unit_ids: Iterable[str]) -> dict[str, str]:
    """The unit path of each person (by their unit now, which this flush may be changing) and of
    each unit, from the rows in the session where they are there, else from the database."""
    found: dict[str, str] = {}
    persons = {p.id: p for p in session.identity_map.values() if isinstance(p, Person)} | {
        p.id: p for p in session.new if isinstance(p, Person)
    }
    units = {u.id: u for u in session.identity_map.values() if isinstance(u, Unit)} | {
        u.id: u for u in session.new if isinstance(u, Unit)
    }
    person_units: dict[str, str] = {pid: persons[pid].unit_id for pid in person_ids if pid in persons}
    unknown_people = set(person_ids) - set(person_units)
    with session.no_autoflush:
        if unknown_people:
            for pid, unit_id in session.execute(
                select(Person.id, Person.unit_id).where(Person.id.in_(sorted(unknown_people)))
            ):
                person_units[pid] = unit_id
        wanted = set(unit_ids) | set(person_units.values())
        found_units = {uid: units[uid].path for uid in wanted if uid in units}
        missing = wanted - set(found_units)
        if missing:
            rows = session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(sorted(missing))))
            found_units |= {uid: path for uid, path in rows}
    for pid, unit_id in person_units.items():
        if unit_id in found_units:
            found[f"person:{pid}"] = found_units[unit_id]
    for uid, path in found_units.items():
        found[f"unit:{uid}"] = path
    return found


def _versioned(session: Session, row: Any, earlier: dict[str, Any]) -> Any | None:
    """The version a new record entry supersedes (a correction, a closing, a retraction), marked
    superseded in this flush or an earlier one: its change is told against that version."""
    if getattr(row, "__tablename__", None) != "record_entries" or row.version <= 1:
        return None
    if row.entry_id in earlier:
        return earlier[row.entry_id]
    with session.no_autoflush:
        return session.scalar(
            select(type(row)).where(type(row).entry_id == row.entry_id, type(row).version == row.version - 1)
        )


def _against(row: Any, previous: Any) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for column in inspect(row).mapper.column_attrs:
        if column.key not in _VERSION_BOOKKEEPING:
            _fields(column.key, getattr(previous, column.key), getattr(row, column.key), changes)
    return changes


_VERSION_BOOKKEEPING = frozenset({"id", "version", "recorded_at", "recorded_by", "superseded_at"})
"""What every new version of an entry has new: its change is in the other fields."""


def _before_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    captured: list[tuple[str, Any, str | None, str | None]] = []
    for rows, action in ((session.new, CREATE), (session.dirty, UPDATE), (session.deleted, DELETE)):
        for row in rows:
            table = getattr(row, "__tablename__", None)
            subject = _AUDITED.get(table) if table else None
            if subject is None or (action == UPDATE and not session.is_modified(row)):
                continue
            captured.append((action, row, subject.person(row), subject.unit(row)))
    if not captured:
        return
    superseded = {
        row.entry_id: row
        for action, row, _, _ in captured
        if action == UPDATE and row.__tablename__ == "record_entries" and row.superseded_at is not None
    }
    paths = _unit_paths(session, {p for _, _, p, _ in captured if p}, {u for _, _, _, u in captured if u})
    for action, row, person_id, unit_id in captured:
        previous = _versioned(session, row, superseded) if action == CREATE else None
        changes = _against(row, previous) if previous is not None else _changes(row, action)
        if not changes:
            continue
        details: dict[str, Any] = {"changes": changes}
        if previous is not None:
            details |= {"supersedes": previous.id, "version": row.version, "change": row.change}
        where = f"person:{person_id}" if person_id else f"unit:{unit_id}" if unit_id else ""
        values = _values(
            session,
            action=UPDATE if previous is not None else action,
            target=row.__tablename__,
            target_id=_row_id(row),
            person_id=person_id,
            unit_path=paths.get(where),
            details=details,
        )
        session.add(_entry(session, values))


def audited_sessions() -> type[Session]:
    """The class of personnel's sessions: every flush of a table of the records leaves its audit
    entries."""

    class AuditedSession(Session):
        pass

    event.listen(AuditedSession, "before_flush", _before_flush)
    return AuditedSession


async def note_update(
    session: AsyncSession,
    *,
    target: str,
    target_id: str,
    person_id: str,
    changes: dict[str, list[Any]],
) -> None:
    """An update made by a statement rather than through a row the session holds (a guarded
    `UPDATE … WHERE status = …`), which the flush does not see."""
    unit_path = await session.scalar(
        select(Unit.path).join(Person, Person.unit_id == Unit.id).where(Person.id == person_id)
    )
    values = _values(
        session.sync_session,
        action=UPDATE,
        target=target,
        target_id=target_id,
        person_id=person_id,
        unit_path=unit_path,
        details={"changes": {k: [_plain(b), _plain(a)] for k, (b, a) in changes.items()}},
    )
    await _write(session, values, None)


async def note_read(
    session: AsyncSession,
    *,
    action: str,
    what: str,
    person: Person | None,
    unit_path: str | None = None,
    details: dict[str, Any],
) -> None:
    """A read the regulation wants on record (R-PER-7): a whole record, a section, a resume, an
    export, with what was asked and how much was given; about a person (in the unit they are in,
    unless `unit_path` says), or about the units at `unit_path`."""
    unit_id = person.unit_id if person is not None and unit_path is None else None
    await _note(session, action=action, what=what, person=person, unit_path=unit_path, unit_id=unit_id, details=details)


async def note_list(session: AsyncSession, *, what: str, unit_id: str, criteria: dict[str, Any], rows: int) -> None:
    """A list of people of a unit (or its subtree) given out, a page at a time or whole: a read on
    record with the criteria as asked and the rows given, in the unit listed (ADR 0049)."""
    details = {"criteria": criteria, "rows": rows}
    await _note(session, action=READ, what=what, person=None, unit_path=None, unit_id=unit_id, details=details)


async def _note(
    session: AsyncSession,
    *,
    action: str,
    what: str,
    person: Person | None,
    unit_path: str | None,
    unit_id: str | None,
    details: dict[str, Any],
) -> None:
    values = _values(
        session.sync_session,
        action=action,
        target=what,
        target_id=person.id if person is not None else None,
        person_id=person.id if person is not None else None,
        unit_path=unit_path,
        details=_plain(details),
    )
    await _write(session, values, unit_id)


async def note_import(session: AsyncSession, *, unit_path: str | None, details: dict[str, Any]) -> None:
    """A bulk import, applied or not (a dry run, a file refused): the file's digest and name, its
    kind and row counts. Each record or entry it wrote has its own entry besides, from the flush."""
    values = _values(
        session.sync_session,
        action=IMPORT,
        target="import",
        target_id=str(details.get("import_id") or "") or None,
        person_id=None,
        unit_path=unit_path,
        details=_plain(details),
    )
    await _write(session, values, None)
