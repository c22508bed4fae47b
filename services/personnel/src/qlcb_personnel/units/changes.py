"""Decisions that change the unit tree (R-ORG-2): rename, move, dissolve, merge, split.

Each is one unit of work: it records a dated history row per unit it changes and publishes
the fine-grained events consumers act on (unit.established, unit.moved, person.transferred,
unit.dissolved), then, for a merger or a split, a summary event of the decision as a whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import events_pb2
from qlcb_common import authz
from qlcb_common import personnel_rules as rules
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.errors import AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.limits import MAX_MERGE_SOURCES, MAX_SPLIT_PERSONS, MAX_SPLIT_SUB_UNITS, MAX_SPLIT_SUCCESSORS
from qlcb_common.tiers import in_subtree
from qlcb_personnel.decisions import Decision
from qlcb_personnel.persons.moves import active_persons, move_person
from qlcb_personnel.units import history
from qlcb_personnel.units.models import Unit
from qlcb_personnel.units.service import check_new_unit, create, to_proto


@dataclass(frozen=True)
class Context:
    """What every change needs besides its own fields."""

    outbox: Outbox
    actor: Principal
    delegations: Sequence[Delegation]

    def require(self, action: Action, path: str) -> None:
        authz.require(self.actor, Section.UNIT, action, path, delegations=self.delegations)

    def require_moving_staff(self, *paths: str) -> None:
        """A merger or split also moves people: that writes their work history at both ends."""
        for path in paths:
            authz.require(self.actor, Section.MOVEMENT, Action.UPDATE, path, delegations=self.delegations)


async def _the_unit(session: AsyncSession, unit_id: str) -> Unit:
    unit = await session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        raise NotFound(f"Không có đơn vị {unit_id!r}")
    return unit


def _capped(*lists: tuple[str, Sequence[object], int]) -> None:
    """Refuses a list longer than its cap, before anything is loaded for its items."""
    violations = [
        FieldViolation(field, f"Tối đa {cap} mục, nhận {len(items)}") for field, items, cap in lists if len(items) > cap
    ]
    if violations:
        raise InvalidArgument(violations)


def _not_root(unit: Unit, action: str) -> None:
    if unit.parent_id is None:
        raise FailedPrecondition(f"Không thể {action} đơn vị gốc {unit.code}")


async def _children(session: AsyncSession, unit: Unit) -> list[Unit]:
    """Sub-units still in existence, by code."""
    children = list((await session.scalars(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.code))).all())
    gone = await history.dissolved_on(session, [c.id for c in children])
    return [c for c in children if c.id not in gone]


async def rename_unit(
    session: AsyncSession, ctx: Context, *, unit_id: str, name: str, effective_date: str, decision: str
) -> Unit:
    unit = await _the_unit(session, unit_id)
    ctx.require(Action.UPDATE, unit.path)
    violations: list[FieldViolation] = []
    name = rules.unit_name(name, violations, "name")
    decided = history.parse_unit_decision(effective_date, decision, violations)
    if violations or decided is None:
        raise InvalidArgument(violations)
    await history.require_existing(session, [unit], "đổi tên")
    await history.require_in_order(session, unit, decided)
    if name == unit.name:
        raise InvalidArgument.single("name", "Tên mới trùng tên hiện tại")
    previous, unit.name = unit.name, name
    history.record(session, unit, "renamed", decided, ctx.actor)
    await ctx.outbox.add(
        session,
        subject=subjects.PERSONNEL_UNIT_RENAMED,
        payload=events_pb2.UnitRenamed(
            unit=to_proto(unit),
            previous_name=previous,
            effective_date=decided.effective.isoformat(),
            decision=decided.number,
        ),
        actor=ctx.actor.subject,
    )
    return unit


async def _reparent(session: AsyncSession, ctx: Context, unit: Unit, parent: Unit, decided: Decision) -> None:
    """Puts `unit` under `parent`; the paths of the unit and of everything below it change."""
    old_path, new_path = unit.path, f"{parent.path}/{unit.code}"
    below = list(
        (await session.scalars(select(Unit).where(Unit.path.startswith(old_path + "/", autoescape=True)))).all()
    )
    unit.parent_id = parent.id
    for moved in [unit, *sorted(below, key=lambda u: u.path)]:
        previous = moved.path
        moved.path = new_path + previous[len(old_path) :]
        history.record(session, moved, "moved" if moved is unit else "moved_with_parent", decided, ctx.actor)
        await session.flush()
        await ctx.outbox.add(
            session,
            subject=subjects.PERSONNEL_UNIT_MOVED,
            payload=events_pb2.UnitMoved(
                unit=to_proto(moved),
                previous_path=previous,
                effective_date=decided.effective.isoformat(),
                decision=decided.number,
            ),
            actor=ctx.actor.subject,
        )


async def move_unit(
    session: AsyncSession, ctx: Context, *, unit_id: str, new_parent_id: str, effective_date: str, decision: str
) -> Unit:
    unit = await _the_unit(session, unit_id)
    ctx.require(Action.UPDATE, unit.path)
    _not_root(unit, "chuyển")
    violations: list[FieldViolation] = []
    parent = await session.get(Unit, new_parent_id) if new_parent_id else None
    if parent is None:
        violations.append(FieldViolation("new_parent_id", "Đơn vị cấp trên mới không tồn tại"))
    elif in_subtree(parent.path, unit.path):
        violations.append(
            FieldViolation("new_parent_id", "Không được là chính đơn vị này hoặc một đơn vị trực thuộc nó")
        )
    elif parent.id == unit.parent_id:
        violations.append(FieldViolation("new_parent_id", "Đã là đơn vị cấp trên hiện tại"))
    decided = history.parse_unit_decision(effective_date, decision, violations)
    if violations or parent is None or decided is None:
        raise InvalidArgument(violations)
    ctx.require(Action.UPDATE, f"{parent.path}/{unit.code}")
    await history.require_existing(session, [unit, parent], "chuyển đơn vị")
    await history.require_in_order(session, unit, decided)
    await _reparent(session, ctx, unit, parent, decided)
    return unit


async def _dissolve(session: AsyncSession, ctx: Context, unit: Unit, decided: Decision) -> None:
    history.record(session, unit, history.DISSOLVED, decided, ctx.actor)
    await session.flush()
    await ctx.outbox.add(
        session,
        subject=subjects.PERSONNEL_UNIT_DISSOLVED,
        payload=events_pb2.UnitDissolved(
            unit=to_proto(unit, decided.effective),
            effective_date=decided.effective.isoformat(),
            decision=decided.number,
        ),
        actor=ctx.actor.subject,
    )


async def dissolve_unit(
    session: AsyncSession, ctx: Context, *, unit_id: str, effective_date: str, decision: str
) -> Unit:
    unit = await _the_unit(session, unit_id)
    ctx.require(Action.UPDATE, unit.path)
    _not_root(unit, "giải thể")
    violations: list[FieldViolation] = []
    decided = history.parse_unit_decision(effective_date, decision, violations)
    if violations or decided is None:
        raise InvalidArgument(violations)
    await history.require_existing(session, [unit], "giải thể")
    await history.require_in_order(session, unit, decided)
    if children := await _children(session, unit):
        codes = ", ".join(c.code for c in children)
        raise FailedPrecondition(f"Đơn vị còn {len(children)} đơn vị trực thuộc ({codes}): chuyển hoặc giải thể trước")
    if staff := await active_persons(session, unit.id):
        raise FailedPrecondition(f"Đơn vị còn {len(staff)} cán bộ đang công tác: điều động trước khi giải thể")
    await _dissolve(session, ctx, unit, decided)
    return unit


async def merge_units(
    session: AsyncSession,
    ctx: Context,
    *,
    source_unit_ids: Sequence[str],
    target_unit_id: str,
    effective_date: str,
    decision: str,
) -> tuple[Unit, list[Unit], int]:
    """Returns the target, the sources (now dissolved) and how many persons moved."""
    _capped(("source_unit_ids", source_unit_ids, MAX_MERGE_SOURCES))
    violations: list[FieldViolation] = []
    target = await session.get(Unit, target_unit_id) if target_unit_id else None
    if target is None:
        violations.append(FieldViolation("target_unit_id", "Đơn vị nhận sáp nhập không tồn tại"))
    sources: list[Unit] = []
    if not source_unit_ids:
        violations.append(FieldViolation("source_unit_ids", "Cần ít nhất một đơn vị bị sáp nhập"))
    for index, source_id in enumerate(dict.fromkeys(source_unit_ids)):
        field = f"source_unit_ids[{index}]"
        source = await session.get(Unit, source_id) if source_id else None
        if source is None:
            violations.append(FieldViolation(field, f"Không có đơn vị {source_id!r}"))
        elif source.parent_id is None:
            violations.append(FieldViolation(field, "Không sáp nhập được đơn vị gốc"))
        elif target is not None and in_subtree(target.path, source.path):
            violations.append(FieldViolation(field, "Đơn vị nhận không được là đơn vị này hay nằm trong nó"))
        elif any(in_subtree(source.path, s.path) or in_subtree(s.path, source.path) for s in sources):
            violations.append(FieldViolation(field, "Các đơn vị bị sáp nhập không được lồng nhau"))
        else:
            sources.append(source)
    decided = history.parse_unit_decision(effective_date, decision, violations)
    if violations or target is None or decided is None:
        raise InvalidArgument(violations)
    ctx.require(Action.UPDATE, target.path)
    for source in sources:
        ctx.require(Action.UPDATE, source.path)
    ctx.require_moving_staff(target.path, *(source.path for source in sources))
    await history.require_existing(session, [target, *sources], "sáp nhập")
    for unit in (target, *sources):
        await history.require_in_order(session, unit, decided)
    moved = 0
    for source in sources:
        for child in await _children(session, source):
            await _reparent(session, ctx, child, target, decided)
        for person in await active_persons(session, source.id):
            await move_person(
                session,
                outbox=ctx.outbox,
                actor=ctx.actor,
                person=person,
                from_unit=source,
                to_unit=target,
                reason=events_pb2.MOVE_REASON_MERGE,
                decided=decided,
            )
            moved += 1
        await _dissolve(session, ctx, source, decided)
    await ctx.outbox.add(
        session,
        subject=subjects.PERSONNEL_UNIT_MERGED,
        payload=events_pb2.UnitsMerged(
            sources=[to_proto(s, decided.effective) for s in sources],
            target=to_proto(target),
            effective_date=decided.effective.isoformat(),
            decision=decided.number,
        ),
        actor=ctx.actor.subject,
    )
    return target, sources, moved


@dataclass(frozen=True)
class Successor:
    code: str
    name: str
    kind: str


def _assignments(
    field: str, pairs: Sequence[tuple[str, str]], expected: dict[str, str], codes: set[str]
) -> tuple[dict[str, str], list[FieldViolation]]:
    """Where each of `expected` (id → label) goes; every one must be assigned exactly once."""
    assigned: dict[str, str] = {}
    violations: list[FieldViolation] = []
    for index, (item_id, code) in enumerate(pairs):
        code = code.strip().upper()
        if item_id not in expected:
            violations.append(FieldViolation(f"{field}[{index}].id", f"{item_id!r} không thuộc đơn vị bị chia tách"))
        elif item_id in assigned:
            violations.append(FieldViolation(f"{field}[{index}].id", f"{expected[item_id]} được phân công hai lần"))
        elif code not in codes:
            violations.append(FieldViolation(f"{field}[{index}].successor_code", f"{code!r} không phải đơn vị mới"))
        else:
            assigned[item_id] = code
    if missing := [label for item_id, label in expected.items() if item_id not in assigned]:
        violations.append(FieldViolation(field, f"Chưa phân công: {', '.join(missing)}"))
    return assigned, violations


async def split_unit(
    session: AsyncSession,
    ctx: Context,
    *,
    unit_id: str,
    successors: Sequence[Successor],
    persons: Sequence[tuple[str, str]],
    sub_units: Sequence[tuple[str, str]],
    effective_date: str,
    decision: str,
) -> tuple[Unit, list[Unit]]:
    _capped(
        ("successors", successors, MAX_SPLIT_SUCCESSORS),
        ("persons", persons, MAX_SPLIT_PERSONS),
        ("sub_units", sub_units, MAX_SPLIT_SUB_UNITS),
    )
    unit = await _the_unit(session, unit_id)
    ctx.require(Action.UPDATE, unit.path)
    _not_root(unit, "chia tách")
    parent = await session.get(Unit, unit.parent_id)
    assert parent is not None
    violations: list[FieldViolation] = []
    if len(successors) < 2:
        violations.append(FieldViolation("successors", "Chia tách thành ít nhất hai đơn vị mới"))
    new_units: list[tuple[str, str, str]] = []
    for index, successor in enumerate(successors):
        code, name = check_new_unit(successor.code, successor.name, successor.kind, f"successors[{index}].", violations)
        if code in {c for c, _, _ in new_units}:
            violations.append(FieldViolation(f"successors[{index}].code", f"Mã {code} lặp lại"))
        new_units.append((code, name, successor.kind))
    codes = {code for code, _, _ in new_units}
    staff = await active_persons(session, unit.id)
    person_to, person_violations = _assignments(
        "persons", persons, {p.id: f"{p.full_name} ({p.staff_number})" for p in staff}, codes
    )
    children = await _children(session, unit)
    child_to, child_violations = _assignments("sub_units", sub_units, {c.id: c.code for c in children}, codes)
    violations += person_violations + child_violations
    decided = history.parse_unit_decision(effective_date, decision, violations)
    if violations or decided is None:
        raise InvalidArgument(violations)
    for code in codes:
        ctx.require(Action.CREATE, f"{parent.path}/{code}")
    if staff:
        ctx.require_moving_staff(unit.path, *(f"{parent.path}/{code}" for code in codes))
    await history.require_existing(session, [unit, parent], "chia tách")
    await history.require_in_order(session, unit, decided)
    taken = list((await session.scalars(select(Unit.code).where(Unit.code.in_(codes)))).all())
    if taken:
        raise AlreadyExists(f"Mã đơn vị {', '.join(sorted(taken))} đã tồn tại")
    created = {
        code: await create(
            session, outbox=ctx.outbox, actor=ctx.actor, parent=parent, code=code, name=name, kind=kind, decided=decided
        )
        for code, name, kind in new_units
    }
    for child in children:
        await _reparent(session, ctx, child, created[child_to[child.id]], decided)
    for person in staff:
        await move_person(
            session,
            outbox=ctx.outbox,
            actor=ctx.actor,
            person=person,
            from_unit=unit,
            to_unit=created[person_to[person.id]],
            reason=events_pb2.MOVE_REASON_SPLIT,
            decided=decided,
        )
    await _dissolve(session, ctx, unit, decided)
    await ctx.outbox.add(
        session,
        subject=subjects.PERSONNEL_UNIT_SPLIT,
        payload=events_pb2.UnitSplit(
            source=to_proto(unit, decided.effective),
            successors=[to_proto(u) for u in created.values()],
            effective_date=decided.effective.isoformat(),
            decision=decided.number,
        ),
        actor=ctx.actor.subject,
    )
    return unit, list(created.values())
