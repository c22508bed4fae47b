from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_backup.db_models import Base
from qlcb_common.db import UtcDateTime


class DrillRecord(Base):
    """A restore drill: the newest good set restored into scratch databases, verified, dropped."""

    __tablename__ = "backup_drills"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    set_id: Mapped[str | None] = mapped_column(ForeignKey("backup_sets.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    failure: Mapped[str] = mapped_column(String(1024), default="")


class DrillPartRecord(Base):
    __tablename__ = "backup_drill_parts"

    drill_id: Mapped[str] = mapped_column(ForeignKey("backup_drills.id"), primary_key=True)
    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    backup_id: Mapped[str] = mapped_column(ForeignKey("backups.id"))
    target: Mapped[str] = mapped_column(String(63))
    expected_digest: Mapped[str] = mapped_column(String(64))
    content_digest: Mapped[str] = mapped_column(String(64), default="")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
