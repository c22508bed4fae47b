"""A purpose account's holding ended by the holder leaving is told to the services that keep a copy of
the holder history (personnel's and reports' audit), as a hand-over or release is (R-AUD-1): on a
real SQLite store, through the lifecycle projection identity runs on personnel's events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from keycloak import KeycloakAdmin
from sqlalchemy import select

from qlcb.identity.v1 import events_pb2 as identity_events
from qlcb.personnel.v1 import events_pb2, personnel_pb2
from qlcb_common.days import vietnam_today
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.contracts import IDENTITY_EVENTS, accept
from qlcb_common.events.envelope import unpack, wrap
from qlcb_identity.db_models import Base, make_outbox
from qlcb_identity.lifecycle.projection import projection
from qlcb_identity.purpose_accounts.models import HolderAssignment, PurposeAccount

PERSONAL_ID = "001088000123"
OUTBOX = make_outbox()


class _Keycloak:
    """What the projection asks of Keycloak: the recorder's roles and groups, and the account locked out."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get_realm_roles_of_user(self, user_id: str) -> list[dict[str, Any]]:
        return []

    def get_user_groups(self, user_id: str) -> list[dict[str, Any]]:
        return []

    def set_user_password(self, user_id: str, password: str, temporary: bool) -> None:
        self.calls.append(f"password {user_id}")

    def user_logout(self, user_id: str) -> None:
        self.calls.append(f"logout {user_id}")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'identity.sqlite3'}")
    await database.create_schema(Base.metadata)
    yield database
    await database.dispose()


async def _held(db: Database, since: date) -> PurposeAccount:
    account = PurposeAccount(
        id=str(uuid.uuid4()),
        unit_path="/TCHQ/HQHN",
        purpose="Văn thư",
        kind="user",
        tier="local-officer",
        username="hqhn.van-thu",
        keycloak_user_id="kc-van-thu",
        issued_by="qthanoi",
        issued_at=datetime.now(UTC),
    )
    async with db.unit_of_work() as session:
        session.add(account)
        await session.flush()
        session.add(
            HolderAssignment(
                id=str(uuid.uuid4()),
                account_id=account.id,
                holder_name="Lê Thị Một",
                holder_personal_id=PERSONAL_ID,
                holder_email="le.thi.mot@haiquan.example",
                valid_from=since,
                valid_to=None,
                recorded_by="qthanoi",
                recorded_at=datetime.now(UTC),
            )
        )
    return account


async def test_a_holder_retiring_ends_the_holding_and_tells_it(db: Database) -> None:
    retired_on = vietnam_today() - timedelta(days=3)
    account = await _held(db, retired_on - timedelta(days=200))
    keycloak = _Keycloak()
    envelope = wrap(
        subjects.PERSONNEL_PERSON_RETIRED,
        events_pb2.PersonStatusChanged(
            person=personnel_pb2.Person(
                id=str(uuid.uuid4()),
                personal_id=PERSONAL_ID,
                full_name="Lê Thị Một",
                status=personnel_pb2.PERSON_STATUS_RETIRED,
            ),
            previous_status=personnel_pb2.PERSON_STATUS_ACTIVE,
            effective_date=retired_on.isoformat(),
            decision="12/QĐ-HQHN",
        ),
        actor="5b0e7a4c-9a43-4d1e-8f51-0c8f2d1e6a7b",
        occurred_at=datetime.now(UTC),
    )
    async with db.unit_of_work() as session:
        await projection(lambda: cast(KeycloakAdmin, keycloak), OUTBOX)(session, envelope)

    async with db.unit_of_work() as session:
        ended = (await session.scalars(select(HolderAssignment))).one()
        published = (
            await session.execute(select(OUTBOX.table.c.subject, OUTBOX.table.c.envelope).order_by(OUTBOX.table.c.seq))
        ).all()
    told = [
        unpack(accept(subject, data, IDENTITY_EVENTS), identity_events.HolderRecorded).assignment
        for subject, data in published
        if subject == subjects.IDENTITY_HOLDER_RECORDED
    ]
    assert ended.valid_to == retired_on
    assert [(t.id, t.account_username, t.holder_personal_id, t.valid_to) for t in told] == [
        (ended.id, account.username, PERSONAL_ID, retired_on.isoformat())
    ]
    assert keycloak.calls == ["password kc-van-thu", "logout kc-van-thu"], "locked out until handed over"
