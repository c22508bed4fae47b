from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_identity.db_models import Base


class DelegationRecord(Base):
    """A right given to a unit's tiers beyond their tier, over named records (R-TIER-2);
    revoked, never deleted."""

    __tablename__ = "delegations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_path: Mapped[str] = mapped_column(String(1024), index=True)
    tiers: Mapped[list[str]] = mapped_column(JSON)
    sections: Mapped[list[str]] = mapped_column(JSON)
    actions: Mapped[list[str]] = mapped_column(JSON)
    target_unit_path: Mapped[str | None] = mapped_column(String(1024))
    person_ids: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(1000))
    granted_by: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
