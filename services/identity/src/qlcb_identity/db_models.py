"""Identity's declarative base, the inbox of the events it applied and the outbox of those it publishes."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from qlcb_common.events.inbox import Inbox
from qlcb_common.events.outbox import Outbox, define_outbox_table


class Base(DeclarativeBase):
    pass


def make_inbox() -> Inbox:
    return Inbox.of(Base.metadata)


def make_outbox() -> Outbox:
    table = Base.metadata.tables.get("outbox")
    return Outbox(table if table is not None else define_outbox_table(Base.metadata))
