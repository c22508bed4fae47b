"""Dates the salary section implies (ND 204/2004 Điều 7; TT 08/2013/TT-BNV Điều 2 khoản 3 as
amended by TT 03/2021/TT-BNV): the next regular step raise is due the rank's months per step
after the current step's date, later by the delay of each discipline decided while holding the
step (its form's `raise_delay_months` in the catalog) and by 6 months for each year rated
"không hoàn thành nhiệm vụ"; none at the last step, where the over-frame allowance applies."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.decision_kinds import SalaryRule
from qlcb_common.errors import FieldViolation
from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.record.models import EntryView, RecordEntry

SALARY = "salary"
RAISE_SECTIONS = (SALARY, "disciplines", "evaluations")
"""What the next raise depends on."""
FAILED_YEAR = "KHTNV"
FAILED_YEAR_DELAY_MONTHS = 6


def months_after(since: date, months: int) -> date:
    total = since.month - 1 + months
    year, month = since.year + total // 12, total % 12 + 1
    return date(year, month, min(since.day, calendar.monthrange(year, month)[1]))


def catalog_codes(entries: Sequence[EntryView]) -> set[tuple[str, str]]:
    """The (catalog, code) pairs `next_regular_raise` may look up for `entries`: their steps' ranks
    and their disciplines' forms, to be read beforehand in one statement (`catalogs.read_versions`)."""
    codes: set[tuple[str, str]] = set()
    for entry in entries:
        if entry.section == "salary" and "rank_code" in entry.values:
            codes.add(("ranks", str(entry.values["rank_code"])))
        elif entry.section == "disciplines" and "form" in entry.values:
            codes.add(("discipline_forms", str(entry.values["form"])))
    return codes


async def next_regular_raise(
    session: AsyncSession, person_id: str, day: date, current: Sequence[EntryView] | None = None
) -> date | None:
    """`current`: the person's current entries of at least the `RAISE_SECTIONS`, if the caller has
    read them already; else they are read here."""
    entries: list[EntryView]
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


EARLY_RAISE_MAX_MONTHS = 12
OVER_FRAME_FIRST_PERCENT = 5
OVER_FRAME_MONTHS_PER_PERCENT = 12


async def _step_held(session: AsyncSession, person_id: str, day: date) -> RecordEntry | None:
    return await session.scalar(
        select(RecordEntry)
        .where(
            RecordEntry.person_id == person_id,
            RecordEntry.section == SALARY,
            RecordEntry.superseded_at.is_(None),
            RecordEntry.retracted.is_(False),
            RecordEntry.valid_from <= day,
            or_(RecordEntry.valid_to.is_(None), RecordEntry.valid_to >= day),
        )
        .order_by(RecordEntry.valid_from.desc())
        .limit(1)
    )


async def check_raise(
    session: AsyncSession,
    rule: SalaryRule,
    person_id: str,
    values: dict[str, object],
    effective: date,
    where: str,
    violations: list[FieldViolation],
) -> None:
    """A raise decision against the step held the day before it takes effect (TT 08/2013/TT-BNV
    Điều 2–3; ND 204/2004 Điều 6): a regular raise once the step's months are served, an early one
    at most 12 months before that, the over-frame allowance only at the rank's last step (5% after
    the step's months, then 1% a year)."""
    held = await _step_held(session, person_id, effective - timedelta(days=1))
    if held is None:
        violations.append(FieldViolation(f"{where}values.step", "Chưa có ngạch, bậc trước ngày hiệu lực để nâng"))
        return
    if values.get("rank_code") != held.values.get("rank_code"):
        violations.append(
            FieldViolation(
                f"{where}values.rank_code", f"Nâng bậc, vượt khung trong ngạch đang giữ ({held.values['rank_code']})"
            )
        )
        return
    assert held.valid_from is not None
    held_step = int(held.values["step"])
    if rule is SalaryRule.OVER_FRAME:
        await _check_over_frame(session, held, values, effective, where, violations)
        return
    if values.get("step") != held_step + 1:
        violations.append(FieldViolation(f"{where}values.step", f"Bậc kế tiếp của bậc {held_step} là {held_step + 1}"))
        return
    due = await next_regular_raise(session, person_id, effective - timedelta(days=1))
    if due is None:
        violations.append(
            FieldViolation(f"{where}values.step", "Đã ở bậc cuối của ngạch: xét phụ cấp thâm niên vượt khung")
        )
    elif rule is SalaryRule.REGULAR_RAISE and effective < due:
        violations.append(
            FieldViolation(
                f"{where}effective_date",
                f"Chưa đủ thời gian giữ bậc {held_step}: đến hạn nâng bậc ngày {due.isoformat()}",
            )
        )
    elif rule is SalaryRule.EARLY_RAISE:
        earliest = months_after(due, -EARLY_RAISE_MAX_MONTHS)
        if effective >= due:
            violations.append(
                FieldViolation(
                    f"{where}effective_date",
                    f"Đã đến hạn nâng bậc thường xuyên ngày {due.isoformat()}: không phải nâng trước thời hạn",
                )
            )
        elif effective < earliest:
            violations.append(
                FieldViolation(
                    f"{where}effective_date",
                    f"Nâng bậc trước thời hạn tối đa {EARLY_RAISE_MAX_MONTHS} tháng: "
                    f"sớm nhất ngày {earliest.isoformat()}",
                )
            )


async def _check_over_frame(
    session: AsyncSession,
    held: RecordEntry,
    values: dict[str, object],
    effective: date,
    where: str,
    violations: list[FieldViolation],
) -> None:
    assert held.valid_from is not None
    rank = await catalogs.value_on(session, "ranks", str(held.values["rank_code"]), held.valid_from)
    last_step = len(rank.attributes["coefficients"]) if rank is not None else 0
    if held.values.get("step") != last_step or values.get("step") != last_step:
        violations.append(
            FieldViolation(f"{where}values.step", f"Phụ cấp vượt khung chỉ ở bậc cuối của ngạch (bậc {last_step})")
        )
        return
    held_percent = held.values.get("over_frame_percent")
    if isinstance(held_percent, int):
        percent, months = held_percent + 1, OVER_FRAME_MONTHS_PER_PERCENT
    else:
        assert rank is not None
        percent, months = OVER_FRAME_FIRST_PERCENT, int(rank.attributes["months_per_step"])
    if values.get("over_frame_percent") != percent:
        violations.append(FieldViolation(f"{where}values.over_frame_percent", f"Mức kế tiếp là {percent}%"))
    elif effective < (due := months_after(held.valid_from, months)):
        violations.append(
            FieldViolation(
                f"{where}effective_date", f"Chưa đủ thời gian: được hưởng {percent}% từ ngày {due.isoformat()}"
            )
        )
