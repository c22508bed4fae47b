"""A decision recorded for a later day is applied on that day only if its author may still change its
people: the author's rights as they were when it recorded the decision, with the delegations to its
unit in force on the day. On a real SQLite store: a retirement recorded under a delegation that ends
before its day fails and changes nothing; under one still in force on the day it applies."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from personnel_store import holding, person_row, sqlite_store, unit_row
from sqlalchemy import select

from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.days import vietnam_today
from qlcb_common.db import Database
from qlcb_common.errors import PermissionDenied
from qlcb_personnel.audit import service as audit
from qlcb_personnel.audit import trail
from qlcb_personnel.audit.models import AuditEntry
from qlcb_personnel.db_models import make_delegations, make_outbox
from qlcb_personnel.decision_documents import applier
from qlcb_personnel.decision_documents import service as decisions
from qlcb_personnel.decision_documents.models import DecisionDocument
from qlcb_personnel.persons import status
from qlcb_personnel.units.models import Unit

TODAY = vietnam_today()
"""The checks at recording read the server's day: the test's days are counted from it."""
DAY = TODAY + timedelta(days=30)
"""The retirement's effective date."""


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_store(tmp_path) as database:
        yield database


async def _recorded_under_a_delegation_until(db: Database, until: date) -> tuple[str, str]:
    """A retirement of a Hà Nội officer for `DAY`, recorded by the Cục's admin under a delegation of
    Hà Nội's movements valid from today to `until`; the decision's id and the person's."""
    root = unit_row("TCHQ")
    cuc = unit_row(f"CDT{uuid.uuid4().hex[:4]}", root)
    hanoi = unit_row(f"HN{uuid.uuid4().hex[:4]}", root)
    person = person_row(
        hanoi,
        f"{uuid.uuid4().int % 10**12:012d}",
        uuid.uuid4().hex[:8],
        "Đỗ Văn Hưu",
        born=date(1966, 2, 3),
        sex="SEX_MALE",
    )
    copy = make_delegations()
    with trail.acting_as_system("test"):
        async with db.unit_of_work() as session:
            for row in (root, cuc, hanoi, person):
                session.add(row)
                await session.flush()
            await session.execute(
                copy.table.insert().values(
                    id=str(uuid.uuid4()),
                    unit_path=cuc.path,
                    tiers="local-admin",
                    sections="movement",
                    actions="update",
                    target_unit_path=hanoi.path,
                    person_ids="",
                    valid_from=TODAY,
                    valid_to=until,
                )
            )
    admin = Principal(
        subject="s-admin", username="qtcuc", roles=frozenset({"local-admin"}), unit_path=cuc.path, token=""
    )
    grant = Delegation(
        cuc.path,
        frozenset({"local-admin"}),
        frozenset({Section.MOVEMENT}),
        frozenset({Action.UPDATE}),
        target_unit_path=hanoi.path,
        valid_from=TODAY,
        valid_to=until,
    )
    data = decisions.DecisionInput(
        kind="retirement",
        number=f"{uuid.uuid4().int % 1000}/QĐ-TCHQ",
        decision_date=TODAY.isoformat(),
        effective_date=DAY.isoformat(),
        body="Tổng cục Hải quan",
        signer="Nguyễn Văn Ký",
        signer_post="",
        summary="",
        items=[decisions.ItemInput(person.id, {})],
    )
    with trail.acting_as_system("test"):
        async with db.unit_of_work() as session:
            document, _ = await decisions.create(
                session, outbox=make_outbox(), actor=admin, delegations=[grant], data=data, today=TODAY
            )
    assert document.state == "pending"
    return document.id, person.id


async def _applied_on_its_day(db: Database, decision_id: str) -> DecisionDocument:
    with trail.acting_as_system("decision-applier"):
        await applier.apply_due(db, make_outbox(), make_delegations(), DAY)
    async with db.unit_of_work() as session:
        return await session.get_one(DecisionDocument, decision_id)


