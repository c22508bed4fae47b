from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_reports.db_models import Base


class ReportTransition(Base):
    """One step of a report's workflow (R-REP-3): who did what, from which state to which, and why;
    written in the transaction of the step itself, so no step is taken unrecorded, with the civil
    servant holding a purpose account then (`holders`)."""

    __tablename__ = "report_transitions"
    __table_args__ = (Index("ix_report_transitions_assignment", "assignment_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(36))
    period_id: Mapped[str] = mapped_column(String(36))
    unit_path: Mapped[str] = mapped_column(String(1024))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    account: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(64))
    tiers: Mapped[str] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer)
    # Who held the purpose account when the step was taken (`holders.kept_for`); None: nobody, or not
    # known to the copy yet, and then looked up when read.
    holder_name: Mapped[str | None] = mapped_column(String(150))


class AccountHolder(Base):
    """Who held a purpose account from when to when (identity's `qlcb.identity.holder.recorded`):
    a transition of a purpose account names the civil servant who held it."""

    __tablename__ = "account_holders"
    __table_args__ = (Index("ix_account_holders_account", "account", "valid_from"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account: Mapped[str] = mapped_column(String(255))
    holder_name: Mapped[str] = mapped_column(String(150))
    # The holder's personal identification number, when the holder has a record.
    holder_personal_id: Mapped[str | None] = mapped_column(String(32))
    valid_from: Mapped[date] = mapped_column(Date)
    # The first day it is no longer held; None while it is.
    valid_to: Mapped[date | None] = mapped_column(Date)


class SigningKeyChange(Base):
    """A rotation or revocation of a unit's signing key (R-REP-4): who did it, when, why, and which
    certificate replaced which; written in the transaction of the change itself, as a report's
    transitions are, with the civil servant holding a purpose account then."""

    __tablename__ = "signing_key_changes"
    __table_args__ = (Index("ix_signing_key_changes_unit", "unit_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(36))
    unit_name: Mapped[str] = mapped_column(String(255))
    unit_path: Mapped[str] = mapped_column(String(1024))
    action: Mapped[str] = mapped_column(String(16))
    previous_serial: Mapped[str] = mapped_column(String(64), default="")
    serial: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    account: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(64))
    tiers: Mapped[str] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # As a report's step keeps it.
    holder_name: Mapped[str | None] = mapped_column(String(150))
