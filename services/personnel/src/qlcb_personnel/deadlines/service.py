"""Deadlines for entering data (R-PER-4): each entry judged as it is written, and per unit and period
what came late.

`follow` keeps `entry_deadlines` as the record's writes change it, in their unit of work, and counts
each new entry on `qlcb_personnel_entries_recorded_total` once that unit of work commits. `report`
answers for a unit (or its subtree) and a period of days the entries entered, how many came late, and
a page of the late ones, inside the caller's scope: the unit must be one whose reports the caller
reads (Section.REPORTS), and the entries counted and listed are those of the record's sections the
caller reads there (each section's scope, as a condition of the one query: `authz.sql_scope`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from prometheus_client import Counter
from sqlalchemy import ColumnElement, and_, event, false, func, or_, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from qlcb_common import authz
from qlcb_common import personnel_rules as rules
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Scope, Section
from qlcb_common.days import VIETNAM
from qlcb_common.errors import FieldViolation, InvalidArgument, NotFound
from qlcb_common.record_sections import BY_NAME, SECTIONS
from qlcb_common.text import control_violation
from qlcb_personnel.deadlines.models import EntryDeadline
from qlcb_personnel.deadlines.rules import DeadlinePolicy, Judgement, SectorRule
from qlcb_personnel.decision_documents.models import DecisionDocument
from qlcb_personnel.persons.models import Person
from qlcb_personnel.record.models import RecordEntry
from qlcb_personnel.units.models import Unit, in_subtree

MAX_PERIOD_DAYS = 366
"""The longest period one report covers: a year (a leap year's included), the span of the yearly
statistics (003 Điều 12); a longer view is several of them, and no call scans more than a year."""
MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 500, 100
ON_TIME, LATE, HISTORY = "on_time", "late", "history"
_RECORDED, _CORRECTED, _RETRACTED = "recorded", "corrected", "retracted"
_PENDING = "qlcb_personnel.deadlines.pending"

ENTRIES_RECORDED = Counter(
    "qlcb_personnel_entries_recorded_total",
    "New entries of personnel records, counted when their unit of work commits, by section and timeliness: "
    "on_time or late against the sector's deadline (R-PER-4), history when no deadline applies (an event "
    "before the record existed, a recruitment before the sector's start day, an undated fact)",
    ["section", "timeliness"],
)


@lru_cache(maxsize=1)
def current_policy() -> DeadlinePolicy:
    """The rule in force, from the service's settings (read once, when first needed)."""
    from qlcb_personnel.settings import DeadlineSettings

    settings = DeadlineSettings()
    return DeadlinePolicy(
        rule=settings.deadline_rule,
        calendar=settings.working_calendar(),
        new_records_from=settings.deadline_new_records_from,
    )


def day_in_vietnam(moment: datetime) -> date:
    return moment.astimezone(VIETNAM).date()


# ---- following the record's writes ----------------------------------------------------------------


@dataclass(frozen=True)
class _Entered:
    at: datetime
    by: str


async def follow(session: AsyncSession, person: Person, versions: Sequence[RecordEntry]) -> None:
    """What the versions just written (for one person, in this order) change in the measure: a new
    entry is judged and counted, a correction judges its entry again, a retraction takes it out."""
    latest = {v.entry_id: v for v in versions if v.change in (_RECORDED, _CORRECTED, _RETRACTED)}
    if not latest:
        return
    policy = current_policy()
    revisited = [entry_id for entry_id, v in latest.items() if v.change != _RECORDED]  # a new entry has no row
    known = (
        {
            row.entry_id: row
            for row in await session.scalars(select(EntryDeadline).where(EntryDeadline.entry_id.in_(revisited)))
        }
        if revisited
        else {}
    )
    entered = await _entered(
        session, [v for v in latest.values() if v.change != _RETRACTED and v.entry_id not in known]
    )
    counted: list[tuple[str, str]] = []
    for entry_id, version in latest.items():
        row = known.get(entry_id)
        if version.change == _RETRACTED:
            if row is not None:
                await session.delete(row)
            continue
        when = _Entered(row.entered_at, row.entered_by) if row is not None else entered[entry_id]
        judged = _judge(policy, person, version, when)
        if version.change == _RECORDED:
            counted.append((version.section, HISTORY if judged is None else LATE if judged.late else ON_TIME))
        if judged is None:
            if row is not None:
                await session.delete(row)
            continue
        if row is None:
            row = EntryDeadline(
                entry_id=entry_id,
                person_id=person.id,
                unit_id=person.unit_id,
                section=version.section,
                entered_at=when.at,
                entered_on=day_in_vietnam(when.at),
                entered_by=when.by,
            )
            session.add(row)
        row.kind, row.event_date, row.deadline, row.late = judged.kind, judged.event_date, judged.deadline, judged.late
    _count_on_commit(session, counted)


STATUS_SECTION, TRANSFER_SECTION = "status", "transfer"
"""What `EntryDeadline.section` says of a status change and of a transfer sent to another unit: R-PER-4
measures each as an update, read where movements are read."""


async def follow_change(
    session: AsyncSession,
    *,
    person: Person,
    section: str,
    change_id: str,
    effective: date,
    entered_at: datetime,
    entered_by: str,
) -> None:
    """Judges a status change or a transfer just recorded against the deadline for an update, and
    counts it; the unit is the person's, whose entry it is."""
    judged = current_policy().judge_change(
        effective, entered_on=day_in_vietnam(entered_at), record_created_on=day_in_vietnam(person.created_at)
    )
    _count_on_commit(session, [(section, HISTORY if judged is None else LATE if judged.late else ON_TIME)])
    if judged is None:
        return
    session.add(
        EntryDeadline(
            entry_id=change_id,
            person_id=person.id,
            unit_id=person.unit_id,
            section=section,
            kind=judged.kind,
            event_date=judged.event_date,
            deadline=judged.deadline,
            late=judged.late,
            entered_at=entered_at,
            entered_on=day_in_vietnam(entered_at),
            entered_by=entered_by,
        )
    )


async def forget(session: AsyncSession, entry_id: str) -> None:
    """A change that did not happen (a status change its decision's cancellation undid, a transfer
    withdrawn or declined) leaves the measure, as a retracted entry does."""
    row = await session.get(EntryDeadline, entry_id)
    if row is not None:
        await session.delete(row)


def _judge(policy: DeadlinePolicy, person: Person, version: RecordEntry, when: _Entered) -> Judgement | None:
    return policy.judge(
        BY_NAME[version.section],
        version.valid_from,
        version.valid_to,
        entered_on=day_in_vietnam(when.at),
        record_created_on=day_in_vietnam(person.created_at),
    )


async def _entered(session: AsyncSession, versions: Sequence[RecordEntry]) -> dict[str, _Entered]:
    """When and by whom each entry was entered: the decision's creation for an entry a decision made
    (it may be applied days later, on its effective date), else its first version's recording."""
    decided = {v.decision_id for v in versions if v.decision_id is not None}
    decisions: dict[str, _Entered] = {}
    if decided:
        query = select(DecisionDocument.id, DecisionDocument.created_at, DecisionDocument.created_by)
        for found in await session.execute(query.where(DecisionDocument.id.in_(decided))):
            decisions[found.id] = _Entered(found.created_at, found.created_by)
    first = [v.entry_id for v in versions if v.version != 1]
    firsts: dict[str, _Entered] = {}
    if first:
        query = select(RecordEntry.entry_id, RecordEntry.recorded_at, RecordEntry.recorded_by)
        for found in await session.execute(query.where(RecordEntry.entry_id.in_(first), RecordEntry.version == 1)):
            firsts[found.entry_id] = _Entered(found.recorded_at, found.recorded_by)
    entered: dict[str, _Entered] = {}
    for v in versions:
        if v.decision_id is not None and v.decision_id in decisions:
            entered[v.entry_id] = decisions[v.decision_id]
        else:
            entered[v.entry_id] = firsts.get(v.entry_id, _Entered(v.recorded_at, v.recorded_by))
    return entered


def _count_on_commit(session: AsyncSession, counted: Sequence[tuple[str, str]]) -> None:
    """Counts the new entries once the unit of work commits; a rolled-back one counts nothing."""
    if not counted:
        return
    sync = session.sync_session
    pending: list[tuple[str, str]] | None = sync.info.get(_PENDING)
    if pending is None:
        pending = sync.info[_PENDING] = []
        event.listen(sync, "after_commit", _commit_counts)
        event.listen(sync, "after_rollback", _drop_counts)
    pending.extend(counted)


def _commit_counts(sync: Session) -> None:
    for section, timeliness in sync.info.pop(_PENDING, ()):
        ENTRIES_RECORDED.labels(section, timeliness).inc()


def _drop_counts(sync: Session) -> None:
    sync.info.pop(_PENDING, None)


# ---- the report --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRequest:
    unit_id: str
    from_date: str
    to_date: str
    include_subtree: bool = False
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True)
class UnitCount:
    unit_id: str
    code: str
    name: str
    entries: int
    late: int


