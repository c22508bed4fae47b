"""What the lists of a unit's people due for something in a period (retirement, the end of a term
of office) ask first: a period of at most five years, and a unit the caller may read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common import personnel_rules as rules
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.errors import FieldViolation, InvalidArgument, NotFound
from qlcb_personnel.persons.models import Person
from qlcb_personnel.units.models import Unit, in_subtree

MAX_PERIOD_DAYS = 5 * 366


def checked_period(start: str, end: str) -> tuple[date, date]:
    """The period's first and last days (ISO 8601, inclusive); INVALID_ARGUMENT naming `from` or
    `to` otherwise."""
    violations: list[FieldViolation] = []
    first = rules.iso_date(start, violations, "from", "Ngày phải theo dạng YYYY-MM-DD")
    last = rules.iso_date(end, violations, "to", "Ngày phải theo dạng YYYY-MM-DD")
    if first is not None and last is not None and not 0 <= (last - first).days <= MAX_PERIOD_DAYS:
        violations.append(FieldViolation("to", "Phải sau ngày bắt đầu, trong vòng 5 năm"))
    if violations or first is None or last is None:
        raise InvalidArgument(violations)
    return first, last


async def listed_unit(session: AsyncSession, actor: Principal, delegations: Sequence[Delegation], unit_id: str) -> Unit:
    unit = await session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        raise NotFound(f"Không có đơn vị {unit_id!r}")
    authz.require(actor, Section.UNIT, Action.READ, unit.path, delegations=delegations)
    return unit


def listed_people(
    actor: Principal, delegations: Sequence[Delegation], unit: Unit, include_subtree: bool, section: Section
) -> list[ColumnElement[bool]]:
    """The conditions of a person (`Person` joined to its `Unit`) a list of `unit` holds: in the unit,
    or below it if asked, and one whose `section` the caller may read (the scope in the query)."""
    return [
        in_subtree(unit.path) if include_subtree else Unit.id == unit.id,
        authz.sql_scope(
            actor,
            section,
            Action.READ,
            Unit.path,
            person_id_column=Person.id,
            personal_id_column=Person.personal_id,
            delegations=delegations,
        ),
    ]
