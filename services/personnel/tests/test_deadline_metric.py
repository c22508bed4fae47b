"""New entries are counted on `qlcb_personnel_entries_recorded_total` when their unit of work
commits, and not at all when it rolls back (a refused batch, a lost race at commit)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from qlcb_common.db import Database
from qlcb_personnel.deadlines import service


def _counts() -> tuple[float, float]:
    def value(timeliness: str) -> float:
        labels = {"section": "rewards", "timeliness": timeliness}
        return REGISTRY.get_sample_value("qlcb_personnel_entries_recorded_total", labels) or 0.0

    return value("late"), value("on_time")


async def _judged_then_refused(db: Database) -> None:
    async with db.unit_of_work() as session:
        await session.execute(text("SELECT 1"))
        service._count_on_commit(session, [("rewards", "late")])
        raise RuntimeError("refused after the entries were judged")


async def test_counted_when_committed_and_never_when_rolled_back() -> None:
    db = Database("sqlite+aiosqlite:///:memory:")
    try:
        late, on_time = _counts()
        with pytest.raises(RuntimeError):
            await _judged_then_refused(db)
        assert _counts() == (late, on_time)
        async with db.unit_of_work() as session:
            await session.execute(text("SELECT 1"))
            service._count_on_commit(session, [("rewards", "late"), ("rewards", "on_time"), ("rewards", "late")])
            assert _counts() == (late, on_time), "not before the commit"
        assert _counts() == (late + 2, on_time + 1)
    finally:
        await db.dispose()
