from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_identity.db_models import Base


class AuditEntry(Base):
    """Who did what to which account, with the state before and after (R-AUD-1)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        # A local admin's page: the entries of its subtree's accounts, newest first.
        Index("ix_audit_entries_unit", "unit_path", "at", postgresql_ops={"unit_path": "varchar_pattern_ops"}),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_subject: Mapped[str] = mapped_column(String(64))
    actor_username: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(255), index=True)
    # The unit whose accounts the entry concerns (none: the realm's, the federation's, the notices').
    unit_path: Mapped[str | None] = mapped_column(String(1024))
    outcome: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
