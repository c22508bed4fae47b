from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import events_pb2, personnel_pb2
from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Scope, Section
from qlcb_common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.text import clean
from qlcb_personnel.units.models import Unit

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
KINDS = set(personnel_pb2.UnitKind.keys()) - {"UNIT_KIND_UNSPECIFIED"}


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
) -> Unit:
    if authz.scope_for(actor, Section.UNIT, Action.CREATE, delegations) is Scope.NONE:
        raise PermissionDenied("Không có quyền thành lập đơn vị")
    code = code.strip().upper()
    name = clean(name)
    violations = []
    if not CODE_PATTERN.fullmatch(code):
        violations.append(FieldViolation("code", "2–32 ký tự: chữ in hoa, số, '-' hoặc '_'"))
    if not name:
        violations.append(FieldViolation("name", "Tên đơn vị không được để trống"))
    elif len(name) > 255:
        violations.append(FieldViolation("name", "Tên đơn vị dài quá 255 ký tự"))
    if kind not in KINDS:
        violations.append(FieldViolation("kind", f"Loại đơn vị phải là một trong {sorted(KINDS)}"))
    parent: Unit | None = None
    if parent_id:
        parent = await session.get(Unit, parent_id)
        if parent is None:
            violations.append(FieldViolation("parent_id", "Đơn vị cấp trên không tồn tại"))
    elif kind != "UNIT_KIND_GENERAL_DEPARTMENT":
        violations.append(FieldViolation("parent_id", "Chỉ Tổng cục được không có đơn vị cấp trên"))
    if violations:
        raise InvalidArgument(violations)
    authz.require(
        actor, Section.UNIT, Action.CREATE, f"{parent.path if parent else ''}/{code}", delegations=delegations
    )
    if await session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise AlreadyExists(f"Mã đơn vị {code} đã tồn tại")
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
    await outbox.add(
        session,
        subject=subjects.PERSONNEL_UNIT_ESTABLISHED,
        payload=events_pb2.UnitEstablished(unit=to_proto(unit)),
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


def to_proto(unit: Unit) -> personnel_pb2.Unit:
    return personnel_pb2.Unit(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        kind=personnel_pb2.UnitKind.Value(unit.kind),
        parent_id=unit.parent_id or "",
        path=unit.path,
    )
