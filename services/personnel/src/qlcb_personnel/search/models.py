from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_personnel.db_models import Base

OPEN_END = date(9999, 12, 31)
"""`valid_to` of a fact that holds until further notice: a range condition then serves both."""


class SearchFact(Base):
    """One dated fact a search filters on (ADR 0015): a projection, written in the same unit of work
    as what it comes from, of the record entries of the searchable sections (a rank, an ethnicity,
    a membership, a post, a training level, an evaluation of a year, a recruitment), of the status
    history and of the units a person has been in. It holds only what is current as known now;
    `valid_from`/`valid_to` are the days the fact held, open ones ending on `OPEN_END`, so that
    "held on day d" is one range scan of one index that also holds the person: the search reads the
    index alone, never `record_entries` and its JSON."""

    __tablename__ = "search_facts"
    # The key also serves keeping the facts (a person's, by what they come from) and reading a
    # page's units and statuses of a day; the lookup index serves the search itself.
    # The recruitment index answers "recruited when?" of one person in one probe, as a search or a
    # form of a past day asks of everyone it finds (ADR 0040): one row per recruitment.
    __table_args__ = (
        Index("ix_search_facts_lookup", "fact", "value", "valid_to", "valid_from", "person_id"),
        Index(
            "ix_search_facts_recruited",
            "person_id",
            "valid_from",
            postgresql_where=text("fact = 'recruited'"),
            sqlite_where=text("fact = 'recruited'"),
        ),
    )

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    # What it comes from: the record entry (its entry_id, the same across versions), the status row
    # or the person's stay in a unit.
    source_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # rank, ethnicity, organisation, post, training, evaluation:<year>, recruited, status, unit.
    fact: Mapped[str] = mapped_column(String(32), primary_key=True)
    # A catalog code, a status, a unit id; empty for a fact with no value (recruited).
    value: Mapped[str] = mapped_column(String(36))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
