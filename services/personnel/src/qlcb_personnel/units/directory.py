"""The directory of the sector's units: what a transfer names its receiving unit from when that unit
lies outside the sender's own tree (an officer moved to another Cục). Every tier reads it: the
organisation of the sector is published, its people are not, and the directory names units only.
Matched as officers type: a code's beginning, or words of the name each beginning one of its words,
with or without marks; the sector's units number in the thousands, so they are matched here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.errors import FieldViolation, InvalidArgument, PermissionDenied
from qlcb_common.names import fold, words
from qlcb_common.tiers import TIER_NAMES
from qlcb_personnel.units.models import Unit, UnitChange

QUERY_MAX, LIMIT_MAX, LIMIT_DEFAULT = 100, 50, 20


def matches(unit: Unit, asked: str, asked_words: list[str]) -> bool:
    if fold(unit.code).replace(" ", "").startswith(asked.replace(" ", "")):
        return True
    name_words = words(unit.name)
    return all(any(w.startswith(a) for w in name_words) for a in asked_words)


async def directory(session: AsyncSession, *, actor: Principal, query: str, limit: int) -> list[Unit]:
    """The existing units matching `query`, by path, at most `limit` (20 when 0)."""
    if not any(role in TIER_NAMES for role in actor.roles):
        raise PermissionDenied("Tài khoản chưa được giao cấp nào")
    violations: list[FieldViolation] = []
    asked_words = words(query)
    if not asked_words:
        violations.append(FieldViolation("q", "Nhập mã hoặc tên đơn vị"))
    elif len(query) > QUERY_MAX:
        violations.append(FieldViolation("q", f"Dài quá {QUERY_MAX} ký tự"))
    if not 0 <= limit <= LIMIT_MAX:
        violations.append(FieldViolation("limit", f"Phải từ 1 đến {LIMIT_MAX}"))
    if violations:
        raise InvalidArgument(violations)
    units = (await session.scalars(select(Unit).order_by(Unit.path))).all()
    gone = set(await session.scalars(select(UnitChange.unit_id).where(UnitChange.dissolved.is_(True))))
    asked = fold(query)
    found = [u for u in units if u.id not in gone and matches(u, asked, asked_words)]
    return found[: limit or LIMIT_DEFAULT]
