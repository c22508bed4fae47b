"""Points in time on SQLite, which keeps no offset: they come back timezone-aware, in UTC, as the
same instant that was stored. `one_of`: one array parameter on PostgreSQL, IN on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import StatementError

from qlcb_common.db import Database, UtcDateTime, one_of

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


codes = Table("codes", metadata, Column("id", Integer, primary_key=True), Column("code", String(20)))


def _postgresql(values: list[str]) -> tuple[str, dict[str, object]]:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    compiled = select(codes.c.id).where(one_of("postgresql", codes.c.code, values)).compile(dialect=dialect)
    return str(compiled), compiled.params


def test_one_of_is_one_array_parameter_on_postgresql_whatever_the_number_of_values() -> None:
    (short, _), (long, long_params) = _postgresql(["A"]), _postgresql([f"C{n}" for n in range(30)])
    assert short == long, "one statement text, so one prepared statement, for any number of values"
    assert "= ANY (%(param_1)s::VARCHAR(20)[])" in short
    assert list(long_params.values()) == [[f"C{n}" for n in range(30)]]


async def test_one_of_finds_the_rows_of_the_values_on_sqlite(db: Database) -> None:
    async with db.unit_of_work() as session:
        await session.execute(insert(codes), [{"id": n, "code": f"C{n}"} for n in range(5)])
    async with db.unit_of_work() as session:
        found = await session.scalars(select(codes.c.id).where(one_of("sqlite", codes.c.code, ["C1", "C3", "X"])))
        assert sorted(found) == [1, 3]
