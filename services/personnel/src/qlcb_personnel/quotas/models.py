from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_personnel.db_models import Base


class UnitQuota(Base):
    """One change of a unit's staffing quota (biên chế) for a year (R-ORG-3): the quota a decision
    gave it from its effective date. Rows are never changed; the quota of a day is the last row in
    force on it (latest effective date, then latest recorded), so a row of the same effective date
    as the one before it corrects that one."""

    __tablename__ = "unit_quotas"
    # A unit's year (its history, its quota of a day, the check of an allocation) and a year's
    # quotas of many units (a report over a subtree, the units over their quota).
    __table_args__ = (Index("ix_unit_quotas_year_unit", "year", "unit_id", "effective_date", "recorded_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    quota: Mapped[int] = mapped_column(Integer)
    # assigned (the first of the year), changed (from a later date) or corrected (the same date).
    change: Mapped[str] = mapped_column(String(16))
    effective_date: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
