"""A statutory form for a unit's subtree as of a day, and the people each of its cells counts, from
the serving generation of the statistics read-model.

Rows: the whole subtree (the total), each unit directly below the unit with everything below it,
and the people directly in the unit itself; every unit of the subtree falls in exactly one of the
last two kinds, so the total is their sum. The tree is today's (as personnel's search reads a
subtree as of a day); the people are those in service on the day in a unit of it."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from qlcb_common import authz
from qlcb_common import personnel_rules as rules
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.errors import FieldViolation, InvalidArgument, NotFound, Unavailable
from qlcb_common.limits import MAX_STATISTICS_PEOPLE_PAGE
from qlcb_common.record_sections import BY_NAME
from qlcb_common.text import control_violation
from qlcb_reports.headcount.models import UnitNode, in_subtree
from qlcb_reports.statistics import forms as layouts
from qlcb_reports.statistics import profiles
from qlcb_reports.statistics.forms import Column, Form
from qlcb_reports.statistics.models import (
    BEGINNING,
    OPEN_END,
    StatCode,
    StatFact,
    StatGeneration,
    StatPerson,
    StatQuota,
)
from qlcb_reports.statistics.people_then import UNIT_THEN, in_service, personal
from qlcb_reports.statistics.projection import (
    ALLOWANCE,
    CATALOG_OF,
    DISCIPLINE,
    ENTRY_FACTS,
    POST,
    RANK,
    RECRUITED,
    REWARD,
    STATUS,
    UNIT,
)

TOTAL, OWN = "total", "own"
MAX_PAGE_SIZE = MAX_STATISTICS_PEOPLE_PAGE


@dataclass(frozen=True)
class Row:
    key: str
    """"total", "own", or the id of a unit directly below; in a list form, the person's id."""
    label: str
    unit_id: str
    cells: tuple[int | str | None, ...]
    """In the form's column order: counts (None for a quota nobody assigned), or in a list form the
    texts of one person (None where the person has nothing to print)."""


@dataclass(frozen=True)
class Filled:
    form: Form
    unit: UnitNode
    as_of: date
    generation: int
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Listed:
    person: StatPerson
    unit_id: str


@dataclass(frozen=True)
class PeoplePage:
    people: list[Listed]
    total: int
    form: Form
    unit: UnitNode
    as_of: date
    page: int


def form_of(code: str) -> Form:
    found = layouts.forms().get(code.strip().upper())
    if found is None:
        known = ", ".join(sorted(layouts.forms()))
        raise NotFound(f"Không có biểu mẫu thống kê {code!r}; các biểu mẫu: {known}")
    return found


def day_of(as_of: str, founded: date, today: date) -> date:
    """The report's day: today when empty; never after today, nor before the sector existed."""
    if not as_of:
        return today
    violations: list[FieldViolation] = []
    if refused := control_violation("as_of", as_of):
        raise InvalidArgument([refused])
    day = rules.iso_date(as_of, violations, "as_of", "Ngày phải theo dạng YYYY-MM-DD")
    if day is None:
        raise InvalidArgument(violations)
    if day > today:
        raise InvalidArgument.single("as_of", f"Ngày {day.isoformat()} ở sau hôm nay ({today.isoformat()})")
    if day < founded:
        raise InvalidArgument.single(
            "as_of", f"Ngày {day.isoformat()} ở trước khi ngành được thành lập ({founded.isoformat()})"
        )
    return day


async def serving(session: AsyncSession) -> int:
    generation = await session.scalar(select(StatGeneration.id).where(StatGeneration.state == "serving"))
    if generation is None:
        raise Unavailable("Số liệu thống kê chưa sẵn sàng")
    return generation


async def _unit(
    session: AsyncSession, actor: Principal, delegations: Sequence[Delegation], unit_id: str, day: date
) -> UnitNode:
    """The unit asked, inside the caller's scope and established by `day`."""
    if not unit_id:
        raise InvalidArgument.single("unit_id", "Phải nêu đơn vị")
    node = await session.get(UnitNode, unit_id) if not control_violation("unit_id", unit_id) else None
    if node is None:
        raise NotFound(f"Chưa có số liệu của đơn vị {unit_id!r}")
    authz.require(actor, Section.REPORTS, Action.READ, node.path, delegations=delegations)
    if not _established(node, day):
        raise InvalidArgument.single(
            "as_of",
            f"Ngày {day.isoformat()} ở trước khi {node.name} được thành lập ({node.established_on:%Y-%m-%d})",
        )
    return node


