"""Dates the salary section implies (ND 204/2004 Điều 7; TT 08/2013/TT-BNV Điều 2)."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.record.models import RecordEntry

SALARY = "salary"


def _months_after(since: date, months: int) -> date:
    total = since.month - 1 + months
    year, month = since.year + total // 12, total % 12 + 1
    return date(year, month, min(since.day, calendar.monthrange(year, month)[1]))


async def next_regular_raise(session: AsyncSession, entries: Sequence[RecordEntry], day: date) -> date | None:
    """When the step current on `day` is followed by the next by seniority: the rank's months per
    step after the step's date; none at the last step (over-frame allowance applies instead) or
    without a current step."""
    current = [
        e
        for e in entries
        if e.section == SALARY
        and e.valid_from is not None
        and e.valid_from <= day
        and (e.valid_to is None or e.valid_to >= day)
    ]
    if not current:
        return None
    entry = max(current, key=lambda e: e.valid_from or date.min)
    assert entry.valid_from is not None
    rank = await catalogs.value_on(session, "ranks", str(entry.values["rank_code"]), entry.valid_from)
    step = entry.values.get("step")
    if rank is None or not isinstance(step, int) or step >= len(rank.attributes["coefficients"]):
        return None
    return _months_after(entry.valid_from, int(rank.attributes["months_per_step"]))
