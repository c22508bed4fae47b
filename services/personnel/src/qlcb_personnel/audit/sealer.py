"""Seals the audit trail's new entries into the hash chain, a batch at a time, as long as the
service runs; each replica runs one, and the chain's head lock makes them take turns."""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import Counter

from qlcb_common.db import Database
from qlcb_common.shutdown import Stopping
from qlcb_personnel.audit import chain

BATCH = 1000
SEALED = Counter("qlcb_personnel_audit_entries_sealed_total", "Audit entries sealed into the hash chain")

log = structlog.get_logger(__name__)


async def seal_pending(db: Database) -> int:
    """Seals everything waiting, batch by batch; returns how many."""
    total = 0
    while True:
        async with db.unit_of_work() as session:
            sealed = await chain.seal(session, BATCH)
        total += sealed
        SEALED.inc(sealed)
        if sealed < BATCH:
            return total


async def run(db: Database, interval_seconds: float, stopping: Stopping) -> None:
    while not stopping.is_set():
        try:
            await seal_pending(db)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("audit sealing round failed; will retry", error=repr(exc))
        await stopping.sleep(interval_seconds)
