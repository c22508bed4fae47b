"""A store of personnel's schema on SQLite, audited as the service's sessions are, and the rows its
unit tests build on: units, people and the holdings of purpose accounts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from qlcb.identity.v1 import events_pb2 as identity_events
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.envelope import wrap
from qlcb_personnel import app as _app  # noqa: F401  (registers every table of personnel's store)
from qlcb_personnel.audit import holders, trail
from qlcb_personnel.db_models import Base, make_delegations, make_outbox
from qlcb_personnel.persons.models import Person
from qlcb_personnel.units.models import Unit


@asynccontextmanager
async def sqlite_store(folder: Path) -> AsyncIterator[Database]:
    """An empty store with every table of personnel (the outbox and the delegations' copy among
    them), disposed of on leaving."""
    database = Database(f"sqlite+aiosqlite:///{folder / 'personnel.sqlite3'}", session_class=trail.audited_sessions())
    make_outbox(), make_delegations()  # their tables, defined where the service defines them
    await database.create_schema(Base.metadata)
    try:
        yield database
    finally:
        await database.dispose()


def unit_row(code: str, parent: Unit | None = None, *, name: str = "", kind: str = "UNIT_KIND_SUB_UNIT") -> Unit:
    """A unit under `parent` (at the root if none), its path built from the codes."""
    return Unit(
        id=str(uuid.uuid4()),
        code=code,
        name=name or code,
        kind=kind,
        parent_id=parent.id if parent else None,
        path=f"{parent.path if parent else ''}/{code}",
        created_at=datetime.now(UTC),
        created_by="test",
    )


def person_row(
    unit: Unit,
    personal_id: str,
    staff_number: str,
    full_name: str,
    *,
    born: date = date(1985, 3, 4),
    sex: str = "SEX_FEMALE",
) -> Person:
    """A person in `unit`, as the service stores one (its name's search keys left plain)."""
    return Person(
        id=str(uuid.uuid4()),
        personal_id=personal_id,
        staff_number=staff_number,
        full_name=full_name,
        name_folded=full_name.lower(),
        name_sort=full_name.encode(),
        date_of_birth=born,
        sex=sex,
        unit_id=unit.id,
        created_at=datetime.now(UTC),
        created_by="test",
    )


async def holding(
    db: Database,
    account: str,
    name: str,
    since: date,
    until: date | None,
    *,
    unit_path: str,
    personal_id: str = "",
    assignment_id: str | None = None,
) -> None:
    """Identity's event of a holding of a purpose account, as personnel's consumer applies it: the
    holding is the same one (by id: `assignment_id`, else one made of the account and the name)
    whatever its period, so a second call for it closes or moves it."""
    recorded = identity_events.HolderRecorded(
        assignment=identity_events.HolderAssignment(
            id=assignment_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{account}/{name}")),
            account_username=account,
            unit_path=unit_path,
            holder_name=name,
            holder_personal_id=personal_id,
            valid_from=since.isoformat(),
            valid_to=until.isoformat() if until else "",
        )
    )
    envelope = wrap(subjects.IDENTITY_HOLDER_RECORDED, recorded, actor="identity", occurred_at=datetime.now(UTC))
    async with db.unit_of_work() as session:
        await holders.apply(session, envelope)
