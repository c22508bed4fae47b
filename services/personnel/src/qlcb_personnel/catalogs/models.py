from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_personnel.db_models import Base


class CatalogValue(Base):
    """One value of a catalog over the period it is valid (R-PER-6): a record keeps the value that
    was valid on the entry's date. `stat_group` is the group the statutory forms count it under."""

    __tablename__ = "catalog_values"

    catalog: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_to: Mapped[date | None] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(255))
    stat_group: Mapped[str | None] = mapped_column(String(32))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    legal_basis: Mapped[str] = mapped_column(String(1000))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
