"""Points in time on SQLite, which keeps no offset: they come back timezone-aware, in UTC, as the
same instant that was stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from qlcb_common.db import Database, UtcDateTime

metadata = MetaData()
events = Table("events", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime))
HANOI = timezone(timedelta(hours=7))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'events.sqlite3'}")
    await database.create_schema(metadata)
    yield database
    await database.dispose()


async def test_a_time_comes_back_aware_in_utc_as_the_same_instant(db: Database) -> None:
    stored = datetime(2025, 7, 1, 8, 30, tzinfo=HANOI)
    async with db.unit_of_work() as session:
        await session.execute(insert(events).values(id=1, at=stored))

    async with db.unit_of_work() as session:
        read = (await session.execute(select(events.c.at))).scalar_one()
        later = await session.execute(select(events.c.id).where(events.c.at > datetime(2025, 7, 1, 1, tzinfo=UTC)))

    assert read == stored
    assert read.utcoffset() == timedelta(0)
    assert read.isoformat() == "2025-07-01T01:30:00+00:00"
    assert later.scalars().all() == [1]


async def test_a_naive_time_is_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.unit_of_work() as session:
            await session.execute(insert(events).values(id=1, at=datetime(2025, 7, 1, 8, 30)))
