"""The audit chain against its head published outside the database, on a real SQLite store: the
sealer publishes the head through the outbox at most once an interval, and a chain cut short or
rewritten together with the database's own head row, which the database alone cannot tell from an
intact one, is named against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from nats import errors as nats_errors
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from personnel_store import sqlite_store
from sqlalchemy import select, update

from qlcb.personnel.v1 import events_pb2
from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.contracts import PERSONNEL_EVENTS, accept
from qlcb_common.events.envelope import unpack, wrap
from qlcb_personnel import app as _app  # noqa: F401  (registers every table of the store)
from qlcb_personnel.audit import chain, published, sealer, service, trail
from qlcb_personnel.audit.models import AuditChainHead, AuditEntry
from qlcb_personnel.db_models import make_outbox


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_store(tmp_path) as database:
        yield database


async def _noted(db: Database, count: int) -> None:
    for index in range(count):
        async with db.unit_of_work() as session:
            await trail.note_read(
                session, action=trail.READ, what="record", person=None, unit_path="/HQHN", details={"n": index}
            )


async def _published(db: Database) -> list[events_pb2.AuditChainSealed]:
    table = make_outbox().table
    async with db.unit_of_work() as session:
        rows = (await session.execute(select(table.c.subject, table.c.envelope).order_by(table.c.seq))).all()
    return [
        unpack(accept(subject, envelope, PERSONNEL_EVENTS), events_pb2.AuditChainSealed)
        for subject, envelope in rows
        if subject == subjects.PERSONNEL_AUDIT_SEALED
    ]


async def _chain(db: Database) -> list[AuditEntry]:
    async with db.unit_of_work() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


async def _verified(db: Database, published: chain.Published | None) -> chain.Verification:
    async with db.unit_of_work() as session:
        return await chain.verify(session, batch=2, published=published)


async def test_the_head_is_published_with_the_seal_at_most_once_an_interval(db: Database) -> None:
    hourly = sealer.Sealer(db, make_outbox(), publish_interval_seconds=3600)
    await _noted(db, 3)
    assert await hourly.seal_pending() == 3
    await _noted(db, 2)
    assert await hourly.seal_pending() == 2
    [first] = await _published(db)
    entries = await _chain(db)
    assert (first.seq, first.hash) == (3, entries[2].hash), "the head as sealed in the first round"

    every_time = sealer.Sealer(db, make_outbox(), publish_interval_seconds=1e-9)
    assert await every_time.seal_pending() == 0
    assert len(await _published(db)) == 1, "nothing sealed since this sealer began: nothing to publish"
    await _noted(db, 1)
    assert await every_time.seal_pending() == 1
    latest = (await _published(db))[-1]
    assert (latest.seq, latest.hash) == (6, (await _chain(db))[-1].hash)


async def test_a_chain_cut_short_with_its_head_row_is_named_against_the_published_head(db: Database) -> None:
    """Its last entries removed and the head row wound back to the entry before them: the database
    alone cannot tell, the head published before names the first entry missing."""
    await _noted(db, 6)
    publishing = sealer.Sealer(db, make_outbox(), publish_interval_seconds=3600)
    await publishing.seal_pending()
    [head] = await _published(db)
    published = chain.Published(head.seq, head.hash)
    assert (await _verified(db, published)).intact
    entries = await _chain(db)
    async with db.unit_of_work() as session:
        for entry in entries[4:]:
            await session.delete(await session.get_one(AuditEntry, entry.id))
        await session.execute(
            update(AuditChainHead).where(AuditChainHead.id == chain.HEAD_ID).values(seq=4, hash=entries[3].hash)
        )

    alone = await _verified(db, None)
    against = await _verified(db, published)
    assert alone.intact, "the database's own head row was wound back with the chain"
    assert (against.intact, against.first_broken_seq, against.checked, against.published_seq) == (False, 5, 4, 6)
    assert "thiếu các mục từ số 5 đến số 6" in (against.reason or "")


async def test_a_chain_rewritten_with_its_hashes_is_named_at_the_published_head(db: Database) -> None:
    """An entry's account changed and every hash from there recomputed, the head row too: the chain
    holds together, but not with the hash published of its sixth entry."""
    await _noted(db, 6)
    await sealer.Sealer(db, make_outbox(), publish_interval_seconds=3600).seal_pending()
    [head] = await _published(db)
    async with db.unit_of_work() as session:
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        entries[2].account = "ke.gian"
        running = entries[1].hash
        assert running is not None
        for entry in entries[2:]:
            entry.prev_hash = running
            entry.hash = running = chain.digest(running, entry.seq or 0, entry)
        last = await chain.head(session, lock=True)
        last.hash = running

    alone = await _verified(db, None)
    against = await _verified(db, chain.Published(head.seq, head.hash))
    assert alone.intact
    assert (against.intact, against.first_broken_seq, against.first_broken_id) == (False, 6, entries[5].id)
    assert "khác mã băm đã công bố" in (against.reason or "")


async def test_entries_sealed_after_the_published_head_are_checked_as_before(db: Database) -> None:
    await _noted(db, 2)
    await sealer.Sealer(db, make_outbox(), publish_interval_seconds=3600).seal_pending()
    [head] = await _published(db)
    await _noted(db, 3)
    async with db.unit_of_work() as session:
        await chain.seal(session, 10)
    result = await _verified(db, chain.Published(head.seq, head.hash))
    assert (result.intact, result.checked, result.published_seq) == (True, 5, 2)


class _Bus:
    """The part of JetStream `published.latest` asks: the last message on a subject, or a failure."""

    def __init__(self, data: bytes | None = None, error: Exception | None = None) -> None:
        self._data, self._error = data, error

    async def get_last_msg(self, stream: str, subject: str) -> SimpleNamespace:
        if self._error is not None:
            raise self._error
        return SimpleNamespace(data=self._data)


async def test_a_head_that_cannot_be_read_is_told_apart_from_none_published(db: Database) -> None:
    """None published yet leaves the check to the database, as it must on a new system; the bus out of
    reach, or something on the subject the sealer did not write, is said, for the operator to see
    that the chain was not checked against it."""
    forged = wrap(
        subjects.PERSONNEL_AUDIT_SEALED,
        events_pb2.AuditChainSealed(seq=0, hash="nothing", sealed_at="hôm qua"),
        actor="ke.gian",
        occurred_at=datetime.now(UTC),
    ).SerializeToString()
    none = await published.latest(cast(JetStreamContext, _Bus(error=NotFoundError())))
    away = await published.latest(cast(JetStreamContext, _Bus(error=nats_errors.TimeoutError())))
    wrong = await published.latest(cast(JetStreamContext, _Bus(data=forged)))
    assert (none.head, none.unreadable) == (None, None)
    assert away.head is None
    assert "không đọc được kênh sự kiện" in (away.unreadable or "")
    assert wrong.head is None
    assert "không phải đầu chuỗi do dịch vụ công bố" in (wrong.unreadable or "")

    await _noted(db, 2)
    await sealer.Sealer(db, make_outbox(), publish_interval_seconds=3600).seal_pending()

    async def read_back() -> published.Reading:
        return wrong

    admin = Principal(subject="s", username="quantri", roles=frozenset({"system-admin"}), unit_path="/", token="")
    async with db.unit_of_work() as session:
        result = await service.verify(session, actor=admin, published=read_back)
    assert (result.intact, result.published_seq, result.published_unreadable) == (True, None, wrong.unreadable)
