"""The versions of many catalog codes read in one statement (`catalogs.read_versions`), as a resume
labels a whole record: each code is then named as `value_on` names it, version by day, without a
statement of its own. On a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from personnel_store import sqlite_store
from sqlalchemy import event

from qlcb_common.db import Database
from qlcb_personnel.audit import trail
from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.catalogs.models import CatalogValue


def _value(catalog: str, code: str, label: str, since: date, until: date | None = None) -> CatalogValue:
    return CatalogValue(
        catalog=catalog,
        code=code,
        valid_from=since,
        valid_to=until,
        label=label,
        stat_group=None,
        attributes={},
        legal_basis="Thông tư 2/2021/TT-BNV",
        recorded_at=datetime.now(UTC),
        recorded_by="test",
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_store(tmp_path) as database:
        with trail.acting_as_system("test"):
            async with database.unit_of_work() as session:
                session.add_all(
                    [
                        _value("ranks", "01.003", "Chuyên viên (cũ)", date(2003, 1, 1), date(2021, 12, 31)),
                        _value("ranks", "01.003", "Chuyên viên", date(2022, 1, 1)),
                        _value("evaluation_levels", "HTTNV", "Hoàn thành tốt nhiệm vụ", date(2020, 1, 1)),
                    ]
                )
        yield database


async def test_codes_read_at_once_are_named_by_day_without_a_statement_each(db: Database) -> None:
    statements: list[str] = []

    def counted(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", counted)
    try:
        async with db.unit_of_work() as session:
            await catalogs.read_versions(
                session, [("ranks", "01.003"), ("evaluation_levels", "HTTNV"), ("ranks", "99.999")]
            )
            read = len(statements)
            named = [
                await catalogs.value_on(session, "ranks", "01.003", date(2015, 6, 30)),
                await catalogs.value_on(session, "ranks", "01.003", date(2024, 6, 30)),
                await catalogs.value_on(session, "evaluation_levels", "HTTNV", date(2024, 12, 31)),
                await catalogs.value_on(session, "ranks", "99.999", date(2024, 6, 30)),
            ]
            after = len(statements)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", counted)

    assert [v.label if v else None for v in named] == [
        "Chuyên viên (cũ)",
        "Chuyên viên",
        "Hoàn thành tốt nhiệm vụ",
        None,
    ]
    assert after == read, "every code named from what was read at once, an unknown code too"
    assert sum("catalog_values" in s for s in statements) == 1
