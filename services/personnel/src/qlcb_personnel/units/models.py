from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, DateTime, ForeignKey, String, or_
from sqlalchemy.orm import Mapped, mapped_column

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))


def in_subtree(path: str) -> ColumnElement[bool]:
    """SQL condition: the unit is the one at `path` or lies below it."""
    return or_(Unit.path == path, Unit.path.startswith(path + "/", autoescape=True))
