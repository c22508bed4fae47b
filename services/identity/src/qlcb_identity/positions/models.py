from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_identity.db_models import Base


class Appointment(Base):
    """The latest version identity has seen of one entry of a record's appointments section, from
    personnel's record events: enough to tell whether its holder still heads a unit."""

    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_unsettled", "settled", "valid_to"),)

    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    version: Mapped[int] = mapped_column(Integer)
    head: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    retracted: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(255))
    settled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """Its end has been acted on: the daily check passes it by."""
