"""The people's particulars reports gave out land in personnel's audit trail (ADR 0048): each read
reports recorded is one entry, the reader's, at the instant of the read, about the unit the form was
asked for, which that unit's officers and those above it read and no one else; an event delivered
twice makes one entry. Through the consumer the service runs, on a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from personnel_store import holding, sqlite_store
from sqlalchemy import func, select

from qlcb.reports.v1 import events_pb2
from qlcb_common.auth import Principal
from qlcb_common.days import VIETNAM
from qlcb_common.db import Database
from qlcb_common.events import streams, subjects
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.contracts import REPORTS_EVENTS
from qlcb_common.events.envelope import wrap
from qlcb_personnel.audit import reports_reads, service
from qlcb_personnel.audit.models import AuditEntry
from qlcb_personnel.db_models import make_inbox

HANOI = "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
NOI_BAI = "7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
PEOPLE = ["0d9f6b2e-1c3a-4e5b-9a7c-2b4d6f8a0c1e", "1e0a7c3f-2d4b-4f6c-8b9d-3c5e7a9b1d2f"]
READ_AT = datetime(2026, 12, 6, 2, 30, 15, 123456, tzinfo=UTC)


@dataclass
class _Message:
    """The parts of a JetStream message the consumer touches."""

    subject: str
    data: bytes
    delivered: int = 1
    outcome: list[str] = field(default_factory=list)

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(num_delivered=self.delivered, sequence=SimpleNamespace(stream=11))

    async def ack(self) -> None:
        self.outcome.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.outcome.append("nak")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    make_inbox()  # its tables, defined where the service defines them
    async with sqlite_store(tmp_path) as database:
        yield database


def _consumer(db: Database) -> DurableConsumer:
    return DurableConsumer(
        name="personnel-reports-reads",
        stream=streams.REPORTS,
        filter_subjects=list(subjects.REPORTS_STATISTICS_READS),
        db=db,
        inbox=make_inbox(),
        js=None,  # type: ignore[arg-type]
        contracts=REPORTS_EVENTS,
        handler=reports_reads.apply,
    )


def _event(subject: str, **fields: Any) -> bytes:
    read = events_pb2.StatisticsRead(
        account="qthanoi",
        subject="5b0e7a4c-9a43-4d1e-8f51-0c8f2d1e6a7b",
        tiers=["offline_access", "local-admin"],
        read_at=READ_AT.isoformat(),
        form="BM03",
        unit_id=HANOI,
        unit_path="/TCHQ/HQHN",
        as_of="2026-06-30",
        **fields,
    )
    # Personnel takes it a while after the read: the entry keeps the read's instant.
    published = wrap(subject, read, actor=read.subject, occurred_at=READ_AT)
    return published.SerializeToString()


async def _entries(db: Database) -> list[AuditEntry]:
    async with db.unit_of_work() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.target, AuditEntry.action)))


def _reader(path: str) -> Principal:
    return Principal(subject="s", username="u", roles=frozenset({"local-admin"}), unit_path=path, token="")


async def test_each_read_is_one_entry_of_the_reader_at_the_instant_of_the_read(db: Database) -> None:
    consumer = _consumer(db)
    shown = _Message(subjects.REPORTS_STATISTICS_FORM_READ, _event(subjects.REPORTS_STATISTICS_FORM_READ, people=2))
    exported = _Message(
        subjects.REPORTS_STATISTICS_FORM_EXPORTED,
        _event(subjects.REPORTS_STATISTICS_FORM_EXPORTED, format="xlsx", people=2),
    )
    cell = _Message(
        subjects.REPORTS_STATISTICS_PEOPLE_READ,
        _event(
            subjects.REPORTS_STATISTICS_PEOPLE_READ,
            row=NOI_BAI,
            column="headcount",
            page=1,
            total=2,
            people=2,
            person_ids=PEOPLE,
        ),
    )
    for message in (shown, exported, cell):
        await consumer.handle(message)  # type: ignore[arg-type]
        assert message.outcome == ["ack"]
    export, read, drill = await _entries(db)
    for entry in (export, read, drill):
        assert (entry.account, entry.subject, entry.tiers) == (
            "qthanoi",
            "5b0e7a4c-9a43-4d1e-8f51-0c8f2d1e6a7b",
            "local-admin,offline_access",
        )
        assert entry.occurred_at == READ_AT
        assert (entry.unit_path, entry.person_id, entry.seq) == ("/TCHQ/HQHN", None, None)
    assert (read.action, read.target, read.target_id) == ("read", "statistics_form", "BM03")
    assert read.details == {"form": "BM03", "unit_id": HANOI, "as_of": "2026-06-30", "format": "", "rows": 2}
    assert (export.action, export.target) == ("export", "statistics_form")
    assert (export.details["format"], export.details["rows"]) == ("xlsx", 2)
    assert (drill.action, drill.target) == ("read", "statistics_people")
    assert drill.details == {
        "form": "BM03",
        "unit_id": HANOI,
        "as_of": "2026-06-30",
        "format": "",
        "rows": 2,
        "row": NOI_BAI,
        "column": "headcount",
        "page": 1,
        "total": 2,
        "person_ids": PEOPLE,
    }
    assert len({read.transaction_id, export.transaction_id, drill.transaction_id}) == 3


async def test_the_same_event_delivered_twice_makes_one_entry(db: Database) -> None:
    consumer = _consumer(db)
    data = _event(subjects.REPORTS_STATISTICS_FORM_EXPORTED, format="pdf", people=7)
    first = _Message(subjects.REPORTS_STATISTICS_FORM_EXPORTED, data)
    again = _Message(subjects.REPORTS_STATISTICS_FORM_EXPORTED, data, delivered=2)
    await consumer.handle(first)  # type: ignore[arg-type]
    await consumer.handle(again)  # type: ignore[arg-type]
    assert first.outcome == again.outcome == ["ack"]
    async with db.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 1
    # A second consumer (a replica, or the inbox lost) cannot add it again either: the entry is the event's.
    async with db.unit_of_work() as session:
        [entry] = await session.scalars(select(AuditEntry))
    other = _consumer(db)
    other.name = "personnel-reports-reads-other"
    late = _Message(subjects.REPORTS_STATISTICS_FORM_EXPORTED, data, delivered=3)
    await other.handle(late)  # type: ignore[arg-type]
    assert late.outcome == ["ack"], "taken as done, not retried for ever"
    assert [e.id for e in await _entries(db)] == [entry.id]


async def test_the_entry_is_read_by_the_units_officers_and_those_above_only(db: Database) -> None:
    read = _Message(subjects.REPORTS_STATISTICS_FORM_READ, _event(subjects.REPORTS_STATISTICS_FORM_READ, people=2))
    await _consumer(db).handle(read)  # type: ignore[arg-type]
    since = (READ_AT - timedelta(minutes=1)).isoformat()
    for path, seen in (("/TCHQ/HQHN", 1), ("/TCHQ", 1), ("/TCHQ/HQHCM", 0), ("/TCHQ/HQHN/NB", 0)):
        async with db.unit_of_work() as session:
            _, total = await service.list_entries(
                session, actor=_reader(path), criteria=service.Criteria(occurred_from=since)
            )
        assert total == seen, path


async def test_a_purpose_accounts_read_names_who_held_it_at_the_read_and_keeps_that_name(db: Database) -> None:
    """The account changed hands the day after the read, and personnel heard of it before the read's
    event came: the entry names the holder on the day of the read, and still does once the history's
    copy is changed afterwards."""
    read_day = READ_AT.astimezone(VIETNAM).date()
    await holding(db, "qthanoi", "Lê Thị Một", read_day, read_day + timedelta(days=1), unit_path="/TCHQ/HQHN")
    await holding(db, "qthanoi", "Phạm Văn Hai", read_day + timedelta(days=1), None, unit_path="/TCHQ/HQHN")
    message = _Message(subjects.REPORTS_STATISTICS_FORM_READ, _event(subjects.REPORTS_STATISTICS_FORM_READ, people=2))
    await _consumer(db).handle(message)  # type: ignore[arg-type]
    await holding(db, "qthanoi", "Phạm Văn Hai", read_day - timedelta(days=9), None, unit_path="/TCHQ/HQHN")

    [entry] = await _entries(db)
    async with db.unit_of_work() as session:
        [found], _ = await service.list_entries(session, actor=_reader("/TCHQ"), criteria=service.Criteria())
        by_first, _ = await service.list_entries(
            session, actor=_reader("/TCHQ"), criteria=service.Criteria(holder="le thi mot")
        )
    assert entry.holder_name == "Lê Thị Một"
    assert found.holder_name == "Lê Thị Một"
    assert [f.entry.id for f in by_first] == [entry.id]
