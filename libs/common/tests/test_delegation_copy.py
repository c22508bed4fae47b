"""The local copy of identity's delegations, as each enforcing service reads it per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, event

from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Section
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.days import vietnam_today
from qlcb_common.db import Database

UNIT = "/TCHQ/HQHN/HQHN-NB"


@pytest.fixture
async def stored(tmp_path: Path) -> AsyncIterator[tuple[Database, DelegationCopy, list[str]]]:
    """A copy holding one delegation to UNIT's officers, and the statements run against it."""
    metadata = MetaData()
    copy = DelegationCopy(metadata)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'delegations.sqlite3'}")
    await db.create_schema(metadata)
    async with db.unit_of_work() as session:
        await session.execute(
            copy.table.insert().values(
                id="d1",
                unit_path=UNIT,
                tiers="local-officer",
                sections="identity",
                actions="read",
                target_unit_path="/TCHQ/HQHN/HQHN-BHN",
                person_ids="",
                valid_from=vietnam_today() - timedelta(days=1),
                valid_to=None,
            )
        )
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    yield db, copy, statements
    await db.dispose()


def _caller(*roles: str) -> Principal:
    return Principal("s-1", "canbo.noibai", frozenset(roles), UNIT, token="")


async def test_the_delegation_to_the_callers_unit_and_tier_is_found(
    stored: tuple[Database, DelegationCopy, list[str]],
) -> None:
    db, copy, _ = stored
    async with db.unit_of_work() as session:
        found = await copy.for_caller(session, _caller("local-officer", "sector-viewer"))

    assert [d.target_unit_path for d in found] == ["/TCHQ/HQHN/HQHN-BHN"]
    assert found[0].serves(_caller("local-officer"), Section.IDENTITY, Action.READ)


async def test_a_caller_of_no_delegable_tier_gets_none_without_a_read(
    stored: tuple[Database, DelegationCopy, list[str]],
) -> None:
    """The sector's tiers hold the sector already; no delegation is for them, so none is read."""
    db, copy, statements = stored
    async with db.unit_of_work() as session:
        found = [await copy.for_caller(session, _caller(tier)) for tier in ("system-admin", "sector-hr", "self")]

    assert found == [[], [], []]
    assert not [s for s in statements if "delegations" in s]
