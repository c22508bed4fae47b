from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_identity.db_models import Base


class UnitQuota(Base):
    """How many accounts of a kind a unit may hold (R-ACC-3): data, set by the system admin."""

    __tablename__ = "unit_quotas"

    unit_path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PurposeAccount(Base):
    """An account issued to a unit for a purpose ("Nhân sự 1"), not to a person (R-ACC-2)."""

    __tablename__ = "purpose_accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_path: Mapped[str] = mapped_column(String(1024), index=True)
    purpose: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(255), unique=True)
    keycloak_user_id: Mapped[str] = mapped_column(String(64))
    # When a realm restore left no account of this username in the live realm (ADR 0029).
    unlinked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    issued_by: Mapped[str] = mapped_column(String(255))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)


class HolderAssignment(Base):
    """Who held a purpose account from when to when; never overwritten, closed by the next one."""

    __tablename__ = "holder_assignments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("purpose_accounts.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(150))
    holder_personal_id: Mapped[str | None] = mapped_column(String(12), index=True)
    holder_email: Mapped[str] = mapped_column(String(255))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(255))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
