from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, ColumnElement, Date, ForeignKey, String, or_
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_reports.db_models import Base


class UnitNode(Base):
    """The unit tree as personnel's events describe it: what headcounts add up over, and what the
    report regimes assign to (by kind and level) and approve up (the unit above)."""

    __tablename__ = "unit_nodes"

    unit_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(String(36))
    path: Mapped[str] = mapped_column(String(1024), index=True)
    name: Mapped[str] = mapped_column(String(255))
    # Personnel's unit kind in lower case ("provincial_department", "sub_unit", …).
    kind: Mapped[str] = mapped_column(String(32), default="")
    # The establishing decision's effective date; None for a unit that existed before the records
    # begin (taken in without a decision, or established by an event published before it was told).
    established_on: Mapped[date | None] = mapped_column(Date)
    dissolved_on: Mapped[date | None] = mapped_column(Date)
    # The stream sequence of the unit event whose name and place the row holds: an older event
    # reaching reports after a newer one (a retry's delay, a redelivered batch) changes nothing.
    sequence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    @property
    def level(self) -> int:
        """1 for the root, 2 for the units directly under it, …"""
        return self.path.count("/")


class UnitHeadcount(Base):
    """People directly in a unit, counted event by event (so a double count would show)."""

    __tablename__ = "unit_headcounts"

    unit_id: Mapped[str] = mapped_column(ForeignKey("unit_nodes.unit_id"), primary_key=True)
    headcount: Mapped[int] = mapped_column(BigInteger, default=0)


def in_subtree(path: str) -> ColumnElement[bool]:
    return or_(UnitNode.path == path, UnitNode.path.startswith(path + "/", autoescape=True))
