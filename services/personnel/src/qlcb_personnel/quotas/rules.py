"""The allocation rule of staffing quotas (R-ORG-3), as pure functions of a unit's dated quotas.

A unit's quota for a year is a step function of the day: each change holds from its effective date
until the next (a change of the same date, recorded later, corrects it). The quotas of a unit's
children, added up, may never exceed the unit's own on any day; a unit with no quota that day holds
none to give, a dissolved one holds nothing from its dissolution."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True)
class Step:
    """A quota from a day on, in the order it was recorded."""

    effective: date
    recorded: datetime
    quota: int


def latest(steps: Iterable[Step]) -> Step | None:
    """The step in force last: latest effective date, then latest recorded."""
    return max(steps, key=lambda s: (s.effective, s.recorded), default=None)


def value_on(steps: Iterable[Step], day: date) -> int | None:
    """The quota in force on `day`, None before the first."""
    found = latest(s for s in steps if s.effective <= day)
    return found.quota if found is not None else None


def change_kind(previous: Step | None, effective: date) -> str | None:
    """What a change from `effective` is after the last one: the first quota of the year
    (assigned), a later one (changed), the same date again (corrected); None when it would take
    effect before the last one, which the history may not do."""
    if previous is None:
        return "assigned"
    if effective == previous.effective:
        return "corrected"
    return "changed" if effective > previous.effective else None


@dataclass(frozen=True)
class Excess:
    """The first day the children's quotas exceed their parent's."""

    day: date
    quota: int | None
    """The parent's quota that day (None: none)."""
    allocated: int
    """The children's quotas that day, added up."""


def first_excess(parent: Sequence[Step], children: Mapping[str, Sequence[Step]], since: date) -> Excess | None:
    """The first day from `since` on when the children together hold more than the parent: the
    figures can only change on an effective date, so those are the days to look at."""
    days = {since} | {s.effective for steps in (parent, *children.values()) for s in steps if s.effective > since}
    for day in sorted(days):
        quota = value_on(parent, day)
        allocated = sum(value_on(steps, day) or 0 for steps in children.values())
        if allocated > (quota or 0):
            return Excess(day, quota, allocated)
    return None


FOREVER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def ended(steps: Sequence[Step], on: date | None) -> list[Step]:
    """The steps of a unit dissolved `on` (None: not dissolved): from that day it holds nothing."""
    return [*steps, Step(on, FOREVER, 0)] if on is not None else list(steps)
