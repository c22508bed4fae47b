"""The retention rule over dates: which good sets are kept (issue 12, point 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from qlcb_backup.schedule.retention import Retention, sets_to_keep

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def _nightly(days: int, *, start: datetime) -> dict[str, datetime]:
    """One set a night at 01:30 Hà Nội time, `days` nights back from `start`, named by date."""
    return {(start - timedelta(days=n)).strftime("%Y-%m-%d"): start - timedelta(days=n) for n in range(days)}


def test_a_year_of_nightly_sets_keeps_the_last_days_weeks_and_months() -> None:
    start = datetime(2026, 12, 6, 1, 30, tzinfo=HANOI)  # a Sunday
    kept = sets_to_keep(_nightly(400, start=start), Retention(daily=7, weekly=4, monthly=12), HANOI)
    days = {f"2026-12-{d:02d}" for d in range(0, 7) if d} | {"2026-11-30"}
    weeks = {"2026-12-06", "2026-11-29", "2026-11-22", "2026-11-15"}  # Sundays: the newest of their ISO week
    months = {"2026-12-06"} | {
        f"{y}-{m:02d}-{last}"
        for y, m, last in [
            (2026, 11, 30),
            (2026, 10, 31),
            (2026, 9, 30),
            (2026, 8, 31),
            (2026, 7, 31),
            (2026, 6, 30),
            (2026, 5, 31),
            (2026, 4, 30),
            (2026, 3, 31),
            (2026, 2, 28),
            (2026, 1, 31),
        ]
    }
    assert kept == days | weeks | months


def test_the_newest_set_is_kept_even_when_the_policy_keeps_nothing() -> None:
    taken = _nightly(3, start=datetime(2026, 12, 6, 1, 30, tzinfo=HANOI))
    assert sets_to_keep(taken, Retention(daily=0, weekly=0, monthly=0), HANOI) == {"2026-12-06"}
    assert sets_to_keep({}, Retention(daily=7, weekly=4, monthly=12), HANOI) == set()


def test_several_sets_a_day_keep_only_the_newest_of_each_day() -> None:
    base = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)  # 15:00 in Hà Nội
    taken = {f"s{n}": base - timedelta(hours=n) for n in range(30)}  # s16 is 23:00 on 5 December there
    assert sets_to_keep(taken, Retention(daily=2, weekly=0, monthly=0), HANOI) == {"s0", "s16"}


def test_days_are_counted_in_the_schedule_zone_not_in_utc() -> None:
    # 23:30 UTC on 5 December is 06:30 on 6 December in Hà Nội: the same day as a set at 02:00 UTC on the 6th.
    late, early = datetime(2026, 12, 5, 23, 30, tzinfo=UTC), datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    older = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    taken = {"late": late, "early": early, "older": older}
    assert sets_to_keep(taken, Retention(daily=2, weekly=0, monthly=0), HANOI) == {"early", "older"}
    assert sets_to_keep(taken, Retention(daily=2, weekly=0, monthly=0), UTC) == {"early", "late"}
