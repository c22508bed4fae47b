"""Transactional outbox: the event row is written through the caller's session, so it
commits or rolls back together with the change it describes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    event,
    insert,
)
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.db import UtcDateTime
from qlcb_common.events.envelope import wrap


def define_outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        # SQLite autoincrements only an INTEGER primary key.
        Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("envelope", LargeBinary, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime, nullable=True),
        Index("ix_outbox_unpublished", "seq", postgresql_where="published_at IS NULL"),
    )


class Outbox:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.committed = asyncio.Event()

    async def add(self, session: AsyncSession, *, subject: str, payload: Message, actor: str) -> str:
        """Stages an event in the caller's transaction and returns its id."""
        (event_id,) = await self.add_many(session, [(subject, payload)], actor=actor)
        return event_id

    async def add_many(self, session: AsyncSession, events: Sequence[tuple[str, Message]], *, actor: str) -> list[str]:
        """Stages events (subject, payload) in the caller's transaction, in this order, with one
        statement; returns their ids."""
        if not events:
            return []
        now = datetime.now(UTC)
        rows: list[dict[str, object]] = []
        ids: list[str] = []
        for subject, payload in events:
            envelope = wrap(subject, payload, actor=actor, occurred_at=now)
            ids.append(envelope.event_id)
            rows.append(
                {
                    "event_id": envelope.event_id,
                    "subject": subject,
                    "envelope": envelope.SerializeToString(),
                    "created_at": now,
                }
            )
        await session.execute(insert(self.table), rows)
        event.listen(session.sync_session, "after_commit", self._wake_relay, once=True)
        return ids

    def _wake_relay(self, _session: Any) -> None:
        self.committed.set()
