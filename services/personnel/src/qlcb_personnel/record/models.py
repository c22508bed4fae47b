from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    extract,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_personnel.db_models import Base

TERMS_CURRENT = text("section IN ('appointments', 'rotations') AND superseded_at IS NULL AND retracted IS FALSE")
"""The entries a term of office comes from, as known now (`record.terms.TERMED`)."""


class RecordEntry(Base):
    """One version of one entry of a section of a person's record (R-PER-2), bitemporal.

    `valid_from`/`valid_to` say when the fact held (valid time); `recorded_at`/`superseded_at`
    say when the system knew this version of it (transaction time). A version is never
    changed: a correction, a retraction or the closing of a period by its successor supersedes
    it with a new version of the same `entry_id`, so the wrong value stays visible as what was
    known until then. The values are checked against the section's declaration
    (`qlcb_common.record_sections`) before they are stored."""

    __tablename__ = "record_entries"
    __table_args__ = (
        UniqueConstraint("entry_id", "version"),
        # The record as known now: every read of a record and every overlap check uses it.
        Index(
            "ix_record_entries_current",
            "person_id",
            "section",
            "valid_from",
            postgresql_where=text("superseded_at IS NULL"),
            sqlite_where=text("superseded_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    section: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    decision_number: Mapped[str | None] = mapped_column(String(100))
    decision_date: Mapped[date | None] = mapped_column(Date)
    decision_body: Mapped[str | None] = mapped_column(String(255))
    decision_signer: Mapped[str | None] = mapped_column(String(150))
    decision_signer_post: Mapped[str | None] = mapped_column(String(255))
    change: Mapped[str] = mapped_column(String(16))  # recorded, corrected, closed, reopened, retracted
    # The decision document that made the entry, if one did (its cancellation retracts it).
    decision_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # The open entry of the timeline this one's recording closed (reopened if this one is retracted).
    closed_entry_id: Mapped[str | None] = mapped_column(String(36))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    retracted: Mapped[bool] = mapped_column(default=False)


class EntryView(Protocol):
    """One version of an entry as its readers use it: a `RecordEntry`, or a row of its table read
    without the ORM (`record.service.whole_record`, read on every open of a record, skips building
    an instance per entry)."""

    @property
    def id(self) -> str: ...
    @property
    def entry_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def section(self) -> str: ...
    @property
    def valid_from(self) -> date | None: ...
    @property
    def valid_to(self) -> date | None: ...
    @property
    def values(self) -> dict[str, Any]: ...
    @property
    def decision_number(self) -> str | None: ...
    @property
    def decision_date(self) -> date | None: ...
    @property
    def decision_body(self) -> str | None: ...
    @property
    def decision_signer(self) -> str | None: ...
    @property
    def decision_signer_post(self) -> str | None: ...
    @property
    def change(self) -> str: ...
    @property
    def decision_id(self) -> str | None: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def recorded_by(self) -> str: ...
    @property
    def superseded_at(self) -> datetime | None: ...
    @property
    def retracted(self) -> bool: ...


TERM_END_MONTH: ColumnElement[int] = (
    extract("year", RecordEntry.valid_from) * 12
    + extract("month", RecordEntry.valid_from)
    + RecordEntry.values["term_months"].as_integer()
)
"""Year × 12 + month of an entry's start, plus the months of its term: the month its term of office
ends in, or the month after it (`record.terms.ends_within`)."""

# The terms of office of the current appointments and rotations by the month they end: the list of
# terms ending in a period reads the entries of its months, not every term of a large subtree begun in
# the years before it (`record.terms`). The query says the same expression; PostgreSQL matches it to
# the index once the query's values are in it, as every statement of the services is planned (ADR 0039).
Index("ix_record_entries_term_ends", TERM_END_MONTH, postgresql_where=TERMS_CURRENT, sqlite_where=TERMS_CURRENT)
