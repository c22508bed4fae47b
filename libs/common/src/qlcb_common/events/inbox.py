"""Idempotent inbox: the ids of processed events, written in the same transaction as the
effect, so a redelivered event changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession


def define_inbox_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("subject", String(200), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


class Inbox:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def seen(self, session: AsyncSession, *, consumer: str, event_id: str) -> bool:
        found = await session.scalar(
            select(self.table.c.event_id).where(self.table.c.consumer == consumer, self.table.c.event_id == event_id)
        )
        return found is not None

    async def record(self, session: AsyncSession, *, consumer: str, event_id: str, subject: str) -> None:
        """Records the event; a concurrent duplicate fails on the primary key and rolls back."""
        await session.execute(
            insert(self.table).values(
                consumer=consumer,
                event_id=event_id,
                subject=subject,
                processed_at=datetime.now(UTC),
            )
        )