async def test_a_decision_whose_authors_delegation_ended_before_its_day_fails_and_changes_nothing(
    db: Database,
) -> None:
    decision_id, person_id = await _recorded_under_a_delegation_until(db, TODAY + timedelta(days=1))
    document = await _applied_on_its_day(db, decision_id)
    assert document.state == "failed"
    assert str(document.failure).startswith("items[0].person_id: Không có hồ sơ"), "no longer the author's to reach"
    async with db.unit_of_work() as session:
        assert await status.current(session, [person_id]) == {}, "still in service"


async def test_a_decision_whose_authors_delegation_is_in_force_on_its_day_applies(db: Database) -> None:
    decision_id, person_id = await _recorded_under_a_delegation_until(db, DAY + timedelta(days=30))
    document = await _applied_on_its_day(db, decision_id)
    assert document.state == "applied", document.failure
    async with db.unit_of_work() as session:
        retired = (await status.current(session, [person_id]))[person_id]
    assert (retired.status, retired.valid_from) == ("PERSON_STATUS_RETIRED", DAY)
    async with db.unit_of_work() as session:
        written = await session.execute(
            select(AuditEntry.account, AuditEntry.target).where(
                AuditEntry.person_id == person_id, AuditEntry.action != "read"
            )
        )
    assert ("qtcuc", "person_statuses") in set(written), "the author's write, applied on its day"


async def test_a_decision_applies_as_of_the_authors_unit_where_it_is_on_the_day(db: Database) -> None:
    """The Cục moved under another parent before the day: its admin's delegation, granted to the
    unit where it now is, still reaches the person."""
    decision_id, _ = await _recorded_under_a_delegation_until(db, DAY + timedelta(days=30))
    copy = make_delegations()
    with trail.acting_as_system("test"):
        async with db.unit_of_work() as session:
            document = await session.get_one(DecisionDocument, decision_id)
            cuc = await session.get_one(Unit, document.created_as["unit_id"] if document.created_as else "")
            parent = unit_row(f"KV{uuid.uuid4().hex[:4]}", await session.get_one(Unit, cuc.parent_id or ""))
            session.add(parent)
            await session.flush()
            old_path, cuc.parent_id, cuc.path = cuc.path, parent.id, f"{parent.path}/{cuc.code}"
            await session.execute(
                copy.table.update().where(copy.table.c.unit_path == old_path).values(unit_path=cuc.path)
            )
    document = await _applied_on_its_day(db, decision_id)
    assert document.state == "applied", document.failure


async def test_a_raise_is_decided_only_by_whoever_reads_what_it_is_decided_from(db: Database) -> None:
    """An officer granted the salary alone may not decide a raise: its refusal would name the day it is
    due, which a discipline or a year not completed moves."""
    root = unit_row("TCHQ")
    hanoi = unit_row("HQHN", root)
    person = person_row(hanoi, "001085000321", "HN0321", "Vũ Văn Bậc")
    with trail.acting_as_system("test"):
        async with db.unit_of_work() as session:
            for row in (root, hanoi, person):
                session.add(row)
                await session.flush()
    officer = Principal(
        subject="s-officer",
        username="nhansu",
        roles=frozenset({"local-officer"}),
        unit_path=hanoi.path,
        token="",
        claims={"sections": ["salary"]},
    )
    data = decisions.DecisionInput(
        kind="regular_raise",
        number="7/QĐ-HQHN",
        decision_date=TODAY.isoformat(),
        effective_date=TODAY.isoformat(),
        body="Cục Hải quan TP Hà Nội",
        signer="Nguyễn Văn Ký",
        signer_post="",
        summary="",
        items=[decisions.ItemInput(person.id, {"rank_code": "01.003", "step": 2, "coefficient": "2.67"})],
    )
    with trail.acting_as_system("test"), pytest.raises(PermissionDenied, match="rewards_discipline"):
        async with db.unit_of_work() as session:
            await decisions.create(session, outbox=make_outbox(), actor=officer, data=data, today=TODAY)


