"""The personnel store's declarative base, and the outbox that shares its transactions."""

from __future__ import annotations

from sqlalchemy import DDL, event
from sqlalchemy.orm import DeclarativeBase

from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.events.inbox import Inbox
from qlcb_common.events.outbox import Outbox, define_outbox_table


class Base(DeclarativeBase):
    pass


# Trigram indexes for name search (ADR 0015). A trusted extension: the database's owner may create it.
event.listen(
    Base.metadata,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
)


def make_outbox() -> Outbox:
    table = Base.metadata.tables.get("outbox")
    return Outbox(table if table is not None else define_outbox_table(Base.metadata))


def make_delegations() -> DelegationCopy:
    """The copy of identity's delegations this service enforces (see qlcb_common.authz)."""
    return DelegationCopy(Base.metadata)


def make_inbox() -> Inbox:
    return Inbox.of(Base.metadata)
