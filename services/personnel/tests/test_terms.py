"""When a term of office ends, and which terms a record shows on a day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from qlcb_personnel.record.models import RecordEntry
from qlcb_personnel.record.terms import current_terms, term_end


@pytest.mark.parametrize(
    ("start", "months", "last_day"),
    [
        (date(2025, 3, 1), 60, date(2030, 2, 28)),
        (date(2024, 3, 1), 60, date(2029, 2, 28)),
        (date(2021, 7, 15), 36, date(2024, 7, 14)),
        (date(2021, 1, 31), 1, date(2021, 2, 28)),
        (date(2020, 2, 29), 12, date(2021, 2, 28)),
        (date(2019, 2, 28), 12, date(2020, 2, 27)),
        (date(2021, 3, 31), 1, date(2021, 4, 30)),
        (date(2021, 12, 1), 1, date(2021, 12, 31)),
    ],
)
def test_a_term_ends_the_day_before_the_same_day_that_many_months_later(
    start: date, months: int, last_day: date
) -> None:
    assert term_end(start, months) == last_day


def _entry(section: str, start: str, end: str | None, **values: Any) -> RecordEntry:
    return RecordEntry(
        entry_id=f"{section}-{start}",
        section=section,
        valid_from=date.fromisoformat(start),
        valid_to=date.fromisoformat(end) if end else None,
        values=values,
        recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_the_terms_shown_are_those_current_on_the_day_soonest_ending_first() -> None:
    entries = [
        _entry("appointments", "2021-07-01", None, post="Đội trưởng", term_months=60),
        _entry("rotations", "2024-01-01", None, post="Phó Chi cục trưởng", term_months=24),
        _entry("appointments", "2015-01-01", "2020-12-31", post="Đội phó", term_months=60),
        _entry("concurrent_posts", "2022-01-01", None, post="Tổ trưởng"),
        _entry("salary", "2020-01-01", None, rank_code="08.051"),
    ]
    shown = [(t.entry.values["post"], t.ends_on) for t in current_terms(entries, date(2025, 6, 30))]
    assert shown == [("Phó Chi cục trưởng", date(2025, 12, 31)), ("Đội trưởng", date(2026, 6, 30))]
    assert [t.entry.values["post"] for t in current_terms(entries, date(2018, 6, 30))] == ["Đội phó"]
    assert current_terms(entries, date(2014, 6, 30)) == []
