from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, text
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


class SearchDay(Base):
    """One period of a person's days (ADR 0051): what a search finds a person by once a day (the
    unit, the status, the rank, the ethnicity) held unchanged from `valid_from` to `valid_to`, with
    what never changes with the day (the present unit and status, the name's sort key, the birth date,
    the sex) beside it. Worked out from the person's search facts (`search.days`) whenever they
    change, in the same unit of work: one row a person on any day, so that a search counts and pages
    the people of a day by one index of one table, without joining a fact per criterion per person."""

    __tablename__ = "search_days"
    __table_args__ = (
        Index("ix_search_days_now", "unit_now", "status_now", "valid_to", "valid_from"),
        Index("ix_search_days_unit", "unit_id", "status", "valid_to", "valid_from"),
        Index("ix_search_days_rank", "rank", "date_of_birth", "valid_to", "valid_from"),
        Index("ix_search_days_name", "name_sort", "person_id", "valid_to", "valid_from"),
        Index("ix_search_days_day", "valid_to", "valid_from"),
    )

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_to: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(32))
    rank: Mapped[str] = mapped_column(String(36))
    ethnicity: Mapped[str] = mapped_column(String(36))
    unit_now: Mapped[str] = mapped_column(String(36))
    status_now: Mapped[str] = mapped_column(String(32))
    name_sort: Mapped[bytes] = mapped_column(LargeBinary)
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16))
