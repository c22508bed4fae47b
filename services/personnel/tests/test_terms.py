"""When a term of office ends, and which terms a record shows on a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from qlcb_personnel.record.models import RecordEntry
from qlcb_personnel.record.terms import current_terms, ends_within, term_end


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


def test_the_query_reads_every_term_ending_in_a_period_and_few_others() -> None:
    """`ends_within` narrows the candidates in SQL by month; `term_end` decides. Every start day of
    four years, for the lengths the sections allow at their edges and in between: no term ending in
    the period is left out, at either edge of it, and most of the others are."""
    engine = create_engine("sqlite://")
    RecordEntry.__table__.create(engine)  # type: ignore[attr-defined]
    starts = [date(2019, 1, 1) + timedelta(days=n) for n in range(4 * 366)]
    lengths = (1, 11, 12, 24, 60, 120)
    with Session(engine) as session:
        session.add_all(
            RecordEntry(
                id=f"{start}-{months}",
                entry_id=f"{start}-{months}",
                version=1,
                person_id="p",
                section="appointments",
                valid_from=start,
                values={"term_months": months},
                change="recorded",
                recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
                recorded_by="test",
            )
            for start in starts
            for months in lengths
        )
        session.commit()
        for first, last in ((date(2026, 1, 1), date(2026, 12, 31)), (date(2025, 3, 15), date(2025, 4, 14))):
            read = set(session.scalars(select(RecordEntry.id).where(ends_within(first, last))))
            ending = {f"{s}-{m}" for s in starts for m in lengths if first <= term_end(s, m) <= last}
            assert ending, (first, last)
            assert ending <= read, sorted(ending - read)[:5]
            assert len(read) < 1.2 * len(ending) + 100, (len(read), len(ending))
