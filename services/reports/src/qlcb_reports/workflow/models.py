from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_reports.db_models import Base


class ReportPeriod(Base):
    """A period of a regime (kỳ báo cáo), opened once, with the template version it keeps."""

    __tablename__ = "report_periods"
    __table_args__ = (UniqueConstraint("regime_id", "key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    regime_id: Mapped[str] = mapped_column(ForeignKey("report_regimes.id"))
    key: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    template_version: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_by: Mapped[str] = mapped_column(String(255))


class Assignment(Base):
    """One unit's report for one period (giao báo cáo) and where it stands in the workflow.

    `parent_id` is the assignment of the unit above that approves it (none: the issuer does);
    `version` grows with every change, and a transition locks the row, so two racing on one report
    take turns and the second finds the state the first left."""

    __tablename__ = "report_assignments"
    __table_args__ = (
        UniqueConstraint("period_id", "unit_id"),
        Index(
            "ix_report_assignments_scope", "period_id", "unit_path", postgresql_ops={"unit_path": "varchar_pattern_ops"}
        ),
        # The reminder's queue: reports not sent, by deadline.
        Index(
            "ix_report_assignments_due", "deadline", postgresql_where="state IN ('not_started', 'draft', 'returned')"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    period_id: Mapped[str] = mapped_column(ForeignKey("report_periods.id"))
    regime_id: Mapped[str] = mapped_column(String(36))
    unit_id: Mapped[str] = mapped_column(String(36))
    unit_path: Mapped[str] = mapped_column(String(1024))
    unit_name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("report_assignments.id"), index=True)
    approver_unit_id: Mapped[str] = mapped_column(String(36))
    approver_path: Mapped[str] = mapped_column(String(1024))
    state: Mapped[str] = mapped_column(String(16))
    deadline: Mapped[date] = mapped_column(Date)
    template_version: Mapped[int] = mapped_column(Integer)
    # The indicators asked of the unit: empty, all of the template.
    indicator_codes: Mapped[list[str]] = mapped_column(JSON)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    first_submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Whether the first sending was on or before the deadline (Vietnam's day): timeliness.
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The account that sent the current submission: it does not approve what it sent.
    submitted_by: Mapped[str | None] = mapped_column(String(255))
    # Every account that saved, consolidated or sent the report's figures, in the order each first
    # did: none of them approves them (four eyes, ADR 0062). Null for none yet.
    prepared_by: Mapped[list[str] | None] = mapped_column(JSON)
    # The civil servants behind those accounts, by personal id, as far as known when each acted (a
    # personal account linked to its holder's record; a purpose account's holder then): one person
    # does not approve with one account what they prepared with another. Null for none known.
    prepared_people: Mapped[list[str] | None] = mapped_column(JSON)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(255))
    returned_reason: Mapped[str | None] = mapped_column(Text)
    # A returned report may be corrected and sent after the deadline: the approver asked for it.
    correction_open: Mapped[bool] = mapped_column(Boolean, default=False)
    reopened_until: Mapped[date | None] = mapped_column(Date)
    # Sent by another channel on that day while the system was down (004 Điều 9.4): timeliness
    # counts from it.
    sent_otherwise_on: Mapped[date | None] = mapped_column(Date)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
