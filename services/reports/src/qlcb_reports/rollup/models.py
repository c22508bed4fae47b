from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_reports.db_models import Base


class RollupDelivery(Base):
    """One approved version of a top-level report on its way to the national report system: the
    connector's own outbox. Written in the transaction that approves the report, with the body it
    will send, so that what was approved is what goes out however late; it stays `pending` until the
    receiver answers 2xx (a restart in between sends it again under the same idempotency key).

    The retry schedule lives in the row: `attempts`, `next_attempt_at` (while pending; a claimed row
    is pushed one timeout ahead, so a replica that dies mid-send leaves it to be picked up again),
    and what the last attempt met (`last_status`, `last_error`)."""

    __tablename__ = "rollup_deliveries"
    __table_args__ = (
        UniqueConstraint("assignment_id", "report_version"),
        # The connector's queue: pending deliveries by when they are due.
        Index("ix_rollup_deliveries_due", "next_attempt_at", postgresql_where="status = 'pending'"),
        Index("ix_rollup_deliveries_period", "period_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("report_assignments.id"), index=True)
    report_version: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    regime_id: Mapped[str] = mapped_column(String(36))
    regime_code: Mapped[str] = mapped_column(String(32))
    period_id: Mapped[str] = mapped_column(String(36))
    period_key: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[str] = mapped_column(String(36))
    unit_name: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SentOutside(Base):
    """A top-level report that reached the national report system by other means (an electronic
    document, paper) while this system could not send it (R-OPS-1, 004 Điều 9.4); recorded
    afterwards, audited, and the connector never sends that report."""

    __tablename__ = "report_sent_outside"

    assignment_id: Mapped[str] = mapped_column(ForeignKey("report_assignments.id"), primary_key=True)
    sent_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(255))
    reference: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(255))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