def _established(node: UnitNode, day: date) -> bool:
    """Whether the unit existed on `day`: one taken in without an establishing decision always did."""
    return node.established_on is None or node.established_on <= day


async def fill(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    form_code: str,
    unit_id: str,
    as_of: str,
    founded: date,
    today: date,
) -> Filled:
    form = form_of(form_code)
    day = day_of(as_of, founded, today)
    unit = await _unit(session, actor, delegations, unit_id, day)
    generation = await serving(session)
    if form.kind == "list":
        listed = await _listed(session, generation, day, unit, form, _Reader(actor, delegations))
        return Filled(form, unit, day, generation, tuple(listed))
    subtree = {
        n.unit_id: n.path
        for n in await session.scalars(select(UnitNode).where(in_subtree(unit.path), *_counted_units(form)))
    }
    below = [
        n
        for n in await session.scalars(
            select(UnitNode)
            .where(
                UnitNode.parent_id == unit.unit_id, or_(UnitNode.dissolved_on.is_(None), UnitNode.dissolved_on >= day)
            )
            .order_by(UnitNode.path)
        )
        if n.unit_id in subtree or any(_within(path, n.path) for path in subtree.values())
    ]
    row_of = {uid: _row_key(path, unit, below) for uid, path in subtree.items()}

    people = [c for c in form.columns if c.count in ("people", "events")]
    if form.kind == "events":
        counted = await _events(session, generation, day, list(subtree), people)
    else:
        counted = await profiles.counts(session, generation, day, list(subtree), people)
    quotas = await _quotas(session, generation, day, list(subtree))
    sums: dict[str, list[int]] = defaultdict(lambda: [0] * len(people))
    for uid, counts in counted.items():
        row = sums[row_of[uid]]
        for i, n in enumerate(counts):
            row[i] += n
    child_quotas = {n.unit_id: _quota(n, subtree, quotas) for n in below}
    quota_of = {
        TOTAL: _quota(unit, subtree, quotas),
        OWN: None
        if quotas.get(unit.unit_id) is None
        else quotas[unit.unit_id] - sum(q or 0 for q in child_quotas.values()),
        **child_quotas,
    }
    # A unit established after the day has no row, unless something dated before its establishment
    # counts there (the rows must still add up to the total).
    below = [n for n in below if _established(n, day) or any(sums[n.unit_id]) or child_quotas[n.unit_id] is not None]
    keys = [TOTAL, *(n.unit_id for n in below), *([OWN] if form.counts_in(unit.kind) else [])]
    labels = {TOTAL: "Tổng số", OWN: f"Tại {unit.name}", **{n.unit_id: n.name for n in below}}
    units = {TOTAL: unit.unit_id, OWN: unit.unit_id, **{n.unit_id: n.unit_id for n in below}}
    total = [sum(sums[k][i] for k in keys[1:]) for i in range(len(people))]
    rows = []
    for key in keys:
        values = iter(total if key == TOTAL else sums[key])
        cells = tuple(quota_of[key] if c.count == "quota" else next(values) for c in form.columns)
        rows.append(Row(key, labels[key], units[key], cells))
    return Filled(form, unit, day, generation, tuple(rows))


def _within(path: str, top: str) -> bool:
    return path == top or path.startswith(top + "/")


def _row_key(path: str, unit: UnitNode, below: Sequence[UnitNode]) -> str:
    for node in below:
        if _within(path, node.path):
            return node.unit_id
    return OWN


def _counted_units(form: Form) -> list[ColumnElement[bool]]:
    """The conditions on a `UnitNode` whose people the form counts (BM02 a commune's alone)."""
    where: list[ColumnElement[bool]] = []
    if form.unit_kinds:
        where.append(UnitNode.kind.in_(form.unit_kinds))
    if form.except_unit_kinds:
        where.append(UnitNode.kind.not_in(form.except_unit_kinds))
    return where


