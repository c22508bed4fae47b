"""The audit trail's mechanisms on SQLite (the one-machine store): what a flush leaves in it, and
the hash chain that names the first entry changed, removed or cut off."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from personnel_store import sqlite_store
from sqlalchemy import delete, select, update

from qlcb_common.db import Database
from qlcb_personnel import app as _app  # noqa: F401  (registers every table of the store)
from qlcb_personnel.audit import chain, trail
from qlcb_personnel.audit.models import AuditEntry
from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.persons.models import Person
from qlcb_personnel.units.models import Unit


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_store(tmp_path) as database:
        yield database


def _unit() -> Unit:
    return Unit(
        id=str(uuid.uuid4()),
        code="HQHN",
        name="Cục Hải quan Hà Nội",
        kind="UNIT_KIND_PROVINCIAL_DEPARTMENT",
        parent_id=None,
        path="/HQHN",
        created_at=datetime.now(UTC),
        created_by="test",
    )


def _person(unit: Unit) -> Person:
    return Person(
        id=str(uuid.uuid4()),
        personal_id="001088000123",
        staff_number="HQ0001",
        full_name="Nguyễn Văn An",
        name_folded="nguyen van an",
        name_sort=b"an",
        date_of_birth=date(1988, 5, 19),
        sex="male",
        unit_id=unit.id,
        created_at=datetime.now(UTC),
        created_by="test",
    )


async def _entries(db: Database) -> list[AuditEntry]:
    async with db.unit_of_work() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.occurred_at, AuditEntry.id)))


async def test_a_flush_records_each_row_with_its_fields_and_whose_it_is(db: Database) -> None:
    unit = _unit()
    person = _person(unit)
    with trail.acting_as_system("test"):
        async with db.unit_of_work() as session:
            session.add(unit)
            await session.flush()
            session.add(person)
        async with db.unit_of_work() as session:
            found = await session.get(Person, person.id)
            assert found is not None
            found.full_name = "Nguyễn Văn Ân"
            found.name_sort = b"an2"
        async with db.unit_of_work() as session:
            unchanged = await session.get(Person, person.id)
            assert unchanged is not None
            unchanged.full_name = "Nguyễn Văn Ân"
    entries = await _entries(db)
    assert [(e.action, e.target) for e in entries] == [
        ("create", "units"),
        ("create", "persons"),
        ("update", "persons"),
    ]
    assert {e.account for e in entries} == {"system:test"}
    created, renamed = entries[1], entries[2]
    assert created.person_id == person.id
    assert created.unit_path == "/HQHN", "the person's unit, found in the session"
    assert created.details["changes"]["date_of_birth"] == [None, "1988-05-19"]
    assert renamed.details == {"changes": {"full_name": ["Nguyễn Văn An", "Nguyễn Văn Ân"]}}
    assert renamed.unit_path == "/HQHN", "the person's unit, read from the store"
    assert entries[0].transaction_id == created.transaction_id != renamed.transaction_id


async def test_a_read_is_noted_in_the_unit_of_the_record(db: Database) -> None:
    unit = _unit()
    person = _person(unit)
    async with db.unit_of_work() as session:
        session.add(unit)
        await session.flush()
        session.add(person)
    async with db.unit_of_work() as session:
        await trail.note_read(
            session, action=trail.READ, what="record", person=person, details={"as_of": date(2025, 1, 1)}
        )
    read = (await _entries(db))[-1]
    assert (read.action, read.target, read.person_id, read.unit_path) == ("read", "record", person.id, "/HQHN")
    assert read.details == {"as_of": "2025-01-01"}
    assert read.account == "system:system"


async def _sealed_chain(db: Database) -> list[AuditEntry]:
    unit = _unit()
    async with db.unit_of_work() as session:
        session.add(unit)
    for index in range(5):
        async with db.unit_of_work() as session:
            await trail.note_read(
                session, action=trail.READ, what="record", person=None, unit_path="/HQHN", details={"n": index}
            )
    async with db.unit_of_work() as session:
        assert await chain.seal(session, 4) == 4
    async with db.unit_of_work() as session:
        assert await chain.seal(session, 4) == 2
    async with db.unit_of_work() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


async def _verified(db: Database) -> chain.Verification:
    async with db.unit_of_work() as session:
        return await chain.verify(session, batch=2)


async def test_sealed_entries_form_an_unbroken_chain(db: Database) -> None:
    entries = await _sealed_chain(db)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0].prev_hash == chain.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(entries))
    result = await _verified(db)
    assert (result.intact, result.checked, result.unsealed) == (True, 6, 0)


async def test_an_entry_changed_after_sealing_is_named(db: Database) -> None:
    entries = await _sealed_chain(db)
    async with db.unit_of_work() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.id == entries[3].id).values(account="ke.gian"))
    result = await _verified(db)
    assert (result.intact, result.first_broken_seq, result.first_broken_id, result.checked) == (
        False,
        4,
        entries[3].id,
        3,
    )


async def test_an_entry_removed_from_the_middle_or_the_end_is_named(db: Database) -> None:
    entries = await _sealed_chain(db)
    async with db.unit_of_work() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == entries[5].id))
    cut = await _verified(db)
    async with db.unit_of_work() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == entries[2].id))
    gap = await _verified(db)
    assert (cut.intact, cut.first_broken_seq) == (False, 6)
    assert cut.reason == "thiếu các mục cuối chuỗi, từ số 6 đến 6"
    assert (gap.intact, gap.first_broken_seq, gap.checked) == (False, 3, 2)
    assert "thiếu mục số 3" in (gap.reason or "")


async def test_entries_written_later_continue_the_chain(db: Database) -> None:
    entries = await _sealed_chain(db)
    async with db.unit_of_work() as session:
        await trail.note_read(
            session, action=trail.EXPORT, what="persons", person=None, unit_path="/HQHN", details={"rows": 3}
        )
    assert (await _verified(db)).unsealed == 1
    async with db.unit_of_work() as session:
        assert await chain.seal(session, 10) == 1
    async with db.unit_of_work() as session:
        last = await session.scalar(select(AuditEntry).where(AuditEntry.seq == 7))
    assert last is not None
    assert last.prev_hash == entries[-1].hash
    assert (await _verified(db)).intact


async def test_entries_sealed_after_the_check_began_are_left_to_the_next(db: Database) -> None:
    """The check reads the head first: an entry beyond it (sealed while the check streams) is not a
    break of the chain."""
    entries = await _sealed_chain(db)
    async with db.unit_of_work() as session:
        await trail.note_read(session, action=trail.READ, what="record", person=None, unit_path="/HQHN", details={})
    async with db.unit_of_work() as session:
        later = await session.scalar(select(AuditEntry).where(AuditEntry.seq.is_(None)))
        assert later is not None
        last_hash = entries[-1].hash
        assert last_hash is not None
        later.seq, later.prev_hash = 7, last_hash
        later.hash = chain.digest(last_hash, 7, later)
    result = await _verified(db)
    assert (result.intact, result.checked, result.head_hash) == (True, 6, last_hash)


async def test_the_catalogs_seeded_at_start_leave_one_entry_telling_what_the_files_added(db: Database) -> None:
    with trail.acting_as_system("catalog-seed"):
        async with db.unit_of_work() as session:
            added = await catalogs.seed(session)
        async with db.unit_of_work() as session:
            again = await catalogs.seed(session)
    async with db.unit_of_work() as session:
        noted = list(await session.scalars(select(AuditEntry).where(AuditEntry.target == "import")))
    assert added > 10_000
    assert again == 0
    assert [(e.account, e.details["kind"], e.details["values"]) for e in noted] == [
        ("system:catalog-seed", "catalog_seed", added)
    ]
    assert sum(noted[0].details["by_catalog"].values()) == added
