from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_personnel.db_models import Base


class EntryDeadline(Base):
    """One entry of a record that had a deadline (R-PER-4), judged when it was entered: a projection
    of `record_entries`, written in the same unit of work as the entry (`deadlines.service.follow`),
    holding only the entries the rule measures (`deadlines.rules`). Its key is the entry's `entry_id`,
    the same across its versions: a correction judges the entry again, a retraction removes it.

    The unit is the person's when the entry was first entered: the unit whose work was late, which a
    later transfer of the person does not change."""

    __tablename__ = "entry_deadlines"
    __table_args__ = (
        # The report's counts: a unit's (or each unit of a subtree's) entries entered in a period, with
        # what the scope and the count read, so that PostgreSQL answers from the index alone.
        Index(
            "ix_entry_deadlines_unit_day",
            "unit_id",
            "entered_on",
            postgresql_include=["late", "section", "person_id"],
        ),
        # The page of late entries, in the order it is read, without the on-time ones.
        Index(
            "ix_entry_deadlines_late",
            "entered_on",
            "entry_id",
            postgresql_where=text("late"),
            sqlite_where=text("late"),
        ),
    )

    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    section: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # new_record, update
    event_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    # When the entry was entered: its first version's recording, or the creation of the decision that
    # made it (applied on its effective date, maybe later); and that day in Vietnam.
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    entered_on: Mapped[date] = mapped_column(Date)
    entered_by: Mapped[str] = mapped_column(String(64))
    late: Mapped[bool] = mapped_column(Boolean)
