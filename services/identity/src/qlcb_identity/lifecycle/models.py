from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_identity.db_models import Base


class AccountReview(Base):
    """An account whose holder left (retired, resigned, died) that the event did not disable,
    because it holds tiers beyond what the recorder could administer: it waits for an account
    admin who can (16.10). With `revoke_tier`, the holder stays but no longer holds the position
    that tier is for (their head appointments ended): the tier waits to be taken away."""

    __tablename__ = "account_reviews"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(255), index=True)
    unit_path: Mapped[str] = mapped_column(String(1024))
    tiers: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[str] = mapped_column(String(36))
    recorded_by: Mapped[str] = mapped_column(String(255))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(255))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoke_tier: Mapped[str | None] = mapped_column(String(32))
