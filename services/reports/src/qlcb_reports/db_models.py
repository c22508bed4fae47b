"""The reports store's declarative base, and the inbox of the events it has applied."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.events.inbox import Inbox, define_inbox_table


class Base(DeclarativeBase):
    pass


def make_inbox() -> Inbox:
    table = Base.metadata.tables.get("processed_events")
    return Inbox(table if table is not None else define_inbox_table(Base.metadata))


def make_delegations() -> DelegationCopy:
    """The copy of identity's delegations this service enforces (see qlcb_common.authz)."""
    return DelegationCopy(Base.metadata)
