"""A form's people are those whose record the caller reads, and the list forms print of them only the
sections the caller reads (the domain's tier table: a form's cells list only people whose particulars
the login reads). On a real SQLite store: a unit that reads its own unit's records only, an officer
with and without the salary granted, and people since moved out of the caller's scope."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from reports_store import sqlite_store

from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.errors import PermissionDenied
from qlcb_common.names import sort_key
from qlcb_reports.headcount.models import UnitNode
from qlcb_reports.statistics import service
from qlcb_reports.statistics.models import BEGINNING, OPEN_END, StatCode, StatFact, StatGeneration, StatPerson
from qlcb_reports.statistics.projection import RANK, UNIT

FOUNDED = date(1945, 9, 10)
TODAY = date(2026, 12, 6)
MOVED_ON = date(2025, 7, 1)
"""Phạm Thị Dung left the Đội for Hà Nội on this day."""


def _who(role: str, path: str, **claims: Any) -> Principal:
    return Principal(
        subject=f"s-{role}", username=role, roles=frozenset({role}), unit_path=path, token="", claims=claims
    )


def _person(person_id: str, name: str, born: date, sex: str) -> StatPerson:
    return StatPerson(
        generation=1,
        person_id=person_id,
        personal_id=f"0010900000{person_id[-2:]}",
        staff_number=person_id.upper(),
        full_name=name,
        name_sort=sort_key(name),
        date_of_birth=born,
        sex=sex,
    )


def _placed(person_id: str, unit_id: str, since: date = BEGINNING, until: date = OPEN_END) -> StatFact:
    return StatFact(
        generation=1,
        person_id=person_id,
        source_id=f"{person_id}-{unit_id}",
        fact=UNIT,
        value=unit_id,
        valid_from=since,
        valid_to=until,
    )


def _ranked(person_id: str, coefficient: str) -> StatFact:
    return StatFact(
        generation=1,
        person_id=person_id,
        source_id=f"{person_id}-rank",
        fact=RANK,
        value="01.003",
        valid_from=date(2020, 1, 1),
        valid_to=OPEN_END,
        detail=json.dumps({"coefficient": coefficient}),
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_store(tmp_path) as database:
        async with database.unit_of_work() as session:
            session.add_all(
                [
                    UnitNode(unit_id="root", parent_id=None, path="/TCHQ", name="Tổng cục Hải quan"),
                    UnitNode(unit_id="cuc", parent_id="root", path="/TCHQ/CDTCBL", name="Cục Điều tra chống buôn lậu"),
                    UnitNode(unit_id="kv1", parent_id="cuc", path="/TCHQ/CDTCBL/KV1", name="Đội Kiểm soát khu vực 1"),
                    UnitNode(unit_id="hn", parent_id="root", path="/TCHQ/HQHN", name="Cục Hải quan TP Hà Nội"),
                    StatGeneration(id=1, state="serving", consumer="c", started_at=datetime.now(UTC)),
                    StatCode(generation=1, catalog="ranks", code="01.003", stat_group="CV"),
                    _person("p01", "Nguyễn Văn An", date(1980, 1, 2), "SEX_MALE"),
                    _placed("p01", "cuc"),
                    _ranked("p01", "4.98"),
                    _person("p02", "Trần Văn Bình", date(1982, 3, 4), "SEX_MALE"),
                    _placed("p02", "kv1"),
                    _ranked("p02", "3.66"),
                    _person("p03", "Phạm Thị Dung", date(1985, 5, 6), "SEX_FEMALE"),
                    _placed("p03", "kv1", until=date(2025, 6, 30)),
                    _placed("p03", "hn", since=MOVED_ON),
                    _person("p04", "Lý Văn Đến", date(1990, 7, 8), "SEX_MALE"),
                    _placed("p04", "kv1", until=TODAY + timedelta(days=19)),
                    _placed("p04", "hn", since=TODAY + timedelta(days=20)),
                ]
            )
        yield database


async def _bm03(db: Database, actor: Principal, unit_id: str, as_of: str = "") -> dict[str, dict[str, Any]]:
    async with db.unit_of_work() as session:
        filled = await service.fill(
            session, actor=actor, form_code="BM03", unit_id=unit_id, as_of=as_of, founded=FOUNDED, today=TODAY
        )
    keys = [c.key for c in filled.form.columns]
    return {row.label: dict(zip(keys, row.cells, strict=True)) for row in filled.rows}


async def _headcount_people(
    db: Database, actor: Principal, unit_id: str, as_of: str, column: str = "headcount"
) -> list[str]:
    async with db.unit_of_work() as session:
        page = await service.people(
            session,
            actor=actor,
            form_code="BM01",
            unit_id=unit_id,
            as_of=as_of,
            row="total",
            column=column,
            page=1,
            page_size=50,
            founded=FOUNDED,
            today=TODAY,
        )
    return sorted(p.person.full_name for p in page.people)


async def test_a_unit_reading_its_own_records_lists_no_one_of_the_units_below(db: Database) -> None:
    unit = _who("hq-unit", "/TCHQ/CDTCBL")
    listed = await _bm03(db, unit, "cuc")
    assert list(listed) == ["Nguyễn Văn An"]
    assert listed["Nguyễn Văn An"]["coefficient"] == "4.98"
    assert await _headcount_people(db, unit, "cuc", "") == ["Nguyễn Văn An"]


async def test_salary_is_printed_only_to_whoever_reads_the_salary(db: Database) -> None:
    officer = _who("local-officer", "/TCHQ/CDTCBL")
    ungranted = await _bm03(db, officer, "cuc")
    assert sorted(ungranted) == ["Nguyễn Văn An", "Trần Văn Bình"]
    assert {name: row["coefficient"] for name, row in ungranted.items()} == {
        "Nguyễn Văn An": None,
        "Trần Văn Bình": None,
    }
    assert {name: row["rank_code"] for name, row in ungranted.items()} == {"Nguyễn Văn An": None, "Trần Văn Bình": None}
    assert ungranted["Trần Văn Bình"]["born_male"] == "1982-03-04", "the particulars are read"
    granted = await _bm03(db, _who("local-officer", "/TCHQ/CDTCBL", sections=["salary"]), "cuc")
    assert {name: row["coefficient"] for name, row in granted.items()} == {
        "Nguyễn Văn An": "4.98",
        "Trần Văn Bình": "3.66",
    }


async def test_someone_since_moved_out_of_the_callers_scope_is_no_longer_theirs_to_list(db: Database) -> None:
    admin = _who("local-admin", "/TCHQ/CDTCBL")
    before = date(2025, 1, 1).isoformat()
    assert await _headcount_people(db, admin, "cuc", before) == ["Nguyễn Văn An", "Trần Văn Bình"]
    assert sorted(await _bm03(db, admin, "cuc", before)) == ["Nguyễn Văn An", "Trần Văn Bình"]
    sector = _who("system-admin", "/TCHQ")
    everyone = ["Lý Văn Đến", "Nguyễn Văn An", "Phạm Thị Dung", "Trần Văn Bình"]
    assert await _headcount_people(db, sector, "cuc", before) == everyone
    assert "Phạm Thị Dung" in await _bm03(db, sector, "cuc", before)
    hanoi = _who("local-admin", "/TCHQ/HQHN")
    assert await _headcount_people(db, hanoi, "hn", TODAY.isoformat()) == ["Phạm Thị Dung"]


async def test_someone_whose_transfer_out_was_accepted_for_a_later_day_is_no_longer_listed(db: Database) -> None:
    """Personnel moves a record on the day a transfer is accepted, whatever day it takes effect."""
    admin = _who("local-admin", "/TCHQ/CDTCBL")
    assert await _headcount_people(db, admin, "cuc", TODAY.isoformat()) == ["Nguyễn Văn An", "Trần Văn Bình"]
    assert "Lý Văn Đến" not in await _bm03(db, admin, "cuc")
    sector = _who("system-admin", "/TCHQ")
    assert "Lý Văn Đến" in await _headcount_people(db, sector, "cuc", TODAY.isoformat())


async def test_a_cell_counted_by_a_section_lists_its_people_only_to_whoever_reads_that_section(db: Database) -> None:
    """Who holds a rank is salary data: a drill-down of a rank group's cell names them, and is refused to
    an officer that reads no salary."""
    day = TODAY.isoformat()
    officer = _who("local-officer", "/TCHQ/CDTCBL")
    assert await _headcount_people(db, officer, "cuc", day) == ["Nguyễn Văn An", "Trần Văn Bình"]
    with pytest.raises(PermissionDenied, match="salary"):
        await _headcount_people(db, officer, "cuc", day, column="rank_cv")
    granted = _who("local-officer", "/TCHQ/CDTCBL", sections=["salary"])
    assert await _headcount_people(db, granted, "cuc", day, column="rank_cv") == ["Nguyễn Văn An", "Trần Văn Bình"]
