"""The unit tree's history (R-ORG-2): every decision writes a dated row with the unit as it
left it, so the tree can be read as of any date and a unit's changes listed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.errors import FailedPrecondition, FieldViolation, InvalidArgument
from qlcb_personnel.decisions import Decision, parse_decision
from qlcb_personnel.units.models import Unit, UnitChange

DISSOLVED = "dissolved"
BEFORE_RECORDS = date.min
"""The effective date of a unit taken in without an establishing decision (ADR 0041): it existed
before the records begin, so the tree of any past day holds it and a decision of any date may
follow."""


def parse_unit_decision(effective_date: str, decision: str, violations: list[FieldViolation]) -> Decision | None:
    """A decision on a unit, which may not take effect on the day that marks the start of the records."""
    decided = parse_decision(effective_date, decision, violations)
    if decided is not None and decided.effective == BEFORE_RECORDS:
        violations.append(
            FieldViolation("effective_date", f"Ngày {BEFORE_RECORDS} chỉ dùng cho đơn vị có từ trước khi có hồ sơ")
        )
        return None
    return decided


async def established_on(session: AsyncSession, unit_id: str) -> date:
    """The effective date of the unit's establishment (the start of the records when none is kept)."""
    found = await session.scalar(
        select(UnitChange.effective_date).where(UnitChange.unit_id == unit_id, UnitChange.change == "established")
    )
    return found or BEFORE_RECORDS


def record(session: AsyncSession, unit: Unit, change: str, decided: Decision, actor: Principal) -> None:
    session.add(
        UnitChange(
            id=str(uuid.uuid4()),
            unit_id=unit.id,
            change=change,
            name=unit.name,
            parent_id=unit.parent_id,
            path=unit.path,
            dissolved=change == DISSOLVED,
            effective_date=decided.effective,
            decision=decided.number,
            recorded_at=datetime.now(UTC),
            recorded_by=actor.subject,
        )
    )


async def dissolved_on(session: AsyncSession, unit_ids: Sequence[str]) -> dict[str, date]:
    """The dissolution date of each of the units that is dissolved (dissolution is final)."""
    rows = await session.execute(
        select(UnitChange.unit_id, UnitChange.effective_date).where(
            UnitChange.unit_id.in_(list(unit_ids)), UnitChange.dissolved.is_(True)
        )
    )
    return {row.unit_id: row.effective_date for row in rows}


async def require_existing(session: AsyncSession, units: Sequence[Unit], action: str) -> None:
    """FAILED_PRECONDITION naming the first of the units that is dissolved."""
    gone = await dissolved_on(session, [u.id for u in units])
    for unit in units:
        if unit.id in gone:
            raise FailedPrecondition(f"Đơn vị {unit.code} đã giải thể ngày {gone[unit.id]}: không thể {action}")


async def require_in_order(session: AsyncSession, unit: Unit, decided: Decision) -> None:
    """A decision may not take effect before the unit's last recorded one: the history is a line."""
    last = await session.scalar(select(func.max(UnitChange.effective_date)).where(UnitChange.unit_id == unit.id))
    if last is not None and decided.effective < last:
        raise InvalidArgument.single("effective_date", f"Không được trước ngày {last} của quyết định gần nhất")


async def changes_of(session: AsyncSession, unit_id: str) -> list[UnitChange]:
    query = (
        select(UnitChange)
        .where(UnitChange.unit_id == unit_id)
        .order_by(UnitChange.effective_date, UnitChange.recorded_at)
    )
    return list((await session.scalars(query)).all())


async def tree_as_of(session: AsyncSession, day: date) -> list[UnitChange]:
    """Each unit as its last change up to `day` left it, dissolved ones left out, in path order."""
    rows = await session.scalars(
        select(UnitChange)
        .where(UnitChange.effective_date <= day)
        .order_by(UnitChange.effective_date, UnitChange.recorded_at)
    )
    latest: dict[str, UnitChange] = {}
    for row in rows:
        latest[row.unit_id] = row
    return sorted((r for r in latest.values() if not r.dissolved), key=lambda r: r.path)
