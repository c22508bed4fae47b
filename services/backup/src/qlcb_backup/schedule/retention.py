"""Which good sets retention keeps: a pure rule over the times the sets were taken."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo


@dataclass(frozen=True)
class Retention:
    daily: int
    weekly: int
    monthly: int


def _day(moment: datetime) -> Hashable:
    return moment.date()


def _week(moment: datetime) -> Hashable:
    year, week, _ = moment.isocalendar()
    return (year, week)


def _month(moment: datetime) -> Hashable:
    return (moment.year, moment.month)


def sets_to_keep(taken: Mapping[str, datetime], policy: Retention, zone: tzinfo) -> set[str]:
    """The newest set of each of the `daily` most recent days that have a set, of each of the
    `weekly` most recent ISO weeks and of the `monthly` most recent months (days, weeks and months as
    `zone` counts them), and the newest set whatever the policy says."""
    newest_first = sorted(taken, key=lambda set_id: (taken[set_id], set_id), reverse=True)
    keep = set(newest_first[:1])
    periods: tuple[tuple[Callable[[datetime], Hashable], int], ...] = (
        (_day, policy.daily),
        (_week, policy.weekly),
        (_month, policy.monthly),
    )
    for period, count in periods:
        seen: set[Hashable] = set()
        for set_id in newest_first:
            slot = period(taken[set_id].astimezone(zone))
            if slot in seen:
                continue
            if len(seen) == count:
                break
            seen.add(slot)
            keep.add(set_id)
    return keep