def _quota(top: UnitNode, counted: dict[str, str], quotas: dict[str, int]) -> int | None:
    """The quota of the units the form counts in the subtree at `top`: its own when it is one of
    them, else the sum of the highest of them below it (each quota covers its unit's subtree); None
    when none has one."""
    if top.unit_id in counted:
        return quotas.get(top.unit_id)
    paths = {path: uid for uid, path in counted.items() if _within(path, top.path)}
    highest = [uid for path, uid in paths.items() if not any(path[:i] in paths for i, c in enumerate(path) if c == "/")]
    given = [quotas[uid] for uid in highest if uid in quotas]
    return sum(given) if given else None


def _held(generation: int, day: date, fact: str, kind: str | None, groups: Sequence[str]) -> ColumnElement[bool]:
    held = aliased(StatFact, name="held")
    code = aliased(StatCode, name="code")
    where = [
        held.generation == generation,
        held.person_id == StatPerson.person_id,
        held.fact == fact,
        held.valid_from <= day,
        held.valid_to >= day,
        code.stat_group.in_(list(groups)),
    ]
    if kind is not None:
        where.append(code.kind == kind)
    on = and_(code.generation == generation, code.catalog == CATALOG_OF[fact], code.code == held.value)
    return select(held.person_id).join(code, on).where(*where).exists()


def condition(column: Column, generation: int, day: date) -> ColumnElement[bool]:
    """Who the column counts among the people in service (true for the headcount)."""
    where = personal(column, day, StatPerson.sex, StatPerson.date_of_birth)
    if column.fact is not None:
        where.append(_held(generation, day, column.fact, column.kind, column.groups))
        if column.unless:
            where.append(not_(_held(generation, day, column.fact, column.kind, column.unless)))
    return and_(*where) if where else StatPerson.person_id.is_not(None)


async def _quotas(session: AsyncSession, generation: int, day: date, units: Sequence[str]) -> dict[str, int]:
    """Each unit's quota for the day's year, as the last change on or before the day set it."""
    rows = await session.execute(
        select(StatQuota.unit_id, StatQuota.quota)
        .where(
            StatQuota.generation == generation,
            StatQuota.year == day.year,
            StatQuota.effective_date <= day,
            StatQuota.unit_id.in_(list(units)),
        )
        .order_by(StatQuota.effective_date)
    )
    return {unit_id: quota for unit_id, quota in rows}


