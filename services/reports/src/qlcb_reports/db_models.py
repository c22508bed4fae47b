"""The reports store's declarative base, and the inbox of the events it has applied."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.events.inbox import Inbox


class Base(DeclarativeBase):
    pass


def make_inbox() -> Inbox:
    return Inbox.of(Base.metadata)


def make_delegations() -> DelegationCopy:
    """The copy of identity's delegations this service enforces (see qlcb_common.authz)."""
    return DelegationCopy(Base.metadata)
