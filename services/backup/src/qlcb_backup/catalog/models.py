from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_backup.db_models import Base
from qlcb_common.db import UtcDateTime


class BackupRecord(Base):
    __tablename__ = "backups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    path: Mapped[str] = mapped_column(String(1024))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_digest: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))


class BackupSetRecord(Base):
    """A set: `running` while its parts are written, `good` once every part is written, flushed
    and checked and its signed manifest is in place, `failed` otherwise (or when the service
    found it still running at start: it was killed midway)."""

    __tablename__ = "backup_sets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    stores: Mapped[str] = mapped_column(String(1024))
    key_id: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1024))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    manifest_sha256: Mapped[str] = mapped_column(String(64), default="")
    failure: Mapped[str] = mapped_column(String(1024), default="")
    created_by: Mapped[str] = mapped_column(String(64))


class BackupSetPart(Base):
    """Which set a catalogued backup (one store's part) belongs to."""

    __tablename__ = "backup_set_parts"

    backup_id: Mapped[str] = mapped_column(ForeignKey("backups.id"), primary_key=True)
    set_id: Mapped[str] = mapped_column(ForeignKey("backup_sets.id"), index=True)


class RestoreLease(Base):
    """A restore reading a set: pruning leaves the set alone while a lease on it has not expired.
    Removed when the restore ends; `expires_at` frees a set whose restore died with its process."""

    __tablename__ = "backup_restore_leases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    set_id: Mapped[str] = mapped_column(ForeignKey("backup_sets.id"), index=True)
    backup_id: Mapped[str] = mapped_column(String(36))
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
