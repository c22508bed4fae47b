from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_personnel.db_models import Base


class AuditEntry(Base):
    """One thing an account did to the records (R-AUD-1, R-PER-7): a row written, changed or
    removed, with the before and after of each field, or a record read, a resume or an export.
    Written in the unit of work of what it records, so nothing is done unrecorded; sealed into the
    hash chain shortly after (`seq`, `prev_hash`, `hash`: `audit/chain.py`), never changed again."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_person", "person_id", "occurred_at"),
        Index("ix_audit_entries_account", "account", "occurred_at"),
        # A unit's subtree is a prefix of the path: pattern ops let LIKE 'path/%' use the index.
        Index(
            "ix_audit_entries_unit",
            "unit_path",
            "occurred_at",
            postgresql_ops={"unit_path": "varchar_pattern_ops"},
        ),
        # A search of the trail by the holder's personal id.
        Index("ix_audit_entries_holder", "holder_personal_id", "occurred_at"),
        # The sealer's queue: what is not sealed yet, oldest first.
        Index("ix_audit_entries_unsealed", "occurred_at", "id", postgresql_where="seq IS NULL"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # The entries of one unit of work share it: a change and what it changed with it.
    transaction_id: Mapped[str] = mapped_column(String(36))
    # The account as its tokens name it (preferred_username), its subject and tiers; "system:…"
    # for what the service does of itself (a decision applied on its effective date).
    account: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(64))
    tiers: Mapped[str] = mapped_column(String(255))
    # create, update, delete; read (a whole record or a section), resume, export.
    action: Mapped[str] = mapped_column(String(16))
    # What was acted on: a table and its row ("record_entries", an entry's version id), or what
    # was read ("record", "record_section").
    target: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(255))
    person_id: Mapped[str | None] = mapped_column(String(36))
    # The unit the record or unit belonged to when it happened: the scope of who may read the entry.
    unit_path: Mapped[str | None] = mapped_column(String(1024))
    # {"changes": {field: [before, after]}} for a write; what was read or exported, with its
    # criteria and row count, for a read.
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Who held the account when the entry was written (`account_holders` then), kept with it and
    # hashed (ADR 0047): "" for an account nobody held; None for an entry written before they were
    # kept (migration 0008), whose holder is looked up in the holder history when it is read.
    holder_name: Mapped[str | None] = mapped_column(String(150))
    holder_personal_id: Mapped[str | None] = mapped_column(String(12))
    # The name folded (`qlcb_common.names.fold`), which a search by holder compares.
    holder_folded: Mapped[str | None] = mapped_column(String(150))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    # What the sealer hashed (`chain.SEAL_VERSION`); None: sealed without the holder.
    seal_version: Mapped[int | None] = mapped_column(SmallInteger)


class AuditChainHead(Base):
    """The last sealed entry: one row, locked by the sealer while it extends the chain, so that
    replicas sealing at once take turns."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AccountHolder(Base):
    """Who held a purpose account from when to when, as identity recorded it (its holder history,
    followed from `qlcb.identity.holder.recorded`): the audit names, for an entry of a purpose
    account, the civil servant who held it that day."""

    __tablename__ = "account_holders"
    __table_args__ = (Index("ix_account_holders_account", "account", "valid_from"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account: Mapped[str] = mapped_column(String(255))
    unit_path: Mapped[str] = mapped_column(String(1024))
    holder_name: Mapped[str] = mapped_column(String(150))
    holder_personal_id: Mapped[str | None] = mapped_column(String(12), index=True)
    # The name folded (`qlcb_common.names.fold`), which a search by holder compares.
    holder_folded: Mapped[str] = mapped_column(String(150))
    valid_from: Mapped[date] = mapped_column(Date)
    # The first day it is no longer held; None while it is.
    valid_to: Mapped[date | None] = mapped_column(Date)
    # The same days as instants, from midnight in Vietnam: what an entry's occurred_at is compared with.
    held_from: Mapped[datetime] = mapped_column(UtcDateTime)
    held_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