@dataclass(frozen=True)
class LateEntry:
    entry: EntryDeadline
    person_name: str

    def days_late(self) -> int:
        return (self.entry.entered_on - self.entry.deadline).days


@dataclass(frozen=True)
class Report:
    rule: SectorRule
    units: list[UnitCount]
    late_entries: list[LateEntry]
    next_page_token: str

    @property
    def entries(self) -> int:
        return sum(u.entries for u in self.units)

    @property
    def late(self) -> int:
        return sum(u.late for u in self.units)


@dataclass(frozen=True)
class _Checked:
    start: date
    end: date
    limit: int
    after: tuple[date, str] | None


def _check(request: ReportRequest) -> _Checked:
    violations: list[FieldViolation] = []
    days = {}
    for field, value in (("from", request.from_date), ("to", request.to_date)):
        if not value:
            violations.append(FieldViolation(field, "Bắt buộc: ngày theo dạng YYYY-MM-DD"))
        elif refused := control_violation(field, value):
            violations.append(refused)
        else:
            days[field] = rules.iso_date(value, violations, field, "Ngày phải theo dạng YYYY-MM-DD")
    start, end = days.get("from"), days.get("to")
    if start is not None and end is not None:
        if end < start:
            violations.append(FieldViolation("to", "Ngày kết thúc trước ngày bắt đầu"))
        elif (end - start).days + 1 > MAX_PERIOD_DAYS:
            violations.append(FieldViolation("to", f"Kỳ dài nhất {MAX_PERIOD_DAYS} ngày"))
    if not 0 <= request.page_size <= MAX_PAGE_SIZE:
        violations.append(FieldViolation("page_size", f"Từ 1 đến {MAX_PAGE_SIZE}"))
    after = _page_token(request.page_token, violations)
    if violations or start is None or end is None:
        raise InvalidArgument(violations)
    return _Checked(start, end, request.page_size or DEFAULT_PAGE_SIZE, after)


