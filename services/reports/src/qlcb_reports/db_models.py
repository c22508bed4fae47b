"""The reports store's declarative base, the inbox of the events it has applied, and the outbox of
those it publishes (the report workflow's)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.events.inbox import Inbox
from qlcb_common.events.outbox import Outbox, define_outbox_table


class Base(DeclarativeBase):
    pass


def make_inbox() -> Inbox:
    return Inbox.of(Base.metadata)


def make_delegations() -> DelegationCopy:
    """The copy of identity's delegations this service enforces (see qlcb_common.authz)."""
    return DelegationCopy(Base.metadata)


def make_outbox() -> Outbox:
    table = Base.metadata.tables.get("outbox")
    return Outbox(table if table is not None else define_outbox_table(Base.metadata))
