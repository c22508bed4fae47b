from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ColumnElement, Date, ForeignKey, String, or_
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_personnel.db_models import Base


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Codes from the root down, "/TCHQ/HQHN/CCBN": the subtree of a unit is a prefix match.
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


def in_subtree(path: str) -> ColumnElement[bool]:
    """SQL condition: the unit is the one at `path` or lies below it."""
    return or_(Unit.path == path, Unit.path.startswith(path + "/", autoescape=True))


class UnitChange(Base):
    """One decision in a unit's history (R-ORG-2), with the unit as the decision left it, so the
    tree can be read as of any date. Rows are never changed; the `units` row is the present."""

    __tablename__ = "unit_changes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    change: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[str | None] = mapped_column(String(36))
    path: Mapped[str] = mapped_column(String(1024))
    dissolved: Mapped[bool] = mapped_column(Boolean, default=False)
    effective_date: Mapped[date] = mapped_column(Date, index=True)
    decision: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
