"""The record benchmark's loader writes what personnel would: its columns come from personnel's
tables (a nullable column added there stays empty, a required one it cannot fill stops it), and
a timeline entry followed by the next is stored superseded, with a closed version."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import Column, MetaData, String, Table

from bench.record_read import _ENTRY_FIELDS, _columns, career_rows, fact_rows, record_rows
from qlcb_devstack import demo, records
from qlcb_personnel.record.models import RecordEntry
from qlcb_personnel.search.models import OPEN_END


def _entries_with(*extra: Column[str]) -> Table:
    table = RecordEntry.__table__.to_metadata(MetaData())  # type: ignore[attr-defined]
    for column in extra:
        table.append_column(column)
    return table  # type: ignore[no-any-return]


def test_the_columns_are_personnels_and_a_new_nullable_one_is_left_empty() -> None:
    table = RecordEntry.__table__
    filled = _columns(table, _ENTRY_FIELDS)  # type: ignore[arg-type]
    # A generated history has no decision documents, so it links none.
    assert {c.name for c in table.columns} - set(filled) == {"decision_id", "closed_entry_id"}
    with_note = _entries_with(Column("reviewer_note", String(36), nullable=True))
    assert "reviewer_note" not in _columns(with_note, _ENTRY_FIELDS)
    with pytest.raises(RuntimeError, match="approved_by"):
        _columns(_entries_with(Column("approved_by", String(64), nullable=False)), _ENTRY_FIELDS)


def test_a_salary_history_is_stored_as_personnel_stores_it() -> None:
    person = demo.personnel(1)[0]
    now = datetime.now(UTC)
    rows = record_rows("p-1", person, random.Random(1), now)
    salary = [r for r in rows if r["section"] == "salary"]
    recorded = [r for r in salary if r["change"] == "recorded"]
    closed = [r for r in salary if r["change"] == "closed"]
    assert len(closed) == len(recorded) - 1 > 0
    # Every step but the last was superseded by a closed version ending the day before the next.
    assert [r["superseded_at"] for r in recorded] == [now] * len(closed) + [None]
    for step, ending, following in zip(recorded, closed, recorded[1:], strict=False):
        assert (ending["entry_id"], ending["version"], ending["superseded_at"]) == (step["entry_id"], 2, None)
        assert ending["valid_to"] == following["valid_from"] - timedelta(days=1)
    current = sorted((r["valid_from"], r["valid_to"] or date.max) for r in salary if r["superseded_at"] is None)
    assert all(a[1] < b[0] for a, b in pairwise(current)), "no two current steps overlap"
    assert len({r["id"] for r in rows}) == len(rows)


def test_the_search_facts_are_those_of_the_current_entries_and_of_the_career() -> None:
    person = demo.personnel(1)[0]
    now = datetime.now(UTC)
    rows = record_rows("p-1", person, random.Random(1), now)
    facts = fact_rows("p-1", rows)
    current_salary = [r for r in rows if r["section"] == "salary" and r["superseded_at"] is None]
    ranks = sorted((f["valid_from"], f["valid_to"]) for f in facts if f["fact"] == "rank")
    assert ranks == sorted((r["valid_from"], r["valid_to"] or OPEN_END) for r in current_salary)
    assert {f["source_id"] for f in facts} <= {r["entry_id"] for r in rows}

    units = {u.code: f"u-{u.code}" for u in demo.UNITS}
    moved = next(p for p in demo.personnel(200) if records.career(p, list(units)).earlier_unit is not None)
    stays, _ = career_rows("p-2", moved, units, random.Random(2), now)
    periods = sorted((f["valid_from"], f["valid_to"], f["value"]) for f in stays if f["fact"] == "unit")
    earlier = records.career(moved, list(units)).earlier_unit
    assert [p[2] for p in periods] == [units[earlier or ""], units[moved.unit_code]]
    assert periods[0][1] + timedelta(days=1) == periods[1][0], "the second stay begins the day after the first ends"
    assert periods[1][1] == OPEN_END
