"""Idempotent inbox: the ids of processed events, written in the same transaction as the
effect, so a redelivered event changes nothing, each with its stream sequence; the marks through
which the ids may be gone (`InboxMark`, ADR 0056); and the dead letters, the messages a consumer
refused (`events.contracts`), kept whole for the operators with the reason naming the field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    Column,
    CursorResult,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
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
        # Where the consumer was handed the event; none for ids recorded before it was kept.
        Column("stream_sequence", BigInteger, nullable=True),
        # What `Inbox.prune` reads: a consumer's ids processed before a time.
        Index("ix_processed_events_consumer_processed_at", "consumer", "processed_at"),
    )


def define_mark_table(metadata: MetaData) -> Table:
    return Table(
        "inbox_marks",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("stream", String(100), nullable=False),
        Column("stream_created", String(64), nullable=False),
        Column("through", BigInteger, nullable=False),
        Column("through_event_id", String(100), nullable=False),
        Column("since", UtcDateTime, nullable=False),
        Column("marked_at", UtcDateTime, nullable=False),
    )


@dataclass(frozen=True)
class InboxMark:
    """Every message of `stream` up to `through` was applied or refused by the consumer, which may
    have forgotten their ids: a consumer made again starts after it, never from the start.

    The sequence means something in one numbering of the stream only: `stream_created` is the
    stream's creation time and `through_event_id` the id of the message at `through` when the mark
    was set, by which a stream made again (a switch of restored streams, ADR 0026) is found to
    number its messages as before or not. Ids processed before `since` are never pruned: it is when
    this numbering was first marked (earlier ids may carry another's sequences), or when a restore
    switched the store in (its ids are what the consumers drop the outboxes' resends by)."""

    stream: str
    stream_created: str
    through: int
    through_event_id: str
    since: datetime


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
    def __init__(self, table: Table, dead_letters: Table, marks: Table) -> None:
        self.table = table
        self.dead_letters = dead_letters
        self.marks = marks

    @classmethod
    def of(cls, metadata: MetaData) -> Inbox:
        """The inbox whose tables live in `metadata`, defined there the first time."""
        table = metadata.tables.get("processed_events")
        dead_letters = metadata.tables.get("dead_letters")
        marks = metadata.tables.get("inbox_marks")
        return cls(
            table if table is not None else define_inbox_table(metadata),
            dead_letters if dead_letters is not None else define_dead_letter_table(metadata),
            marks if marks is not None else define_mark_table(metadata),
        )

    async def seen(self, session: AsyncSession, *, consumer: str, event_id: str) -> bool:
        found = await session.scalar(
            select(self.table.c.event_id).where(self.table.c.consumer == consumer, self.table.c.event_id == event_id)
        )
        return found is not None

    async def record_new(
        self, session: AsyncSession, *, consumer: str, events: Sequence[tuple[str, str, int | None]]
    ) -> set[str]:
        """Records those of the (event id, subject, stream sequence) triples the consumer has not
        processed, in one statement, and returns their ids. Each id is looked up through the primary
        key by the insert itself, whatever the planner knows of the table: a read of which ids are
        there, on a table a replay fills faster than it is analysed, was planned as a scan of the
        consumer's every row (a replay slowing as it went). An event a concurrent transaction is
        recording waits for it, and is left out if that one commits."""
        if not events:
            return set()
        rows = _rows(consumer, events)
        dialect = session.get_bind().dialect.name
        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            make(self.table)
            .on_conflict_do_nothing(index_elements=[self.table.c.consumer, self.table.c.event_id])
            .returning(self.table.c.event_id)
        )
        return set((await session.scalars(statement, rows)).all())

    async def record(
        self,
        session: AsyncSession,
        *,
        consumer: str,
        event_id: str,
        subject: str,
        stream_sequence: int | None = None,
    ) -> None:
        """Records the event; a concurrent duplicate fails on the primary key and rolls back."""
        await self.record_all(session, consumer=consumer, events=[(event_id, subject, stream_sequence)])

    async def record_all(
        self, session: AsyncSession, *, consumer: str, events: Sequence[tuple[str, str, int | None]]
    ) -> None:
        """Records the (event id, subject, stream sequence) triples in one statement; a duplicate
        among them or one a concurrent consumer recorded fails on the primary key and rolls the
        transaction back."""
        if not events:
            return
        await session.execute(insert(self.table), _rows(consumer, events))

    async def mark(self, session: AsyncSession, *, consumer: str, for_update: bool = False) -> InboxMark | None:
        m = self.marks
        statement = select(m.c.stream, m.c.stream_created, m.c.through, m.c.through_event_id, m.c.since).where(
            m.c.consumer == consumer
        )
        row = (await session.execute(statement.with_for_update() if for_update else statement)).one_or_none()
        return None if row is None else InboxMark(*row)

    async def set_mark(self, session: AsyncSession, *, consumer: str, mark: InboxMark) -> None:
        m = self.marks
        values = {
            "stream": mark.stream,
            "stream_created": mark.stream_created,
            "through": mark.through,
            "through_event_id": mark.through_event_id,
            "since": mark.since,
            "marked_at": datetime.now(UTC),
        }
        changed = await session.execute(update(m).where(m.c.consumer == consumer).values(**values))
        if cast(CursorResult[tuple[()]], changed).rowcount == 0:
            await session.execute(insert(m).values(consumer=consumer, **values))

    async def forget(self, session: AsyncSession, *, consumer: str) -> None:
        """Removes every id and the mark of a consumer that is gone for good."""
        await session.execute(delete(self.table).where(self.table.c.consumer == consumer))
        await session.execute(delete(self.marks).where(self.marks.c.consumer == consumer))

    async def prune(
        self, session: AsyncSession, *, consumer: str, through: int, since: datetime, before: datetime, limit: int
    ) -> int:
        """Deletes at most `limit` of the consumer's ids of events at or below stream sequence
        `through` processed from `since` to `before`, and says how many."""
        t = self.table
        old = (
            select(t.c.event_id)
            .where(
                t.c.consumer == consumer,
                t.c.processed_at >= since,
                t.c.processed_at < before,
                t.c.stream_sequence <= through,
            )
            .limit(limit)
        )
        result = await session.execute(delete(t).where(t.c.consumer == consumer, t.c.event_id.in_(old)))
        return cast(CursorResult[tuple[()]], result).rowcount

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


def _rows(consumer: str, events: Sequence[tuple[str, str, int | None]]) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    return [
        {
            "consumer": consumer,
            "event_id": event_id,
            "subject": subject,
            "processed_at": now,
            "stream_sequence": sequence,
        }
        for event_id, subject, sequence in events
    ]
