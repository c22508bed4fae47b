from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_identity.db_models import Base


class AccountIncident(Base):
    """A lost password or suspected theft, reported before an admin resets the account (R-ACC-9)."""

    __tablename__ = "account_incidents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(1000))
    reported_by: Mapped[str] = mapped_column(String(255))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reset_by: Mapped[str | None] = mapped_column(String(255))
    reset_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
