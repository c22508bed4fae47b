from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_identity.db_models import Base


class Holder(Base):
    """What identity knows of a civil servant's record, from personnel's events: enough to check
    that an account is linked to a real record of the unit asking for it."""

    __tablename__ = "holders"

    personal_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(36))
    full_name: Mapped[str] = mapped_column(String(150))
    unit_path: Mapped[str] = mapped_column(String(1024), index=True)
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
