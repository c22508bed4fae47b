from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_personnel.db_models import Base

PENDING, APPLIED, FAILED, CANCELLED = "pending", "applied", "failed", "cancelled"


class DecisionDocument(Base):
    """A decision (quyết định) as a document (R-PER-3): its header, its state, and who did what
    to it when. Its people and what it does to each are its items."""

    __tablename__ = "decision_documents"
    __table_args__ = (
        # One number signed on one date is one decision: entering it twice is refused.
        UniqueConstraint("number", "decision_date"),
        # What the applier looks for: pending decisions whose day has come.
        Index("ix_decision_documents_due", "state", "effective_date"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(100))
    decision_date: Mapped[date] = mapped_column(Date)
    effective_date: Mapped[date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(String(255))
    signer: Mapped[str] = mapped_column(String(150))
    signer_post: Mapped[str] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    # The author's rights as its token gave them (tiers, unit, granted sections, linked personal id):
    # a decision applied later on its day is applied only if they still cover its people (None for
    # decisions recorded before this was kept).
    created_as: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failure: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    cancel_number: Mapped[str | None] = mapped_column(String(100))


class DecisionItem(Base):
    """One person named by a decision and what it does to them: an entry of the kind's section
    (`values`, `valid_to`), or the kind's status. Once applied it names what it wrote, so a
    cancellation reverses exactly that."""

    __tablename__ = "decision_items"
    __table_args__ = (UniqueConstraint("decision_id", "person_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decision_documents.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_to: Mapped[date | None] = mapped_column(Date)
    entry_id: Mapped[str | None] = mapped_column(String(36))
    status_entry_id: Mapped[str | None] = mapped_column(String(36))
    previous_status: Mapped[str | None] = mapped_column(String(32))
