"""A head whose appointments have all ended keeps no unit-leader tier (R-ACC-8), on a real SQLite
store through the projection identity runs on personnel's record events and the check it runs for
terms that run out with no event: Keycloak is a stand-in recording what it is asked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from keycloak import KeycloakAdmin
from sqlalchemy import select

from qlcb.personnel.v1 import events_pb2, record_pb2
from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.envelope import wrap
from qlcb_common.tiers import Tier
from qlcb_identity.account_requests.models import AccountRequest, RequestStatus
from qlcb_identity.audit.models import AuditEntry
from qlcb_identity.db_models import Base
from qlcb_identity.lifecycle import reviews
from qlcb_identity.lifecycle.models import AccountReview
from qlcb_identity.positions.projection import projection
from qlcb_identity.positions.service import check_ended

PERSONAL_ID = "001070000456"
USERNAME = "nguyenvantruong"
SYSADMIN = "sub-quantri"
CLERK = "sub-nhansu"
TODAY = date(2026, 12, 7)


class _Keycloak:
    """The head's account in HQHN holding unit-leader and self; the recorders' tiers."""

    def __init__(self) -> None:
        self.tiers = {"kc-head": {"unit-leader", "self"}, SYSADMIN: {"system-admin"}, CLERK: {"local-officer"}}
        self.logged_out: list[str] = []

    def get_user_id(self, username: str) -> str | None:
        return "kc-head" if username == USERNAME else None

    def get_user(self, user_id: str) -> dict[str, Any]:
        return {"id": user_id, "email": "truong@haiquan.example"}

    def get_user_groups(self, user_id: str) -> list[dict[str, Any]]:
        return [{"id": "g", "path": "/TCHQ/HQHN"}]

    def get_realm_roles_of_user(self, user_id: str) -> list[dict[str, Any]]:
        return [{"name": name} for name in sorted(self.tiers.get(user_id, set()))]

    def get_realm_role(self, name: str) -> dict[str, Any]:
        return {"name": name}

    def delete_realm_roles_of_user(self, user_id: str, roles: list[dict[str, Any]]) -> None:
        self.tiers[user_id] -= {r["name"] for r in roles}

    def user_logout(self, user_id: str) -> None:
        self.logged_out.append(user_id)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'identity.sqlite3'}")
    await database.create_schema(Base.metadata)
    now = datetime.now(UTC)
    async with database.unit_of_work() as session:
        session.add(
            AccountRequest(
                id=str(uuid.uuid4()),
                holder_name="Nguyễn Văn Trường",
                holder_personal_id=PERSONAL_ID,
                holder_email="truong@haiquan.example",
                unit_path="/TCHQ/HQHN",
                division="Lãnh đạo Cục",
                position="Cục trưởng",
                phone="0241234567",
                account_types=["unit-leader", "self"],
                reply_name="Văn phòng",
                reply_unit="Cục Hải quan Hà Nội",
                reply_email="vanphong@haiquan.example",
                reply_phone="0241234567",
                requester_name="Quản trị Hà Nội",
                dedup_key="k",
                status=RequestStatus.ISSUED,
                submitted_at=now,
                submitted_by="sub-qthanoi",
                submitted_by_username="qthanoi",
                due_at=now,
                issued_at=now,
                username=USERNAME,
                keycloak_user_id="kc-head",
            )
        )
    yield database
    await database.dispose()


def _changed(
    entry_id: str,
    version: int,
    *,
    post_code: str = "CUC_TRUONG",
    head: bool = True,
    valid_from: date = date(2021, 3, 1),
    valid_to: date | None = None,
    change: str = "recorded",
    recorded_by: str = SYSADMIN,
) -> Any:
    return wrap(
        subjects.PERSONNEL_RECORD_CHANGED,
        events_pb2.RecordEntryChanged(
            person_id=str(uuid.uuid4()),
            personal_id=PERSONAL_ID,
            entry=record_pb2.RecordEntry(
                id=str(uuid.uuid4()),
                entry_id=entry_id,
                version=version,
                section="appointments",
                valid_from=valid_from.isoformat(),
                valid_to=valid_to.isoformat() if valid_to else "",
                change=change,
                recorded_by=recorded_by,
            ),
            coded=[events_pb2.CodedValue(field="post_code", catalog="posts", code=post_code, head=head)],
        ),
        actor=recorded_by,
        occurred_at=datetime.now(UTC),
    )


async def _apply(db: Database, keycloak: _Keycloak, *envelopes: Any) -> None:
    handler = projection(lambda: cast(KeycloakAdmin, keycloak), today=lambda: TODAY)
    for envelope in envelopes:
        async with db.unit_of_work() as session:
            await handler(session, envelope)


async def _actions(db: Database) -> list[str]:
    async with db.unit_of_work() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.at)))


async def test_a_head_appointment_ended_by_a_system_admin_takes_the_tier_and_the_sessions(db: Database) -> None:
    keycloak = _Keycloak()
    entry = str(uuid.uuid4())
    await _apply(db, keycloak, _changed(entry, 1))
    assert "unit-leader" in keycloak.tiers["kc-head"], "a running appointment keeps the tier"
    await _apply(db, keycloak, _changed(entry, 2, valid_to=TODAY, change="corrected"))
    assert "unit-leader" in keycloak.tiers["kc-head"], "the last day of the term is still the head's"
    await _apply(db, keycloak, _changed(entry, 3, valid_to=TODAY - timedelta(days=1), change="corrected"))
    assert keycloak.tiers["kc-head"] == {"self"}
    assert keycloak.logged_out == ["kc-head"]
    assert await _actions(db) == ["account.revoke"]

    await _apply(db, keycloak, _changed(entry, 2, change="corrected"))
    assert await _actions(db) == ["account.revoke"], "an older version arriving late changes nothing"


async def test_a_clerks_recording_asks_an_account_admin_once_and_the_revocation_closes_it(db: Database) -> None:
    keycloak = _Keycloak()
    entry = str(uuid.uuid4())
    ended = TODAY - timedelta(days=10)
    await _apply(
        db,
        keycloak,
        _changed(entry, 1, recorded_by=CLERK),
        _changed(entry, 2, valid_to=ended, change="corrected", recorded_by=CLERK),
        _changed(entry, 3, change="corrected", recorded_by=CLERK),
        _changed(entry, 4, valid_to=ended, change="corrected", recorded_by=CLERK),
    )
    assert "unit-leader" in keycloak.tiers["kc-head"], "a records clerk does not strip a head's rights"
    async with db.unit_of_work() as session:
        (review,) = (await session.scalars(select(AccountReview))).all()
        assert (review.username, review.revoke_tier, review.closed_at) == (USERNAME, "unit-leader", None)
        actor = Principal(subject=SYSADMIN, username="quantri", roles=frozenset(), unit_path=None, token="")
        assert await reviews.close_revocations(session, actor=actor, username=USERNAME, tier=Tier.UNIT_LEADER) == [
            review.id
        ]
    assert await _actions(db) == ["account.review"], "one review open at a time, however often it is told"


async def test_a_term_running_out_is_found_by_the_check_once(db: Database) -> None:
    keycloak = _Keycloak()
    term_end = TODAY + timedelta(days=30)
    await _apply(db, keycloak, _changed(str(uuid.uuid4()), 1, valid_to=term_end))
    assert await check_ended(db, lambda: cast(KeycloakAdmin, keycloak), TODAY) == 0
    assert "unit-leader" in keycloak.tiers["kc-head"]

    day_after = term_end + timedelta(days=1)
    assert await check_ended(db, lambda: cast(KeycloakAdmin, keycloak), day_after) == 1
    assert keycloak.tiers["kc-head"] == {"self"}
    assert await check_ended(db, lambda: cast(KeycloakAdmin, keycloak), day_after) == 0, "settled once"
    assert await _actions(db) == ["account.revoke"]


async def test_the_tier_stays_while_a_head_appointment_runs_or_was_never_recorded(db: Database) -> None:
    keycloak = _Keycloak()
    first, second, deputy = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    await _apply(
        db,
        keycloak,
        _changed(deputy, 1, post_code="PHO_CUC_TRUONG", head=False, valid_to=TODAY - timedelta(days=1)),
    )
    assert "unit-leader" in keycloak.tiers["kc-head"], "no head appointment on record: left to the admin"
    await _apply(
        db,
        keycloak,
        _changed(first, 1, valid_to=date(2026, 2, 28)),
        _changed(second, 1, valid_from=date(2026, 3, 1)),
    )
    assert await check_ended(db, lambda: cast(KeycloakAdmin, keycloak), TODAY) == 0, "ended when recorded"
    assert "unit-leader" in keycloak.tiers["kc-head"], "an earlier term entered as history changes nothing"

    await _apply(db, keycloak, _changed(second, 2, change="retracted"))
    assert keycloak.tiers["kc-head"] == {"self"}, "the running appointment was recorded in error"
