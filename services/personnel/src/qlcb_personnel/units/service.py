from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import events_pb2, personnel_pb2
from qlcb_common import authz
from qlcb_common import personnel_rules as rules
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.days import vietnam_today
from qlcb_common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_personnel.decisions import Decision
from qlcb_personnel.units import history
from qlcb_personnel.units.models import Unit


def check_new_unit(code: str, name: str, kind: str, prefix: str, violations: list[FieldViolation]) -> tuple[str, str]:
    """Code, name and kind of a unit to establish; `prefix` names the fields ("" or "successors[1].")."""
    code = rules.unit_code(code, violations, f"{prefix}code")
    name = rules.unit_name(name, violations, f"{prefix}name")
    rules.unit_kind(kind, violations, f"{prefix}kind")
    return code, name


async def establish_unit(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    code: str,
    name: str,
    kind: str,
    parent_id: str,
    effective_date: str = "",
    decision: str = "",
) -> Unit:
    if not authz.may_at_all(actor, Section.UNIT, Action.CREATE, delegations):
        raise PermissionDenied("Không có quyền thành lập đơn vị")
    violations: list[FieldViolation] = []
    code, name = check_new_unit(code, name, kind, "", violations)
    parent: Unit | None = None
    if parent_id:
        parent = await session.get(Unit, parent_id)
        if parent is None:
            violations.append(FieldViolation("parent_id", "Đơn vị cấp trên không tồn tại"))
    elif kind != "UNIT_KIND_GENERAL_DEPARTMENT":
        violations.append(FieldViolation("parent_id", "Chỉ Tổng cục được không có đơn vị cấp trên"))
    decided = _establishing_decision(effective_date, decision, violations)
    if violations or decided is None:
        raise InvalidArgument(violations)
    authz.require(
        actor, Section.UNIT, Action.CREATE, f"{parent.path if parent else ''}/{code}", delegations=delegations
    )
    if parent is not None:
        await history.require_existing(session, [parent], "thành lập đơn vị trực thuộc")
        if decided is TAKEN_IN:
            decided = Decision("", await history.established_on(session, parent.id))
    if await session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise AlreadyExists(f"Mã đơn vị {code} đã tồn tại")
    return await create(
        session, outbox=outbox, actor=actor, parent=parent, code=code, name=name, kind=kind, decided=decided
    )


TAKEN_IN = Decision("", history.BEFORE_RECORDS)
"""The establishment of a unit taken in without a decision (ADR 0041): it existed before the records
begin, or, under a unit established by a decision, since that one's establishment."""


def _establishing_decision(effective_date: str, decision: str, violations: list[FieldViolation]) -> Decision | None:
    if not effective_date.strip() and not decision.strip():
        return TAKEN_IN
    return history.parse_unit_decision(effective_date or vietnam_today().isoformat(), decision, violations)


async def create(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    parent: Unit | None,
    code: str,
    name: str,
    kind: str,
    decided: Decision,
) -> Unit:
    """Adds a unit whose fields are valid and whose code is free; records and publishes it."""
    unit = Unit(
        id=str(uuid.uuid4()),
        code=code,
        name=name,
        kind=kind,
        parent_id=parent.id if parent else None,
        path=f"{parent.path if parent else ''}/{code}",
        created_at=datetime.now(UTC),
        created_by=actor.subject,
    )
    session.add(unit)
    await session.flush()
    history.record(session, unit, "established", decided, actor)
    await outbox.add(
        session,
        subject=subjects.PERSONNEL_UNIT_ESTABLISHED,
        payload=events_pb2.UnitEstablished(unit=to_proto(unit), established_on=effective_iso(decided.effective)),
        actor=actor.subject,
    )
    return unit


async def get_unit(
    session: AsyncSession, *, actor: Principal, delegations: Sequence[Delegation] = (), unit_id: str
) -> Unit:
    unit = await session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        raise NotFound(f"Không có đơn vị {unit_id!r}")
    authz.require(actor, Section.UNIT, Action.READ, unit.path, delegations=delegations)
    return unit


async def list_units(session: AsyncSession, *, actor: Principal, delegations: Sequence[Delegation] = ()) -> list[Unit]:
    query = (
        select(Unit)
        .where(authz.sql_scope(actor, Section.UNIT, Action.READ, Unit.path, delegations=delegations))
        .order_by(Unit.path)
    )
    return list((await session.scalars(query)).all())


async def list_units_as_of(
    session: AsyncSession, *, actor: Principal, delegations: Sequence[Delegation] = (), as_of: str
) -> list[personnel_pb2.Unit]:
    """The tree as it stood at the end of `as_of`, inside the caller's scope of today."""
    try:
        day = date.fromisoformat(as_of.strip())
    except ValueError:
        raise InvalidArgument.single("as_of", "Ngày phải theo dạng YYYY-MM-DD") from None
    if not authz.may_at_all(actor, Section.UNIT, Action.READ, delegations):
        raise PermissionDenied("Không có quyền xem cơ cấu tổ chức")
    current = {u.id: u for u in await list_units(session, actor=actor, delegations=delegations)}
    return [
        personnel_pb2.Unit(
            id=row.unit_id,
            code=current[row.unit_id].code,
            name=row.name,
            kind=personnel_pb2.UnitKind.Value(current[row.unit_id].kind),
            parent_id=row.parent_id or "",
            path=row.path,
        )
        for row in await history.tree_as_of(session, day)
        if row.unit_id in current
    ]


def effective_iso(effective: date) -> str:
    """A change's effective date as the API and the events tell it: empty for a unit that existed
    before the records begin."""
    return "" if effective == history.BEFORE_RECORDS else effective.isoformat()


def to_proto(unit: Unit, dissolved_on: date | None = None) -> personnel_pb2.Unit:
    return personnel_pb2.Unit(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        kind=personnel_pb2.UnitKind.Value(unit.kind),
        parent_id=unit.parent_id or "",
        path=unit.path,
        dissolved_on=dissolved_on.isoformat() if dissolved_on else "",
    )