def _page_token(token: str, violations: list[FieldViolation]) -> tuple[date, str] | None:
    if not token:
        return None
    day, _, entry_id = token.partition("_")
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        parsed = None
    if parsed is None or not entry_id or len(entry_id) > 36 or not entry_id.isascii():
        violations.append(FieldViolation("page_token", "Không phải mã trang do hệ thống trả về"))
        return None
    return parsed, entry_id


def _readable(actor: Principal, delegations: Sequence[Delegation]) -> ColumnElement[bool]:
    """The entries of the sections the caller reads, each where it reads it (the stored unit's path,
    or the person a delegation names)."""
    by_authz: dict[Section, list[str]] = {}
    for section in SECTIONS:
        if section.dated:
            by_authz.setdefault(section.authz, []).append(section.name)
    by_authz.setdefault(Section.MOVEMENT, []).extend((STATUS_SECTION, TRANSFER_SECTION))
    if all(authz.scope_for(actor, s, Action.READ) is Scope.SECTOR for s in by_authz):
        return true()
    conditions = [
        and_(
            EntryDeadline.section.in_(names),
            authz.sql_scope(
                actor,
                s,
                Action.READ,
                Unit.path,
                person_id_column=EntryDeadline.person_id,
                delegations=delegations,
            ),
        )
        for s, names in by_authz.items()
        if authz.may_at_all(actor, s, Action.READ, delegations)
    ]
    return or_(*conditions) if conditions else false()


def _read_now(actor: Principal, delegations: Sequence[Delegation], path: Any) -> ColumnElement[bool]:
    if not authz.may_at_all(actor, Section.IDENTITY, Action.READ, delegations):
        return false()
    return authz.sql_scope(
        actor, Section.IDENTITY, Action.READ, path, person_id_column=Person.id, delegations=delegations
    )


async def report(
    session: AsyncSession, *, actor: Principal, delegations: Sequence[Delegation] = (), request: ReportRequest
) -> Report:
    checked = _check(request)
    unit = await session.get(Unit, request.unit_id) if request.unit_id else None
    if unit is None:
        raise NotFound(f"Không có đơn vị {request.unit_id!r}")
    authz.require(actor, Section.REPORTS, Action.READ, unit.path, delegations=delegations)
    where: list[ColumnElement[bool]] = [
        in_subtree(unit.path) if request.include_subtree else Unit.id == unit.id,
        EntryDeadline.entered_on >= checked.start,
        EntryDeadline.entered_on <= checked.end,
        _readable(actor, delegations),
    ]
    counts = (
        select(
            Unit.id,
            Unit.code,
            Unit.name,
            func.count().label("entries"),
            func.count().filter(EntryDeadline.late).label("late"),
        )
        .join(Unit, Unit.id == EntryDeadline.unit_id)
        .where(*where)
        .group_by(Unit.id, Unit.code, Unit.name, Unit.path)
        .order_by(Unit.path)
    )
    units = [UnitCount(r.id, r.code, r.name, r.entries, r.late) for r in await session.execute(counts)]
    # The late entries are named only of people the caller reads where they are now; the counts above
    # are the units' own, whoever has left them since.
    now = aliased(Unit, name="unit_now")
    page = (
        select(EntryDeadline, Person.full_name)
        .join(Unit, Unit.id == EntryDeadline.unit_id)
        .join(Person, Person.id == EntryDeadline.person_id)
        .join(now, now.id == Person.unit_id)
        .where(*where, EntryDeadline.late, _read_now(actor, delegations, now.path))
    )
    if checked.after is not None:
        page = page.where(tuple_(EntryDeadline.entered_on, EntryDeadline.entry_id) > tuple_(*checked.after))
    rows = list(
        await session.execute(page.order_by(EntryDeadline.entered_on, EntryDeadline.entry_id).limit(checked.limit + 1))
    )
    found = [LateEntry(r.EntryDeadline, r.full_name) for r in rows[: checked.limit]]
    last = found[-1].entry if len(rows) > checked.limit else None
    token = f"{last.entered_on.isoformat()}_{last.entry_id}" if last is not None else ""
    return Report(current_policy().rule, units, found, token)
