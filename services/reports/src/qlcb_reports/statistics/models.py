"""The statistics read-model (ADR 0031): per person, the dated facts the statutory forms count, as
validity periods, built only from personnel's events. Every row belongs to a generation: the one
serving answers the forms while a newer one is rebuilt from the stream beside it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_reports.db_models import Base

OPEN_END = date(9999, 12, 31)
"""`valid_to` of a fact that holds until further notice."""
BEGINNING = date(1, 1, 1)
"""`valid_from` of a fact that holds from the start of the record (a person's first unit)."""


class StatGeneration(Base):
    """One build of the model from the stream: `building` (replaying, not read), `serving` (the one
    the forms read; at most one), `retired` (switched out), `removed` (its rows deleted)."""

    __tablename__ = "stat_generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16))
    # The durable consumer (and inbox name) that builds it.
    consumer: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    switched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    requested_by: Mapped[str] = mapped_column(String(255), default="")


class StatPerson(Base):
    """What a form reads of the person: sex and birth date (the age bands), and what a drill-down lists."""

    __tablename__ = "stat_persons"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    personal_id: Mapped[str] = mapped_column(String(12))
    staff_number: Mapped[str] = mapped_column(String(32))
    full_name: Mapped[str] = mapped_column(String(150))
    # The key of the Vietnamese staff-list order (qlcb_common.names.sort_key).
    name_sort: Mapped[bytes] = mapped_column(LargeBinary(1024))
    date_of_birth: Mapped[date] = mapped_column(Date)
    # SEX_MALE or SEX_FEMALE.
    sex: Mapped[str] = mapped_column(String(16))


class StatFact(Base):
    """A fact that held over [valid_from, valid_to]: the unit the person was in, a status other than
    active, a rank, an ethnicity, a religion, a membership, a training level, a post, an allowance.
    `source_id` is what it comes from (the record entry, the same across its versions, or the event
    that placed the person or changed their status), so a later version of an entry replaces what
    the earlier gave."""

    __tablename__ = "stat_facts"
    __table_args__ = (
        Index("ix_stat_facts_lookup", "generation", "fact", "value", "valid_to", "valid_from", "person_id"),
        Index("ix_stat_facts_person", "generation", "person_id", "fact", "valid_to"),
        # Whose facts begin or end between two days: whose profile differs between them (ADR 0037).
        Index("ix_stat_facts_begins", "generation", "valid_from", "person_id"),
        Index("ix_stat_facts_ends", "generation", "valid_to", "person_id"),
    )

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # unit, status, rank, ethnicity, religion, organisation, training, education, post, allowance, …
    fact: Mapped[str] = mapped_column(String(16), primary_key=True)
    # A unit id, a status name or a catalog code.
    value: Mapped[str] = mapped_column(String(36))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    # The version of the record entry it comes from (0 for a placement or a status).
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The stream sequence of the event that gave it: placements and statuses cut each other's
    # periods in the order personnel published them (0 in rows written before it was kept).
    sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    # What a list form prints of it besides the code, as a JSON object: a salary step's step,
    # coefficient and over-frame percent, a post's title, an allowance's coefficient or percent.
    detail: Mapped[str] = mapped_column(Text, default="{}")


class StatCode(Base):
    """A catalog code's statistical group and kind, as the latest event naming it said (the one of
    the highest stream `sequence`)."""

    __tablename__ = "stat_codes"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    catalog: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    stat_group: Mapped[str] = mapped_column(String(32), default="")
    kind: Mapped[str] = mapped_column(String(32), default="")
    sequence: Mapped[int] = mapped_column(BigInteger, default=0)


class StatQuota(Base):
    """A unit's staffing quota (biên chế) for a year from a date; a correction replaces the row of its date."""

    __tablename__ = "stat_quotas"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    effective_date: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    quota: Mapped[int] = mapped_column(Integer)
    # The stream sequence of the event the row holds: of two for one date, the later published wins.
    sequence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


CURRENT = 0
"""The slot of the profiles of today, moved on to each new day; any other slot holds the end of a half
year, fixed (`profiles.slot_of`, ADR 0037, 0044)."""


class StatProfileDay(Base):
    """A day a generation's profiles are stored for (ADR 0036, 0037): one row per slot."""

    __tablename__ = "stat_profile_days"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    # CURRENT (today's, moved on each day) or a half year's end (`profiles.slot_of`, fixed).
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date)
    # What each bit of `StatProfile.held` stands for (`profiles.fingerprint`): the forms' catalog
    # groups when the profiles were computed.
    tokens: Mapped[str] = mapped_column(Text)


class StatProfile(Base):
    """A person in service on the slot's day, in their unit of that day, with the groups they hold
    then as bits (`profiles.tokens`): what a counting form of that day reads, one row per person, instead
    of asking the facts once per column (ADR 0036). Age is not kept: a column's age band is a
    condition on the birth date."""

    __tablename__ = "stat_profiles"
    __table_args__ = (Index("ix_stat_profiles_unit", "generation", "slot", "unit_id"),)

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sex: Mapped[str] = mapped_column(String(16))
    date_of_birth: Mapped[date] = mapped_column(Date)
    held: Mapped[int] = mapped_column(BigInteger)
