"""Seals the audit trail's new entries into the hash chain, a batch at a time, as long as the
service runs; each replica runs one, and the chain's head lock makes them take turns.

At most once an interval, when something was sealed since, the chain's head is published on the bus
(`qlcb.personnel.audit.sealed`, through the outbox in the transaction that seals it): a copy outside
the database that whoever rewrites the database cannot rewrite with it (`chain.verify`)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import structlog
from prometheus_client import Counter

from qlcb.personnel.v1 import events_pb2
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.shutdown import Stopping
from qlcb_personnel.audit import chain

BATCH = 1000
ACTOR = "system:audit-sealer"
SEALED = Counter("qlcb_personnel_audit_entries_sealed_total", "Audit entries sealed into the hash chain")
PUBLISHED = Counter("qlcb_personnel_audit_heads_published_total", "Heads of the audit hash chain published")

log = structlog.get_logger(__name__)


class Sealer:
    def __init__(self, db: Database, outbox: Outbox, publish_interval_seconds: float) -> None:
        self._db = db
        self._outbox = outbox
        self._interval = publish_interval_seconds
        self._published_at: float | None = None
        self._unpublished = False

    async def seal_pending(self) -> int:
        """Seals everything waiting, batch by batch, publishing the head when it is due; returns how
        many were sealed."""
        total = 0
        while True:
            async with self._db.unit_of_work() as session:
                sealed = await chain.seal(session, BATCH)
                publishing = (self._unpublished or sealed > 0) and self._due()
                if publishing:
                    last = await chain.head(session)
                    await self._outbox.add(
                        session,
                        subject=subjects.PERSONNEL_AUDIT_SEALED,
                        payload=events_pb2.AuditChainSealed(
                            seq=last.seq, hash=last.hash, sealed_at=datetime.now(UTC).isoformat()
                        ),
                        actor=ACTOR,
                    )
            total += sealed
            SEALED.inc(sealed)
            if publishing:
                self._published_at, self._unpublished = time.monotonic(), False
                PUBLISHED.inc()
            else:
                self._unpublished = self._unpublished or sealed > 0
            if sealed < BATCH:
                return total

    def _due(self) -> bool:
        return self._published_at is None or time.monotonic() - self._published_at >= self._interval

    async def run(self, interval_seconds: float, stopping: Stopping) -> None:
        while not stopping.is_set():
            try:
                await self.seal_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("audit sealing round failed; will retry", error=repr(exc))
            await stopping.sleep(interval_seconds)
