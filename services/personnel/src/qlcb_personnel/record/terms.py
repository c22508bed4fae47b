"""Terms of office (thời hạn giữ chức vụ): an appointment or reappointment to a leadership post, and
a rotation, hold for the months their decision gives (`term_months`; five years is the usual term of
a leadership post), ending the day before the same day of the month that many months later. The
record shows when each term current on the day read ends, so that the unit's HR officer starts the
reappointment in time."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from qlcb_personnel.record.models import RecordEntry

TERMED = ("appointments", "rotations")


@dataclass(frozen=True)
class Term:
    entry: RecordEntry
    ends_on: date


def term_end(start: date, months: int) -> date:
    """The term's last day, as Bộ luật Dân sự 2015 Điều 148 counts a period of months: the day before
    the same day `months` later (from 1 March 2025 for 60 months, 28 February 2030), or the last day
    of that month when it has no such day (from 31 January for one month, 28 February)."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if start.day > last:
        return date(year, month, last)
    return date(year, month, start.day) - timedelta(days=1)


def current_terms(entries: Iterable[RecordEntry], day: date) -> list[Term]:
    """The terms of the entries current on `day`, soonest ending first."""
    terms = [
        Term(entry, term_end(entry.valid_from, int(entry.values["term_months"])))
        for entry in entries
        if entry.section in TERMED
        and entry.values.get("term_months")
        and entry.valid_from is not None
        and entry.valid_from <= day
        and (entry.valid_to is None or entry.valid_to >= day)
    ]
    return sorted(terms, key=lambda term: term.ends_on)
