"""`qlcb_common.db.insert_rows` on PostgreSQL writes by COPY inside the unit of work's transaction:
rows written first thing in a unit of work that then fails are not kept, those of one that ends are,
with their dates and texts as given (Vietnamese text as NFC)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, func, select

from qlcb_common.db import Database, insert_rows
from tests.support import System

pytestmark = pytest.mark.integration

METADATA = MetaData()
ROWS = Table(
    "copied_rows",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(50)),
    Column("day", Date),
)


async def _copied_then_failed(db: Database) -> None:
    async with db.unit_of_work() as session:
        await insert_rows(session, ROWS, ("id", "name", "day"), [(1, "Nguyễn Văn An", date(2026, 1, 2))])
        raise RuntimeError("after the rows")


async def test_rows_copied_belong_to_the_unit_of_work(system: System) -> None:
    assert system.infra.postgres is not None
    name = f"copied_{uuid.uuid4().hex[:8]}"
    system.infra.postgres.create_database(name)
    db = Database(system.infra.postgres.dsn(name))
    try:
        await db.create_schema(METADATA)
        with pytest.raises(RuntimeError, match="after the rows"):
            await _copied_then_failed(db)
        async with db.unit_of_work() as session:
            assert await session.scalar(select(func.count()).select_from(ROWS)) == 0
            await insert_rows(
                session,
                ROWS,
                ("id", "name", "day"),
                [(2, "Trần Thị Bình", date(2025, 12, 31)), (3, "Lê Văn Cường", date(2026, 6, 30))],
            )
        async with db.unit_of_work() as session:
            rows = (await session.execute(select(ROWS).order_by(ROWS.c.id))).all()
        assert [tuple(row) for row in rows] == [
            (2, "Trần Thị Bình", date(2025, 12, 31)),
            (3, "Lê Văn Cường", date(2026, 6, 30)),
        ]
    finally:
        await db.dispose()
