from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_backup.db_models import Base
from qlcb_common.db import UtcDateTime


class RestoreRecord(Base):
    """A restore of a set (R-OPS-2): requested by one system admin, confirmed by another, then
    verified or failed; a verified restore is switched in by an explicit step."""

    __tablename__ = "backup_restores"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    set_id: Mapped[str] = mapped_column(ForeignKey("backup_sets.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    target_suffix: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(1000))
    requested_by: Mapped[str] = mapped_column(String(64))
    # Compared with the confirmer's as well as the subject: a realm restore gives accounts new
    # subjects, never new usernames (ADR 0029).
    requested_by_username: Mapped[str] = mapped_column(String(255))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_by: Mapped[str] = mapped_column(String(64), default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    switched_by: Mapped[str] = mapped_column(String(64), default="")
    switched_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    failure: Mapped[str] = mapped_column(String(1024), default="")


class RestorePartRecord(Base):
    """One store of a restore: its backup, the new database it goes to, and what it held."""

    __tablename__ = "backup_restore_parts"

    restore_id: Mapped[str] = mapped_column(ForeignKey("backup_restores.id"), primary_key=True)
    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    backup_id: Mapped[str] = mapped_column(ForeignKey("backups.id"))
    target: Mapped[str] = mapped_column(String(63))
    expected_digest: Mapped[str] = mapped_column(String(64))
    content_digest: Mapped[str] = mapped_column(String(64), default="")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    kept_as: Mapped[str] = mapped_column(String(63), default="")
    resent_events: Mapped[int] = mapped_column(Integer, default=0)
