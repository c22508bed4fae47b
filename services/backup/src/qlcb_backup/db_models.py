"""The backup catalog's declarative base, and the outbox that shares its transactions."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from qlcb_common.events.outbox import Outbox, define_outbox_table


class Base(DeclarativeBase):
    pass


def make_outbox() -> Outbox:
    table = Base.metadata.tables.get("outbox")
    return Outbox(table if table is not None else define_outbox_table(Base.metadata))
