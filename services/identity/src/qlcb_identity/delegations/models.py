from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_identity.db_models import Base


class DelegationRecord(Base):
    """A right given to a unit beyond its tier (R-TIER-2); revoked, never deleted."""

    __tablename__ = "delegations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_path: Mapped[str] = mapped_column(String(1024), index=True)
    section: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000))
    granted_by: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