def _admin_of(unit: Unit) -> Principal:
    return Principal(
        subject=f"s-{unit.code}", username=unit.code, roles=frozenset({"local-admin"}), unit_path=unit.path, token=""
    )


async def _decision_entries(db: Database, reader: Unit) -> list[AuditEntry]:
    async with db.unit_of_work() as session:
        found, _ = await audit.list_entries(session, actor=_admin_of(reader), criteria=audit.Criteria(page_size=200))
    return sorted((f.entry for f in found if f.entry.target == "decision_documents"), key=lambda e: e.occurred_at)


async def test_a_decisions_own_entries_are_its_authors_units_where_that_unit_is(db: Database) -> None:
    """The decision's header (number, signer, state) is the Cục's doing: the Cục's admin finds its
    entries among the Cục's, recorded there and applied where the Cục has moved meanwhile; Hà Nội's
    admin, whose officer it retires, finds the changes to the officer, not the Cục's decision."""
    decision_id, _ = await _recorded_under_a_delegation_until(db, DAY + timedelta(days=30))
    async with db.unit_of_work() as session:
        document = await session.get_one(DecisionDocument, decision_id)
        cuc = await session.get_one(Unit, document.created_as["unit_id"] if document.created_as else "")
        hanoi = (await session.scalars(select(Unit).where(Unit.parent_id == cuc.parent_id, Unit.id != cuc.id))).one()
    assert [(e.action, e.target_id) for e in await _decision_entries(db, cuc)] == [(trail.CREATE, decision_id)]
    assert await _decision_entries(db, hanoi) == []

    copy = make_delegations()
    with trail.acting_as_system("test"):
        async with db.unit_of_work() as session:
            cuc = await session.get_one(Unit, cuc.id)
            parent = unit_row(f"KV{uuid.uuid4().hex[:4]}", await session.get_one(Unit, cuc.parent_id or ""))
            session.add(parent)
            await session.flush()
            old_path, cuc.parent_id, cuc.path = cuc.path, parent.id, f"{parent.path}/{cuc.code}"
            await session.execute(
                copy.table.update().where(copy.table.c.unit_path == old_path).values(unit_path=cuc.path)
            )
    assert (await _applied_on_its_day(db, decision_id)).state == "applied"
    applied = await _decision_entries(db, cuc)
    assert {(e.action, e.unit_path) for e in applied} == {(trail.UPDATE, cuc.path)}
    assert ["pending", "applied"] in [e.details["changes"].get("state") for e in applied]
    async with db.unit_of_work() as session:
        found, _ = await audit.list_entries(session, actor=_admin_of(hanoi), criteria=audit.Criteria(page_size=200))
    assert {f.entry.target for f in found} >= {"decision_items", "persons"}
    assert "decision_documents" not in {f.entry.target for f in found}


async def _held(db: Database, name: str, since: date, until: date | None) -> None:
    await holding(db, "qtcuc", name, since, until, unit_path="/TCHQ")


async def test_what_a_decision_writes_on_its_day_names_who_held_its_authors_account_when_recorded(
    db: Database,
) -> None:
    """The Cục admin's account (a purpose account) was Lê Thị Một's when she recorded the retirement,
    and is Trần Văn Hai's by its day: the retirement's writes are hers, not his."""
    await _held(db, "Lê Thị Một", TODAY - timedelta(days=30), None)
    decision_id, person_id = await _recorded_under_a_delegation_until(db, DAY + timedelta(days=30))
    await _held(db, "Lê Thị Một", TODAY - timedelta(days=30), TODAY - timedelta(days=1))
    await _held(db, "Trần Văn Hai", TODAY - timedelta(days=1), None)
    assert (await _applied_on_its_day(db, decision_id)).state == "applied"
    async with db.unit_of_work() as session:
        applied = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.account == "qtcuc", AuditEntry.person_id == person_id)
            )
        )
    assert applied, "the retirement's writes are the author's"
    assert {e.holder_name for e in applied} == {"Lê Thị Một"}
