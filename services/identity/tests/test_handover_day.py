"""A purpose account's hand-over and release are recorded on the day they happen (ADR 0047), on a
real SQLite store: a day before today is refused naming the field, and nothing is written, published
or changed in Keycloak; today is taken."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from cryptography.fernet import Fernet, MultiFernet
from keycloak import KeycloakAdmin
from sqlalchemy import func, select

from qlcb_common.auth import Principal
from qlcb_common.days import VIETNAM
from qlcb_common.db import Database
from qlcb_common.errors import InvalidArgument
from qlcb_identity import credentials
from qlcb_identity.account_requests.models import CredentialDelivery
from qlcb_identity.audit.models import AuditEntry
from qlcb_identity.db_models import Base, make_outbox
from qlcb_identity.purpose_accounts import service
from qlcb_identity.purpose_accounts.models import HolderAssignment, PurposeAccount

HEAD = Principal(subject="s-head", username="thutruong", roles=frozenset({"unit-leader"}), unit_path="/HQHN", token="")
OUTBOX = make_outbox()
COURIER = credentials.Courier(sealer=MultiFernet([Fernet(Fernet.generate_key())]), lifetime=timedelta(days=3))


class _Keycloak:
    """Records every password set and sign-out."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def set_user_password(self, user_id: str, password: str, temporary: bool) -> None:
        self.calls.append("password")

    def user_logout(self, user_id: str) -> None:
        self.calls.append("logout")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'identity.sqlite3'}")
    await database.create_schema(Base.metadata)
    yield database
    await database.dispose()


def _today() -> date:
    return datetime.now(VIETNAM).date()


async def _held_account(db: Database) -> str:
    """An account of Hà Nội held by Lê Thị Một for a month."""
    account = PurposeAccount(
        id=str(uuid.uuid4()),
        unit_path="/HQHN",
        purpose="Nhân sự 1",
        kind="user",
        tier="local-officer",
        username="hqhn.nhan-su-1",
        keycloak_user_id="kc-1",
        issued_by="qthanoi",
        issued_at=datetime.now(UTC),
    )
    held = HolderAssignment(
        id=str(uuid.uuid4()),
        account_id=account.id,
        holder_name="Lê Thị Một",
        holder_email="le.thi.mot@haiquan.example",
        valid_from=_today() - timedelta(days=30),
        valid_to=None,
        recorded_by="qthanoi",
        recorded_at=datetime.now(UTC),
    )
    async with db.unit_of_work() as session:
        session.add(account)
        await session.flush()
        session.add(held)
    return account.id


async def _state(db: Database) -> tuple[list[tuple[str, date, date | None]], int, int, int]:
    """The holder history, and how many events, identity audit entries and first-login credentials
    were written."""
    async with db.unit_of_work() as session:
        history = (
            await session.execute(
                select(HolderAssignment.holder_name, HolderAssignment.valid_from, HolderAssignment.valid_to).order_by(
                    HolderAssignment.valid_from
                )
            )
        ).all()
        events = await session.scalar(select(func.count()).select_from(OUTBOX.table))
        audited = await session.scalar(select(func.count()).select_from(AuditEntry))
        mailed = await session.scalar(select(func.count()).select_from(CredentialDelivery))
    return [(name, start, end) for name, start, end in history], int(events or 0), int(audited or 0), int(mailed or 0)


async def _hand_over(db: Database, account_id: str, since: date, keycloak: _Keycloak) -> None:
    async with db.unit_of_work() as session:
        await service.assign_holder(
            session,
            actor=HEAD,
            account_id=account_id,
            holder_name="Trần Văn Hai",
            holder_email="tran.van.hai@haiquan.example",
            since=since,
            admin=lambda: cast(KeycloakAdmin, keycloak),
            courier=COURIER,
            outbox=OUTBOX,
        )


async def _release(db: Database, account_id: str, until: date, keycloak: _Keycloak) -> None:
    async with db.unit_of_work() as session:
        await service.release(
            session,
            actor=HEAD,
            account_id=account_id,
            until=until,
            admin=lambda: cast(KeycloakAdmin, keycloak),
            outbox=OUTBOX,
        )


@pytest.mark.parametrize("days_back", [1, 29])
async def test_a_backdated_hand_over_is_refused_naming_the_day_and_nothing_is_written(
    db: Database, days_back: int
) -> None:
    account_id = await _held_account(db)
    before = await _state(db)
    keycloak = _Keycloak()
    with pytest.raises(InvalidArgument) as refused:
        await _hand_over(db, account_id, _today() - timedelta(days=days_back), keycloak)
    [violation] = refused.value.violations
    assert violation.field == "since"
    assert violation.description.startswith("Không được trước ngày hôm nay")
    assert await _state(db) == before, "no holding ended or begun, no event, no entry, nothing to mail"
    assert keycloak.calls == [], "no password set, no session ended"


async def test_a_backdated_release_is_refused_naming_the_day_and_nothing_is_written(db: Database) -> None:
    account_id = await _held_account(db)
    before = await _state(db)
    keycloak = _Keycloak()
    with pytest.raises(InvalidArgument) as refused:
        await _release(db, account_id, _today() - timedelta(days=1), keycloak)
    assert [v.field for v in refused.value.violations] == ["until"]
    assert await _state(db) == before
    assert keycloak.calls == []


async def test_a_hand_over_and_a_release_recorded_today_are_taken(db: Database) -> None:
    account_id = await _held_account(db)
    keycloak = _Keycloak()
    await _hand_over(db, account_id, _today(), keycloak)
    month_ago = _today() - timedelta(days=30)
    assert await _state(db) == ([("Lê Thị Một", month_ago, _today()), ("Trần Văn Hai", _today(), None)], 2, 1, 1)
    async with db.unit_of_work() as session:
        handed = await session.scalar(select(HolderAssignment).where(HolderAssignment.valid_to.is_(None)))
        assert handed is not None
        handed.valid_from = month_ago  # handed over a month ago: a holder keeps it at least a day
    await _release(db, account_id, _today(), keycloak)
    history, events, audited, _ = await _state(db)
    assert history[-1] == ("Trần Văn Hai", month_ago, _today())
    assert (events, audited) == (3, 2)
    assert keycloak.calls == ["password", "logout", "password", "logout"]
