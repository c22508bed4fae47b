"""The allocation rule of staffing quotas (R-ORG-3) on dated quotas: what is in force on a day, what a
change is, and the first day children would hold more than their parent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from qlcb_personnel.quotas.rules import Excess, Step, change_kind, ended, first_excess, latest, value_on

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
JAN, MAR, JUN, SEP = date(2026, 1, 1), date(2026, 3, 1), date(2026, 6, 1), date(2026, 9, 1)


def step(day: date, quota: int, minutes: int = 0) -> Step:
    return Step(day, T0 + timedelta(minutes=minutes), quota)


def test_the_quota_of_a_day_is_the_last_change_in_force_and_a_correction_wins() -> None:
    steps = [step(JAN, 100), step(JUN, 120), step(JUN, 102, minutes=5)]
    assert value_on(steps, date(2025, 12, 31)) is None
    assert value_on(steps, JAN) == 100
    assert value_on(steps, date(2026, 5, 31)) == 100
    assert value_on(steps, JUN) == 102  # the correction recorded later, same date
    assert latest(steps) == steps[2]


def test_a_change_is_assigned_changed_or_corrected_never_before_the_last() -> None:
    assert change_kind(None, MAR) == "assigned"
    assert change_kind(step(MAR, 10), MAR) == "corrected"
    assert change_kind(step(MAR, 10), JUN) == "changed"
    assert change_kind(step(MAR, 10), JAN) is None


def test_children_within_their_parent_on_every_day_pass() -> None:
    parent = [step(JAN, 100), step(JUN, 150)]
    children = {"a": [step(JAN, 60)], "b": [step(JUN, 90)]}
    assert first_excess(parent, children, JAN) is None


def test_an_allocation_before_the_parent_was_raised_exceeds_it_on_its_own_date() -> None:
    parent = [step(JAN, 100), step(JUN, 150)]
    children = {"a": [step(JAN, 60)], "b": [step(MAR, 50)]}
    assert first_excess(parent, children, MAR) == Excess(MAR, 100, 110)


def test_a_parent_lowered_below_a_later_allocation_is_caught_on_that_later_day() -> None:
    parent = [step(JAN, 100), step(MAR, 50)]
    children = {"a": [step(JAN, 10), step(SEP, 60)]}
    assert first_excess(parent, children, MAR) == Excess(SEP, 50, 60)


def test_a_parent_without_a_quota_holds_none_to_give() -> None:
    assert first_excess([], {"a": [step(MAR, 1)]}, MAR) == Excess(MAR, None, 1)
    assert first_excess([], {"a": [step(MAR, 0)]}, MAR) is None


def test_a_dissolved_child_gives_its_quota_back_from_its_dissolution() -> None:
    parent = [step(JAN, 100)]
    children = {"gone": ended([step(JAN, 80)], JUN), "new": [step(JUN, 100)]}
    assert first_excess(parent, children, JUN) is None
    assert first_excess(parent, children | {"new": [step(MAR, 100)]}, MAR) == Excess(MAR, 100, 180)
