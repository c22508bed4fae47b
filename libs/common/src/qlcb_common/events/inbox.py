"""Idempotent inbox: the ids of processed events, written in the same transaction as the
effect, so a redelivered event changes nothing; and the dead letters, the messages a consumer
refused (`events.contracts`), kept whole for the operators with the reason naming the field."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.db import UtcDateTime


def define_inbox_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("subject", String(200), nullable=False),
        Column("processed_at", UtcDateTime, nullable=False),
    )


def define_dead_letter_table(metadata: MetaData) -> Table:
    return Table(
        "dead_letters",
        metadata,
        # SQLite autoincrements only an INTEGER primary key.
        Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
        Column("consumer", String(100), nullable=False),
        Column("stream", String(100), nullable=False),
        Column("stream_sequence", BigInteger, nullable=False),
        Column("subject", Text, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("reason", Text, nullable=False),
        Column("dead_lettered_at", UtcDateTime, nullable=False),
        UniqueConstraint("consumer", "stream", "stream_sequence"),
    )


class Inbox:
    def __init__(self, table: Table, dead_letters: Table) -> None:
        self.table = table
        self.dead_letters = dead_letters

    @classmethod
    def of(cls, metadata: MetaData) -> Inbox:
        """The inbox whose tables live in `metadata`, defined there the first time."""
        table = metadata.tables.get("processed_events")
        dead_letters = metadata.tables.get("dead_letters")
        return cls(
            table if table is not None else define_inbox_table(metadata),
            dead_letters if dead_letters is not None else define_dead_letter_table(metadata),
        )

    async def seen(self, session: AsyncSession, *, consumer: str, event_id: str) -> bool:
        found = await session.scalar(
            select(self.table.c.event_id).where(self.table.c.consumer == consumer, self.table.c.event_id == event_id)
        )
        return found is not None

    async def record_new(self, session: AsyncSession, *, consumer: str, events: Sequence[tuple[str, str]]) -> set[str]:
        """Records those of the (event id, subject) pairs the consumer has not processed, in one
        statement, and returns their ids. Each id is looked up through the primary key by the insert
        itself, whatever the planner knows of the table: a read of which ids are there, on a table
        a replay fills faster than it is analysed, was planned as a scan of the consumer's every row
        (a replay slowing as it went). A pair a concurrent transaction is recording waits for it, and
        is left out if that one commits."""
        if not events:
            return set()
        now = datetime.now(UTC)
        rows = [
            {"consumer": consumer, "event_id": event_id, "subject": subject, "processed_at": now}
            for event_id, subject in events
        ]
        dialect = session.get_bind().dialect.name
        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            make(self.table)
            .on_conflict_do_nothing(index_elements=[self.table.c.consumer, self.table.c.event_id])
            .returning(self.table.c.event_id)
        )
        return set((await session.scalars(statement, rows)).all())

    async def record(self, session: AsyncSession, *, consumer: str, event_id: str, subject: str) -> None:
        """Records the event; a concurrent duplicate fails on the primary key and rolls back."""
        await self.record_all(session, consumer=consumer, events=[(event_id, subject)])

    async def record_all(self, session: AsyncSession, *, consumer: str, events: Sequence[tuple[str, str]]) -> None:
        """Records the (event id, subject) pairs in one statement; a duplicate among them or one a
        concurrent consumer recorded fails on the primary key and rolls the transaction back."""
        if not events:
            return
        now = datetime.now(UTC)
        await session.execute(
            insert(self.table),
            [
                {"consumer": consumer, "event_id": event_id, "subject": subject, "processed_at": now}
                for event_id, subject in events
            ],
        )

    async def dead_letter(
        self,
        session: AsyncSession,
        *,
        consumer: str,
        stream: str,
        stream_sequence: int,
        subject: str,
        payload: bytes,
        reason: str,
    ) -> bool:
        """Keeps a refused message; False if this consumer already kept it (a redelivery)."""
        t = self.dead_letters
        kept = await session.scalar(
            select(t.c.id).where(t.c.consumer == consumer, t.c.stream == stream, t.c.stream_sequence == stream_sequence)
        )
        if kept is not None:
            return False
        await session.execute(
            insert(t).values(
                consumer=consumer,
                stream=stream,
                stream_sequence=stream_sequence,
                subject=subject,
                payload=payload,
                reason=reason,
                dead_lettered_at=datetime.now(UTC),
            )
        )
        return True
