"""A store of reports' schema on SQLite, for the unit tests of its read-models."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from qlcb_common.db import Database
from qlcb_reports.db_models import Base


@asynccontextmanager
async def sqlite_store(folder: Path) -> AsyncIterator[Database]:
    """An empty store with every table of reports, disposed of on leaving."""
    database = Database(f"sqlite+aiosqlite:///{folder / 'reports.sqlite3'}")
    await database.create_schema(Base.metadata)
    try:
        yield database
    finally:
        await database.dispose()
