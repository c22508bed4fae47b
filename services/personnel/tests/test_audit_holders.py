"""The holder of a purpose account kept with each audit entry (ADR 0047), on a real SQLite store: an
entry names whoever held the account when it was written, whatever the holder history says later;
the search by holder finds it under them; the hash covers the holder kept; and entries written
before holders were kept still verify, their holder looked up as before."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from personnel_store import holding, sqlite_store, unit_row
from sqlalchemy import select, update

from qlcb_common.auth import Principal
from qlcb_common.days import VIETNAM
from qlcb_common.db import Database
from qlcb_common.grpc_interceptor import acting_for
from qlcb_personnel.audit import chain, service, trail
from qlcb_personnel.audit.models import AuditEntry

ACCOUNT = "hqhn.nhan-su-1"
MOT = ("Lê Thị Một", "001086000111")
HAI = ("Trần Văn Hai", "001086000222")
READER = Principal(subject="s-hr", username="vutccb", roles=frozenset({"sector-hr"}), unit_path="/TCHQ", token="")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_store(tmp_path) as database:
        yield database


def _today() -> date:
    return datetime.now(VIETNAM).date()


async def _held(db: Database, assignment: str, holder: tuple[str, str], since: date, until: date | None) -> None:
    name, personal_id = holder
    await holding(db, ACCOUNT, name, since, until, unit_path="/HQHN", personal_id=personal_id, assignment_id=assignment)


def _as(account: str) -> Principal:
    return Principal(
        subject=f"s-{account}", username=account, roles=frozenset({"local-officer"}), unit_path="/HQHN", token=""
    )


async def _read_as(db: Database, account: str, times: int = 1) -> None:
    with acting_for(_as(account)):
        async with db.unit_of_work() as session:
            for n in range(times):
                await trail.note_read(
                    session, action=trail.READ, what="record", person=None, unit_path="/HQHN", details={"n": n}
                )


async def _listed(db: Database, holder: str = "") -> list[service.Found]:
    async with db.unit_of_work() as session:
        found, _ = await service.list_entries(session, actor=READER, criteria=service.Criteria(holder=holder))
    return found


async def _handed_on_backdated(db: Database, first: str) -> None:
    """Một's holding ended and Hai's begun yesterday, recorded after Một's entries were written: the
    hand-over identity refuses now (ADR 0047), or the copy of the history changed."""
    yesterday = _today() - timedelta(days=1)
    await _held(db, first, MOT, _today() - timedelta(days=30), yesterday)
    await _held(db, str(uuid.uuid4()), HAI, yesterday, None)


async def test_an_entry_keeps_whoever_held_the_account_when_it_was_written(db: Database) -> None:
    first = str(uuid.uuid4())
    await _held(db, first, MOT, _today() - timedelta(days=30), None)
    await _read_as(db, ACCOUNT, times=2)
    with acting_for(_as(ACCOUNT)):
        async with db.unit_of_work() as session:
            await trail.note_import(session, unit_path="/HQHN", details={"rows": 0})
    await _read_as(db, "nguyen.van.ca-nhan")
    await _handed_on_backdated(db, first)

    listed = await _listed(db)
    assert sorted((f.entry.account, f.entry.action, f.holder_name, f.holder_personal_id) for f in listed) == [
        ("hqhn.nhan-su-1", "import", *MOT),
        ("hqhn.nhan-su-1", "read", *MOT),
        ("hqhn.nhan-su-1", "read", *MOT),
        ("nguyen.van.ca-nhan", "read", "", ""),
    ]
    assert {f.entry.holder_name for f in listed if f.entry.account != ACCOUNT} == {""}, "kept: held by nobody"
    assert [len(await _listed(db, holder)) for holder in (MOT[1], "le thi mot", HAI[1], "Trần Văn Hai")] == [3, 3, 0, 0]


async def test_a_write_captured_at_flush_keeps_the_holder_too(db: Database) -> None:
    await _held(db, str(uuid.uuid4()), MOT, _today() - timedelta(days=30), None)
    with acting_for(_as(ACCOUNT)):
        async with db.unit_of_work() as session:
            await trail.note_read(session, action=trail.READ, what="record", person=None, unit_path="/HQHN", details={})
            session.add(unit_row("HQHN"))
    async with db.unit_of_work() as session:
        kept = (
            await session.execute(select(AuditEntry.action, AuditEntry.holder_name, AuditEntry.holder_folded))
        ).all()
    assert sorted(kept) == [("create", "Lê Thị Một", "le thi mot"), ("read", "Lê Thị Một", "le thi mot")]


async def test_an_entry_written_before_holders_were_kept_is_named_by_the_history_as_it_is(db: Database) -> None:
    first = str(uuid.uuid4())
    await _held(db, first, MOT, _today() - timedelta(days=30), None)
    await _read_as(db, ACCOUNT)
    async with db.unit_of_work() as session:
        await session.execute(update(AuditEntry).values(holder_name=None, holder_personal_id=None, holder_folded=None))
    await _handed_on_backdated(db, first)

    assert [(f.holder_name, f.holder_personal_id) for f in await _listed(db)] == [HAI]
    assert [len(await _listed(db, holder)) for holder in (HAI[1], "tran van hai", MOT[1])] == [1, 1, 0]


async def _sealed(db: Database) -> list[AuditEntry]:
    async with db.unit_of_work() as session:
        await chain.seal(session, 100)
    async with db.unit_of_work() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


async def _verified(db: Database) -> chain.Verification:
    async with db.unit_of_work() as session:
        return await chain.verify(session, batch=2)


@pytest.mark.parametrize(
    "changed",
    [
        {"holder_name": "Trần Văn Hai"},
        {"holder_personal_id": HAI[1]},
        {"holder_folded": "tran van hai"},
        {"holder_name": None, "holder_personal_id": None, "holder_folded": None},
        {"seal_version": None},
    ],
    ids=["name", "personal-id", "folded", "passed-off-as-written-before", "passed-off-as-sealed-before"],
)
async def test_a_holder_changed_after_sealing_breaks_the_chain(db: Database, changed: dict[str, str | None]) -> None:
    await _held(db, str(uuid.uuid4()), MOT, _today() - timedelta(days=30), None)
    for _ in range(3):
        await _read_as(db, ACCOUNT)
    entries = await _sealed(db)
    assert (await _verified(db)).intact
    async with db.unit_of_work() as session:
        await session.execute(update(AuditEntry).where(AuditEntry.id == entries[1].id).values(**changed))
    result = await _verified(db)
    assert (result.intact, result.first_broken_seq, result.first_broken_id) == (False, 2, entries[1].id)
    assert result.reason == "nội dung mục đã bị sửa sau khi niêm phong"


async def test_a_chain_sealed_before_holders_were_kept_goes_on_intact_with_entries_that_keep_them(
    db: Database,
) -> None:
    await _held(db, str(uuid.uuid4()), MOT, _today() - timedelta(days=30), None)
    for _ in range(3):
        await _read_as(db, ACCOUNT)
    async with db.unit_of_work() as session:
        await session.execute(update(AuditEntry).values(holder_name=None, holder_personal_id=None, holder_folded=None))
    legacy = await _sealed(db)
    for _ in range(2):
        await _read_as(db, ACCOUNT)
    entries = await _sealed(db)

    assert [e.holder_name for e in entries] == [None, None, None, "Lê Thị Một", "Lê Thị Một"]
    assert [e.hash for e in entries[:3]] == [e.hash for e in legacy]
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(entries))
    result = await _verified(db)
    assert (result.intact, result.checked) == (True, 5)


async def test_entries_sealed_by_a_replica_of_the_code_before_verify_while_an_upgrade_rolls_out(
    db: Database,
) -> None:
    """The new code writes entries with their holder; a replica still running the code before seals
    them, hashing without the holder and keeping no version; then the new code seals the next."""
    await _held(db, str(uuid.uuid4()), MOT, _today() - timedelta(days=30), None)
    for _ in range(2):
        await _read_as(db, ACCOUNT)
    async with db.unit_of_work() as session:
        last = await chain.head(session, lock=True)
        for entry in await session.scalars(select(AuditEntry).order_by(AuditEntry.occurred_at, AuditEntry.id)):
            seq = last.seq + 1
            entry.prev_hash, entry.seq = last.hash, seq
            entry.hash = chain.digest(last.hash, seq, entry, version=None)
            last.seq, last.hash = seq, entry.hash
    await _read_as(db, ACCOUNT)
    entries = await _sealed(db)

    assert [(e.holder_name, e.seal_version) for e in entries] == [
        ("Lê Thị Một", None),
        ("Lê Thị Một", None),
        ("Lê Thị Một", chain.SEAL_VERSION),
    ]
    result = await _verified(db)
    assert (result.intact, result.checked) == (True, 3)


def test_an_entry_without_a_holder_hashes_as_it_did_before_holders_were_kept() -> None:
    """The hash the code before migration 0008 gave this entry: chains sealed then verify unchanged."""
    entry = SimpleNamespace(
        id="3f1c2b9e-0000-4000-8000-000000000001",
        occurred_at=datetime(2026, 11, 30, 1, 2, 3, tzinfo=UTC),
        transaction_id="3f1c2b9e-0000-4000-8000-000000000002",
        account=ACCOUNT,
        subject="s-1",
        tiers="local-officer",
        action="read",
        target="record",
        target_id=None,
        person_id=None,
        unit_path="/HQHN",
        details={"n": 1},
        holder_name=None,
        holder_personal_id=None,
        holder_folded=None,
        seal_version=None,
    )
    before = "f2bf3f62ed041b70a6ab67073fb6b80dd36201e902183239084886a5ff17da33"
    assert chain.digest(chain.GENESIS, 1, entry) == before
    entry.holder_name, entry.holder_personal_id, entry.holder_folded = "", "", ""
    assert chain.digest(chain.GENESIS, 1, entry) == before, "sealed by the code before: the holder not hashed"
    entry.seal_version = chain.SEAL_VERSION
    assert chain.digest(chain.GENESIS, 1, entry) != before, "held by nobody is kept, and hashed"
