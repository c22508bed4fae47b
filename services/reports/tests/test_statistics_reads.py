"""Each read of people's particulars in the statistics leaves its record for personnel's audit trail
in the transaction that serves it (ADR 0048): a list form's rows, shown and exported, and a page of
the people behind a cell, through reports' own service on a real SQLite store; a form of counts, and
a read refused, leave none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from reports_store import sqlite_store
from sqlalchemy import select

from qlcb.reports.v1 import events_pb2, reports_pb2
from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.errors import InvalidArgument, NotFound, PermissionDenied
from qlcb_common.events import subjects
from qlcb_common.events.contracts import REPORTS_EVENTS, accept
from qlcb_common.events.envelope import parse, unpack
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import acting_for
from qlcb_common.names import sort_key
from qlcb_reports.db_models import make_delegations, make_inbox, make_outbox
from qlcb_reports.grpc_api import ReportsServicer
from qlcb_reports.headcount.models import UnitNode
from qlcb_reports.statistics import reads
from qlcb_reports.statistics.models import BEGINNING, OPEN_END, StatFact, StatGeneration, StatPerson
from qlcb_reports.statistics.projection import UNIT

FOUNDED = date(1945, 9, 10)
HANOI = "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
NOI_BAI = "7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
HCM = "8b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
AN, BINH = "0d9f6b2e-1c3a-4e5b-9a7c-2b4d6f8a0c1e", "1e0a7c3f-2d4b-4f6c-8b9d-3c5e7a9b1d2f"


def _who(role: str, path: str, name: str) -> Principal:
    return Principal(
        subject=f"sub-{name}", username=name, roles=frozenset({role, "offline_access"}), unit_path=path, token=""
    )


ADMIN = _who("local-admin", "/TCHQ/HQHN", "qthanoi")


def _person(person_id: str, name: str, unit_id: str, born: date) -> list[Any]:
    return [
        StatPerson(
            generation=1,
            person_id=person_id,
            personal_id=f"0010880000{person_id[:2]}",
            staff_number=name[:3],
            full_name=name,
            name_sort=sort_key(name),
            date_of_birth=born,
            sex="SEX_MALE",
        ),
        StatFact(
            generation=1,
            person_id=person_id,
            source_id=f"{person_id}-unit",
            fact=UNIT,
            value=unit_id,
            valid_from=BEGINNING,
            valid_to=OPEN_END,
        ),
    ]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Database, ReportsServicer, Outbox]]:
    outbox, inbox, delegations = make_outbox(), make_inbox(), make_delegations()
    async with sqlite_store(tmp_path) as db:
        async with db.unit_of_work() as session:
            session.add_all(
                [
                    UnitNode(unit_id="root", parent_id=None, path="/TCHQ", name="Tổng cục Hải quan"),
                    UnitNode(unit_id=HANOI, parent_id="root", path="/TCHQ/HQHN", name="Cục Hải quan TP Hà Nội"),
                    UnitNode(unit_id=NOI_BAI, parent_id=HANOI, path="/TCHQ/HQHN/NB", name="Chi cục Nội Bài"),
                    UnitNode(unit_id=HCM, parent_id="root", path="/TCHQ/HQHCM", name="Cục Hải quan TP HCM"),
                    StatGeneration(id=1, state="serving", consumer="c", started_at=datetime.now(UTC)),
                    *_person(AN, "Nguyễn Văn An", HANOI, date(1980, 1, 2)),
                    *_person(BINH, "Trần Văn Bình", NOI_BAI, date(1982, 3, 4)),
                ]
            )
        yield db, ReportsServicer(db, inbox, outbox, delegations, sector_founded=FOUNDED), outbox


async def _staged(db: Database, outbox: Outbox) -> list[tuple[str, events_pb2.StatisticsRead]]:
    async with db.unit_of_work() as session:
        rows = (await session.execute(select(outbox.table.c.envelope).order_by(outbox.table.c.seq))).scalars()
        # As personnel's consumer takes them: each within its contract.
        envelopes = [accept(parse(row).subject, row, REPORTS_EVENTS) for row in rows]
    return [(e.subject, unpack(e, events_pb2.StatisticsRead)) for e in envelopes]


def _form(
    form: str, unit_id: str, *, as_of: str = "2020-06-30", export: str = ""
) -> reports_pb2.GetStatisticsFormRequest:
    return reports_pb2.GetStatisticsFormRequest(form=form, unit_id=unit_id, as_of=as_of, export_format=export)


async def test_a_list_form_shown_and_exported_is_recorded_with_the_read(served: Any) -> None:
    db, reports, outbox = served
    before = datetime.now(UTC)
    with acting_for(ADMIN):
        shown = await reports.GetStatisticsForm(_form("bm03", HANOI), None)
        exported = await reports.GetStatisticsForm(_form("BM03", HANOI, export="xlsx"), None)
    assert [r.label for r in shown.rows] == [r.label for r in exported.rows] == ["Nguyễn Văn An", "Trần Văn Bình"]
    staged = await _staged(db, outbox)
    assert [subject for subject, _ in staged] == [
        subjects.REPORTS_STATISTICS_FORM_READ,
        subjects.REPORTS_STATISTICS_FORM_EXPORTED,
    ]
    (_, read), (_, export) = staged
    assert (read.account, read.subject, list(read.tiers)) == (
        "qthanoi",
        "sub-qthanoi",
        ["local-admin", "offline_access"],
    )
    assert before <= datetime.fromisoformat(read.read_at) <= datetime.now(UTC)
    assert (read.form, read.unit_id, read.unit_path, read.as_of) == ("BM03", HANOI, "/TCHQ/HQHN", "2020-06-30")
    assert (read.format, read.people) == ("", 2)
    assert (export.format, export.people, export.form, export.unit_path) == ("xlsx", 2, "BM03", "/TCHQ/HQHN")
    assert (list(read.person_ids), read.row, read.column) == ([], "", ""), "a list's rows are counted, not named"


async def test_a_page_of_the_people_behind_a_cell_is_recorded_with_the_cell_and_whom_it_named(served: Any) -> None:
    db, reports, outbox = served
    with acting_for(ADMIN):
        page = await reports.ListStatisticsPeople(
            reports_pb2.ListStatisticsPeopleRequest(
                form="BM01", unit_id=HANOI, as_of="2020-06-30", row="total", column="headcount", page=2, page_size=1
            ),
            None,
        )
    assert [p.full_name for p in page.people] == ["Trần Văn Bình"]
    [(subject, read)] = await _staged(db, outbox)
    assert subject == subjects.REPORTS_STATISTICS_PEOPLE_READ
    assert (read.account, read.form, read.unit_id, read.unit_path, read.as_of) == (
        "qthanoi",
        "BM01",
        HANOI,
        "/TCHQ/HQHN",
        "2020-06-30",
    )
    assert (read.row, read.column, read.page, read.total, read.people) == ("total", "headcount", 2, 2, 1)
    assert list(read.person_ids) == [BINH]
    assert read.format == ""


async def test_a_form_of_counts_names_no_one_and_is_not_recorded(served: Any) -> None:
    db, reports, outbox = served
    with acting_for(ADMIN):
        await reports.GetStatisticsForm(_form("BM01", HANOI), None)
        await reports.GetStatisticsForm(_form("BM01", HANOI, export="pdf"), None)
    assert await _staged(db, outbox) == []


@pytest.mark.parametrize(
    ("who", "request_", "refused"),
    [
        (_who("local-admin", "/TCHQ/HQHCM", "qthcm"), _form("BM03", HANOI), PermissionDenied),
        (ADMIN, _form("BM03", HANOI, export="docx"), InvalidArgument),
        (ADMIN, _form("BM03", HANOI, as_of="2999-01-01"), InvalidArgument),
        (ADMIN, _form("BM99", HANOI), NotFound),
        (
            _who("local-admin", "/TCHQ/HQHCM", "qthcm"),
            reports_pb2.ListStatisticsPeopleRequest(form="BM01", unit_id=HANOI, row="total", column="headcount"),
            PermissionDenied,
        ),
        (
            ADMIN,
            reports_pb2.ListStatisticsPeopleRequest(form="BM01", unit_id=HANOI, row="total", column="nope"),
            InvalidArgument,
        ),
        (
            ADMIN,
            reports_pb2.ListStatisticsPeopleRequest(
                form="BM01", unit_id=HANOI, row="total", column="headcount", page_size=501
            ),
            InvalidArgument,
        ),
    ],
)
async def test_a_refused_read_gives_nothing_and_records_nothing(
    served: Any, who: Principal, request_: Any, refused: type[Exception]
) -> None:
    db, reports, outbox = served
    call = (
        reports.GetStatisticsForm
        if isinstance(request_, reports_pb2.GetStatisticsFormRequest)
        else (reports.ListStatisticsPeople)
    )
    with acting_for(who), pytest.raises(refused):
        await call(request_, None)
    assert await _staged(db, outbox) == []


async def test_a_read_its_record_would_not_fit_is_not_served(served: Any) -> None:
    """A caller whose token names a role too long for personnel's trail: its record would be refused
    there, so the list is not given either."""
    db, reports, outbox = served
    odd = Principal(
        subject="sub-odd", username="odd", roles=frozenset({"local-admin", "x" * 300}), unit_path="/TCHQ/HQHN", token=""
    )
    with acting_for(odd), pytest.raises(reads.Unrecordable, match="tiers"):
        await reports.GetStatisticsForm(_form("BM03", HANOI), None)
    assert await _staged(db, outbox) == []
