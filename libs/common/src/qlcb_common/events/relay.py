"""Publishes committed outbox rows to JetStream, in commit order, at least once.

The event id goes out as `Nats-Msg-Id`, so a row published again after a crash (sent but
not yet marked) is dropped by the stream's duplicate window, and consumers' inboxes catch
anything older than that window. JetStream says so in its acknowledgement; such rows are counted
(`qlcb_outbox_events_deduplicated_total`).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import structlog
from nats.js import JetStreamContext
from sqlalchemy import delete, func, select, update

from qlcb_common.db import Database
from qlcb_common.events.outbox import Outbox
from qlcb_common.faults import NO_FAULT_POINTS, RELAY_PUBLISHED, FaultPoints
from qlcb_common.metrics import (
    OUTBOX_DEDUPLICATED,
    OUTBOX_PENDING,
    OUTBOX_PUBLISH_FAILURES,
    OUTBOX_PUBLISHED,
)
from qlcb_common.shutdown import Stopping

log = structlog.get_logger(__name__)


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        db: Database,
        outbox: Outbox,
        js: JetStreamContext,
        batch_size: int = 200,
        poll_interval: float = 1.0,
        publish_timeout: float = 5.0,
        keep_published: timedelta = timedelta(days=7),
        faults: FaultPoints = NO_FAULT_POINTS,
    ) -> None:
        self._service = service
        self._db = db
        self._outbox = outbox
        self._js = js
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._keep_published = keep_published
        self._last_purge = float("-inf")
        self._faults = faults

    async def run(self, stopping: Stopping | None = None) -> None:
        """Publishes until `stopping` is set, the batch in hand finished first; then publishes once
        more what is committed by then (the last calls this replica answered), so that their events
        leave now rather than when another replica or this one after a restart gets to them."""
        stopping = stopping or Stopping()
        backoff = 0.1
        while not stopping.is_set():
            self._outbox.committed.clear()
            try:
                published = await self.publish_batch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                OUTBOX_PUBLISH_FAILURES.labels(self._service).inc()
                log.warning("outbox relay round failed; will retry", error=repr(exc))
                await self._update_pending()
                await stopping.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            if published == self._batch_size:
                continue
            await stopping.wait_for(self._outbox.committed, self._poll_interval)
            if not self._outbox.committed.is_set() and not stopping.is_set():
                await self._idle_housekeeping()
        try:
            await self.publish_batch()
        except Exception as exc:
            log.warning("last outbox round before stopping failed; the rows wait for the next relay", error=repr(exc))

    async def publish_batch(self) -> int:
        """Publishes up to one batch of pending rows; returns how many were published."""
        table = self._outbox.table
        async with self._db.unit_of_work() as session:
            rows = (
                await session.execute(
                    select(table.c.seq, table.c.event_id, table.c.subject, table.c.envelope)
                    .where(table.c.published_at.is_(None))
                    .order_by(table.c.seq)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            acks = await asyncio.gather(
                *(
                    self._js.publish(
                        row.subject,
                        row.envelope,
                        timeout=self._publish_timeout,
                        headers={"Nats-Msg-Id": row.event_id},
                    )
                    for row in rows
                )
            )
            # The window between JetStream's acks and the marking, held open by crash tests only.
            await self._faults.hold(RELAY_PUBLISHED, {"event_ids": [row.event_id for row in rows]})
            await session.execute(
                update(table).where(table.c.seq.in_([row.seq for row in rows])).values(published_at=datetime.now(UTC))
            )
        OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        if duplicates := sum(1 for ack in acks if ack.duplicate):
            OUTBOX_DEDUPLICATED.labels(self._service).inc(duplicates)
        return len(rows)

    async def _idle_housekeeping(self) -> None:
        await self._update_pending()
        if time.monotonic() - self._last_purge < 3600:
            return
        self._last_purge = time.monotonic()
        table = self._outbox.table
        cutoff = datetime.now(UTC) - self._keep_published
        async with self._db.unit_of_work() as session:
            await session.execute(delete(table).where(table.c.published_at < cutoff))

    async def _update_pending(self) -> None:
        table = self._outbox.table
        try:
            async with self._db.unit_of_work() as session:
                pending = await session.scalar(
                    select(func.count()).select_from(table).where(table.c.published_at.is_(None))
                )
        except Exception as exc:
            log.warning("cannot count pending outbox rows", error=repr(exc))
            return
        OUTBOX_PENDING.labels(self._service).set(pending or 0)