async def people(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    form_code: str,
    unit_id: str,
    as_of: str,
    row: str,
    column: str,
    page: int,
    page_size: int,
    founded: date,
    today: date,
) -> PeoplePage:
    """The people one cell counts, in staff-list order, a page at a time: only those whose record the
    caller may read (the scope of the particulars is a condition of the query)."""
    form = form_of(form_code)
    day = day_of(as_of, founded, today)
    violations = []
    chosen = form.column(column)
    if chosen is None or chosen.count not in ("people", "events"):
        violations.append(FieldViolation("column", f"Biểu mẫu {form.code} không có cột đếm người {column!r}"))
    if page < 0:
        violations.append(FieldViolation("page", "Trang phải từ 1 trở lên"))
    if not 0 <= page_size <= MAX_PAGE_SIZE:
        violations.append(FieldViolation("page_size", f"Số dòng mỗi trang phải từ 1 đến {MAX_PAGE_SIZE}"))
    if violations:
        raise InvalidArgument(violations)
    assert chosen is not None
    unit = await _unit(session, actor, delegations, unit_id, day)
    generation = await serving(session)
    if row == TOTAL:
        units = select(UnitNode.unit_id).where(in_subtree(unit.path))
    elif row == OWN:
        units = select(UnitNode.unit_id).where(UnitNode.unit_id == unit.unit_id)
    else:
        child = await session.get(UnitNode, row) if row and not control_violation("row", row) else None
        if child is None or child.parent_id != unit.unit_id:
            raise InvalidArgument.single(
                "row", f"Không phải dòng của biểu: {row!r} (total, own hoặc đơn vị trực thuộc)"
            )
        if not _established(child, day):
            raise InvalidArgument.single(
                "row", f"{child.name} được thành lập ngày {child.established_on:%Y-%m-%d}, sau ngày {day.isoformat()}"
            )
        units = select(UnitNode.unit_id).where(in_subtree(child.path))
    units = units.where(*_counted_units(form))
    then = aliased(UnitNode, name="unit_path_then")
    reader = _Reader(actor, delegations)
    sections = {Section.IDENTITY, *sections_counted(chosen)}
    scope = and_(*(c for s in sections for c in (reader.then(then.path, s), *reader.now(generation, s))))
    if chosen.count == "events":
        # Each event the cell counts, with the person's unit then, whether in service on the day or not.
        counted = event_rows(generation, day, units, chosen).subquery("counted")
        base = (
            select(StatPerson, counted.c.unit_id)
            .join(counted, counted.c.person_id == StatPerson.person_id)
            .join(then, then.unit_id == counted.c.unit_id)
            .where(StatPerson.generation == generation, scope)
        )
    else:
        where = [*in_service(generation, day, units.scalar_subquery()), condition(chosen, generation, day), scope]
        base = (
            select(StatPerson, UNIT_THEN.value)
            .join(UNIT_THEN, UNIT_THEN.person_id == StatPerson.person_id)
            .join(then, then.unit_id == UNIT_THEN.value)
            .where(*where)
        )
    total = int(await session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    size = page_size or 100
    offset = (max(page, 1) - 1) * size
    rows = await session.execute(base.order_by(StatPerson.name_sort, StatPerson.person_id).offset(offset).limit(size))
    return PeoplePage([Listed(person, unit_id) for person, unit_id in rows], total, form, unit, day, max(page, 1))


@dataclass(frozen=True)
class _Listed:
    """One person of a list form, as the query gives them: plain values, not ORM objects (a list
    of the whole sector is tens of thousands of people, each with several facts)."""

    person_id: str
    personal_id: str
    full_name: str
    date_of_birth: date
    sex: str
    unit_id: str
    unit_name: str
    unit_path: str
    unit_path_now: str | None


@dataclass(frozen=True)
class _Held:
    value: str
    detail: str


@dataclass(frozen=True)
class _Reader:
    """Whose records, and which of their sections, the caller reads: a form's people are listed, and
    their particulars printed, only as the caller would find them through personnel, in their unit
    of the day asked and in their unit now (the last one they were placed in, as personnel keeps it:
    a transfer accepted for a later day has moved them already)."""

    actor: Principal
    delegations: Sequence[Delegation]

    def then(self, path: Any, section: Section = Section.IDENTITY) -> ColumnElement[bool]:
        """The people whose `section` the caller reads in their unit of the day (`path`)."""
        return authz.sql_scope(
            self.actor, section, Action.READ, path, person_id_column=StatPerson.person_id, delegations=self.delegations
        )

    def now(self, generation: int, section: Section = Section.IDENTITY) -> list[ColumnElement[bool]]:
        """The people whose `section` the caller reads in their unit now (none for a sector-wide
        reader)."""
        if authz.scope_for(self.actor, section, Action.READ) is authz.Scope.SECTOR:
            return []
        now, placed, current = _now(generation)
        scope = authz.sql_scope(
            self.actor, section, Action.READ, now.path, person_id_column=placed.person_id, delegations=self.delegations
        )
        placed_in_scope = select(placed.person_id).join(now, now.unit_id == placed.value).where(*current, scope)
        return [StatPerson.person_id.in_(placed_in_scope)]

    def reads(self, section: Section, person: _Listed) -> bool:
        """Whether the caller reads `section` of the person in their unit of the day and now."""
        ref = authz.RecordRef(person.person_id, person.personal_id)
        return all(
            authz.permits(self.actor, section, Action.READ, path, person=ref, delegations=self.delegations)
            for path in {person.unit_path, person.unit_path_now or person.unit_path}
        )


def _now(generation: int) -> tuple[Any, Any, list[ColumnElement[bool]]]:
    """A person's unit now (aliased `UnitNode`), the placement that puts them there (aliased
    `StatFact`) and the conditions that make it the open one: one per person, the placement no later
    one has ended."""
    now = aliased(UnitNode, name="unit_now")
    placed = aliased(StatFact, name="placed_now")
    return now, placed, [placed.generation == generation, placed.fact == UNIT, placed.valid_to == OPEN_END]


def sections_counted(column: Column) -> frozenset[Section]:
    """The record sections a column counts people by: its drill-down names them by it, so a caller
    who does not read one of them there may not list them (ADR 0045)."""
    kind = column.event.partition(":")[0]
    if kind in ("transferred_in", "transferred_out", "status"):
        return frozenset({Section.MOVEMENT})
    fact = EVENT_FACTS[kind] if kind else column.fact
    return frozenset(BY_NAME[name].authz for name, gives in ENTRY_FACTS.items() if any(f == fact for f, _ in gives))


SECTION_OF_SOURCE = {
    "name": Section.IDENTITY,
    "born": Section.IDENTITY,
    "unit": Section.IDENTITY,
    "post": Section.WORK_HISTORY,
    "rank": Section.SALARY,
    "rank_since": Section.SALARY,
    "salary": Section.SALARY,
    "allowance": Section.SALARY,
}
"""The record section a list form's column prints from (its `source` before any ':')."""


async def _listed(
    session: AsyncSession, generation: int, day: date, unit: UnitNode, form: Form, reader: _Reader
) -> list[Row]:
    """A row per person in service on the day in the subtree whose record the caller reads, by unit (in
    the tree's order) then in staff-list order: what each column prints of them, blank where it
    prints a section of the record the caller does not read."""
    then = aliased(UnitNode, name="unit_then_node")
    units = select(UnitNode.unit_id).where(in_subtree(unit.path), *_counted_units(form)).scalar_subquery()
    readable = [reader.then(then.path), *reader.now(generation)]
    now, placed, current = _now(generation)
    found = await session.execute(
        select(
            StatPerson.person_id,
            StatPerson.personal_id,
            StatPerson.full_name,
            StatPerson.date_of_birth,
            StatPerson.sex,
            then.unit_id,
            then.name,
            then.path,
            now.path,
        )
        .join(UNIT_THEN, UNIT_THEN.person_id == StatPerson.person_id)
        .join(then, then.unit_id == UNIT_THEN.value)
        .outerjoin(placed, and_(placed.person_id == StatPerson.person_id, *current))
        .outerjoin(now, now.unit_id == placed.value)
        .where(*in_service(generation, day, units), *readable)
        .order_by(then.path, StatPerson.name_sort, StatPerson.person_id)
    )
    people = [_Listed(*row) for row in found]
    held: dict[str, dict[str, _Held]] = defaultdict(dict)
    since: dict[tuple[str, str], date] = {}
    # The listed people's facts in one query over the same conditions, not a query per thousand ids:
    # PostgreSQL read the whole table for each thousand when they were a large share of the people.
    listed = (
        select(UNIT_THEN.person_id)
        .join(StatPerson, UNIT_THEN.person_id == StatPerson.person_id)
        .join(then, then.unit_id == UNIT_THEN.value)
        .where(*readable)
    )
    facts = await session.execute(
        select(StatFact.person_id, StatFact.fact, StatFact.value, StatFact.detail, StatFact.valid_from)
        .where(
            StatFact.generation == generation,
            StatFact.person_id.in_(listed.where(*in_service(generation, day, units))),
            StatFact.fact.in_([RANK, POST, ALLOWANCE]),
            StatFact.valid_from <= day,
        )
        .order_by(StatFact.valid_from)
        .add_columns(StatFact.valid_to >= day)
    )
    for person_id, fact, value, detail, valid_from, current in facts:
        if fact == RANK:
            since.setdefault((person_id, value), valid_from)
        if current:
            key = f"{ALLOWANCE}:{value}" if fact == ALLOWANCE else fact
            held[person_id][key] = _Held(value, detail)
    sections = [SECTION_OF_SOURCE[c.source.partition(":")[0]] for c in form.columns]
    rows = []
    for person in people:
        read = {section: reader.reads(section, person) for section in set(sections) - {Section.IDENTITY}}
        cells = tuple(
            _printed(c, person, held[person.person_id], since) if read.get(section, True) else None
            for c, section in zip(form.columns, sections, strict=True)
        )
        rows.append(Row(person.person_id, person.full_name, person.unit_id, cells))
    return rows


def _printed(column: Column, person: _Listed, held: dict[str, _Held], since: dict[tuple[str, str], date]) -> str | None:
    source, _, part = column.source.partition(":")
    rank = held.get(RANK)
    if source == "name":
        return person.full_name
    if source == "born":
        return person.date_of_birth.isoformat() if column.sex in (None, person.sex) else None
    if source == "unit":
        return person.unit_name
    if source == "post":
        post = held.get(POST)
        return str(json.loads(post.detail).get("post") or "") or None if post is not None else None
    if source == "rank":
        return rank.value if rank is not None else None
    if source == "rank_since":
        return since[person.person_id, rank.value].isoformat() if rank is not None else None
    if source == "salary":
        value = json.loads(rank.detail).get(part) if rank is not None else None
        return None if value is None else str(value)
    allowance = held.get(f"{ALLOWANCE}:{part}")
    if allowance is None:
        return None
    values = json.loads(allowance.detail)
    value = values.get("coefficient") or values.get("percent")
    return None if value is None else str(value)


EVENT_FACTS = {"recruited": RECRUITED, "appointed": POST, "discipline": DISCIPLINE, "reward": REWARD}


async def _events(
    session: AsyncSession, generation: int, day: date, units: Sequence[str], columns: Sequence[Column]
) -> dict[str, list[int]]:
    """Per unit, what each column counts from the first day of the day's year to the day."""
    found: dict[str, list[int]] = defaultdict(lambda: [0] * len(columns))
    for i, column in enumerate(columns):
        counted = event_rows(generation, day, units, column).subquery("counted")
        query = select(counted.c.unit_id, func.count()).group_by(counted.c.unit_id)
        for unit_id, n in await session.execute(query):
            found[unit_id][i] = int(n)
    return found


def event_rows(generation: int, day: date, units: Sequence[str] | Select[str], column: Column) -> Select[str, str]:
    """(unit_id, person_id), one row for each event an events column counts in one of `units` from
    the first day of the day's year to the day: a dated fact in the unit the person was in on its
    date, a move in the unit moved into or out of. What the cell counts, and whom its drill-down
    lists (someone moved twice is counted, and listed, twice)."""
    first = date(day.year, 1, 1)
    event = aliased(StatFact, name="event")
    if column.event in ("transferred_in", "transferred_out"):
        moved_in = column.event == "transferred_in"
        on = event.valid_from if moved_in else event.valid_to
        return select(event.value.label("unit_id"), event.person_id.label("person_id")).where(
            event.generation == generation,
            event.fact == UNIT,
            on >= first,
            on <= day,
            # A stay that a later decision replaced before it began never happened.
            event.valid_to >= event.valid_from,
            event.valid_from > BEGINNING if moved_in else event.valid_to < OPEN_END,
            event.value.in_(units),
        )
    fact, _, value = column.event.partition(":")
    where = [event.fact == (STATUS if fact == "status" else EVENT_FACTS[fact])]
    if value:
        where.append(event.value == value)
    unit_then = aliased(StatFact, name="unit_of_event")
    return (
        select(unit_then.value.label("unit_id"), event.person_id.label("person_id"))
        .select_from(event)
        .join(
            unit_then,
            and_(
                unit_then.generation == generation,
                unit_then.person_id == event.person_id,
                unit_then.fact == UNIT,
                unit_then.valid_from <= event.valid_from,
                unit_then.valid_to >= event.valid_from,
            ),
        )
        .where(
            event.generation == generation,
            event.valid_from >= first,
            event.valid_from <= day,
            unit_then.value.in_(units),
            *where,
        )
    )
