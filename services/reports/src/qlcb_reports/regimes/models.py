from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_reports.db_models import Base


class ReportRegime(Base):
    """A report regime (chế độ báo cáo, R-REP-2): its kind and frequency, legal basis, issuer and
    the units concerned, the cut-off day and deadline rule; its templates are `TemplateVersion`s."""

    __tablename__ = "report_regimes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    frequency: Mapped[str] = mapped_column(String(16))
    legal_basis: Mapped[str] = mapped_column(String(1000))
    # The units concerned are in its subtree as it stands when a period opens.
    issuer_unit_id: Mapped[str] = mapped_column(String(36))
    unit_kinds: Mapped[list[str]] = mapped_column(JSON)
    unit_levels: Mapped[list[int]] = mapped_column(JSON)
    cutoff_day: Mapped[int] = mapped_column(Integer)
    deadline_days: Mapped[int] = mapped_column(Integer)
    deadline_counting: Mapped[str] = mapped_column(String(16))
    reminder_days: Mapped[int] = mapped_column(Integer)
    # Each period opens by itself on its first day (a periodic regime's, R-REP-2).
    opens_periods: Mapped[bool] = mapped_column(Boolean)
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(255))


class TemplateVersion(Base):
    """One version of a regime's template (đề cương, biểu mẫu): never changed once written, so a
    period opened with it reads the same indicators for good."""

    __tablename__ = "report_template_versions"

    regime_id: Mapped[str] = mapped_column(ForeignKey("report_regimes.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    outline: Mapped[str] = mapped_column(Text)
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(255))
