"""Dates the salary section implies (ND 204/2004 Điều 7; TT 08/2013/TT-BNV Điều 2 khoản 3 as
amended by TT 03/2021/TT-BNV): the next regular step raise is due the rank's months per step
after the current step's date, later by the delay of each discipline decided while holding the
step (its form's `raise_delay_months` in the catalog) and by 6 months for each year rated
"không hoàn thành nhiệm vụ"; none at the last step, where the over-frame allowance applies."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.record.models import RecordEntry

SALARY = "salary"
RAISE_SECTIONS = (SALARY, "disciplines", "evaluations")
"""What the next raise depends on."""
FAILED_YEAR = "KHTNV"
FAILED_YEAR_DELAY_MONTHS = 6


def months_after(since: date, months: int) -> date:
    total = since.month - 1 + months
    year, month = since.year + total // 12, total % 12 + 1
    return date(year, month, min(since.day, calendar.monthrange(year, month)[1]))


async def next_regular_raise(
    session: AsyncSession, person_id: str, day: date, current: Sequence[RecordEntry] | None = None
) -> date | None:
    """`current`: the person's current entries of at least the `RAISE_SECTIONS`, if the caller has
    read them already; else they are read here."""
    if current is None:
        entries = list(
            await session.scalars(
                select(RecordEntry).where(
                    RecordEntry.person_id == person_id,
                    RecordEntry.section.in_(RAISE_SECTIONS),
                    RecordEntry.superseded_at.is_(None),
                    RecordEntry.retracted.is_(False),
                    RecordEntry.valid_from <= day,
                )
            )
        )
    else:
        entries = [
            e
            for e in current
            if e.section in RAISE_SECTIONS
            and e.superseded_at is None
            and not e.retracted
            and e.valid_from is not None
            and e.valid_from <= day
        ]
    steps = [e for e in entries if e.section == "salary" and (e.valid_to is None or e.valid_to >= day)]
    if not steps:
        return None
    step_entry = max(steps, key=lambda e: e.valid_from or date.min)
    since = step_entry.valid_from
    assert since is not None
    rank = await catalogs.value_on(session, "ranks", str(step_entry.values["rank_code"]), since)
    step = step_entry.values.get("step")
    if rank is None or not isinstance(step, int) or step >= len(rank.attributes["coefficients"]):
        return None
    delay = 0
    for entry in entries:
        if entry.valid_from is None or entry.valid_from < since:
            continue
        if entry.section == "disciplines":
            form = await catalogs.value_on(session, "discipline_forms", str(entry.values["form"]), entry.valid_from)
            delay += int(form.attributes.get("raise_delay_months", 0)) if form is not None else 0
        elif entry.section == "evaluations" and entry.values.get("level") == FAILED_YEAR:
            delay += FAILED_YEAR_DELAY_MONTHS
    return months_after(since, int(rank.attributes["months_per_step"]) + delay)
