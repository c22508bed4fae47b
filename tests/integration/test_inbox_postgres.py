"""The inbox on PostgreSQL (ADR 0031, Throughput): a batch records its events first, each looked up
through the primary key by the insert itself; one that a concurrent transaction is recording (two
replicas pulling from one consumer) waits for it, and is left out when that one commits, so its
effect is applied once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import MetaData

from qlcb_common.db import Database
from qlcb_common.events.inbox import Inbox
from tests.support import System, eventually, sessions_waiting_on_locks

pytestmark = pytest.mark.integration


async def test_a_batch_records_only_what_no_transaction_recorded_and_waits_for_one_recording_it(
    system: System,
) -> None:
    assert system.infra.postgres is not None
    name = f"inbox_{uuid.uuid4().hex[:8]}"
    system.infra.postgres.create_database(name)
    metadata = MetaData()
    inbox = Inbox.of(metadata)
    db = Database(system.infra.postgres.dsn(name))
    try:
        await db.create_schema(metadata)
        async with db.unit_of_work() as session:
            assert await inbox.record_new(session, consumer="c", events=[("e1", "s", 1), ("e2", "s", 2)]) == {
                "e1",
                "e2",
            }
        async with db.unit_of_work() as session:
            # Another consumer's record of the same event is its own.
            assert await inbox.record_new(session, consumer="d", events=[("e1", "s", 1)]) == {"e1"}

        first_recorded = asyncio.Event()
        first_may_commit = asyncio.Event()

        async def first() -> set[str]:
            async with db.unit_of_work() as session:
                recorded = await inbox.record_new(session, consumer="c", events=[("e3", "s", 3), ("e4", "s", 4)])
                first_recorded.set()
                await first_may_commit.wait()
                return recorded

        async def second() -> set[str]:
            await first_recorded.wait()
            async with db.unit_of_work() as session:
                return await inbox.record_new(
                    session, consumer="c", events=[("e2", "s", 2), ("e4", "s", 4), ("e5", "s", 5)]
                )

        one = asyncio.create_task(first())
        other = asyncio.create_task(second())
        await first_recorded.wait()

        async def waiting() -> int:
            return await sessions_waiting_on_locks(system.postgres_dsn(name), name)

        await eventually(waiting, lambda n: n == 1, timeout=30, what="the second transaction to wait on e4's lock")
        assert not other.done()
        first_may_commit.set()
        assert await one == {"e3", "e4"}
        assert await asyncio.wait_for(other, timeout=30) == {"e5"}
    finally:
        await db.dispose()
