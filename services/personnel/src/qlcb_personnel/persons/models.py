from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DDL, Date, ForeignKey, Index, LargeBinary, String, event, func, text
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_personnel.db_models import Base


class Person(Base):
    __tablename__ = "persons"
    __table_args__ = (
        # Staff lists in Vietnamese order, a page at a time.
        Index("ix_persons_name_sort", "name_sort", "id"),
        # A unit's people and an age band, with the key the search joins them by: counted from the
        # index alone.
        Index("ix_persons_unit", "unit_id", "id"),
        Index("ix_persons_date_of_birth", "date_of_birth", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Số định danh cá nhân, the key the national database uses.
    personal_id: Mapped[str] = mapped_column(String(12), unique=True)
    staff_number: Mapped[str] = mapped_column(String(20), unique=True)
    full_name: Mapped[str] = mapped_column(String(150))
    # The name as a search compares it and as a staff list sorts it (qlcb_common.names), kept with it.
    name_folded: Mapped[str] = mapped_column(String(150))
    name_sort: Mapped[bytes] = mapped_column(LargeBinary(1024))
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


NAME_PREFIXES = """
CREATE OR REPLACE FUNCTION name_prefixes(folded text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT ARRAY(
    SELECT DISTINCT left(word, n)
    FROM unnest(string_to_array(folded, ' ')) AS word, generate_series(1, length(word)) AS n
  )
$$
"""
"""Every beginning of every word of a folded name ("le van an": l, le, v, va, van, a, an): a name
has the words typed when this array holds them all (ADR 0042)."""

# Name search (ADR 0042): the array of the folded name's word beginnings, in a GIN index, which
# `search.name_match` asks on PostgreSQL; the function is created with the table.
event.listen(
    Person.__table__,
    "before_create",
    DDL(NAME_PREFIXES).execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
)
Index("ix_persons_name_prefixes", func.name_prefixes(Person.name_folded), postgresql_using="gin").ddl_if(
    dialect="postgresql"
)


class PersonStatusEntry(Base):
    """One dated status of a person (R-PER-3): the latest one is the current status; rows are
    never overwritten, and a person without rows is active."""

    __tablename__ = "person_statuses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))


class Transfer(Base):
    """A transfer hand-off (R-PER-3): sent by the old unit, accepted or declined by the new one,
    or withdrawn by the old one while open. At most one transfer of a person is open (sent) at a
    time. `decided_by`/`decided_at`/`decline_reason` record whoever closed it, and why."""

    __tablename__ = "transfers"
    __table_args__ = (
        Index(
            "one_open_transfer_per_person",
            "person_id",
            unique=True,
            postgresql_where=text("status = 'TRANSFER_STATUS_SENT'"),
            sqlite_where=text("status = 'TRANSFER_STATUS_SENT'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    from_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    to_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    effective_date: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(100))
    sent_by: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decline_reason: Mapped[str | None] = mapped_column(String(1000))
