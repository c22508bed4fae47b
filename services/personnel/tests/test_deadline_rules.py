"""The deadline of an entry and whether it came late, by each sector's rule (R-PER-4): Customs' 3
working days (001 Điều 8.1.b), a province's 30 days for a new record and 15 for an update (003 Điều
9-10), and which entries are history rather than late. Expected days are written by hand."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from qlcb_common.record_sections import BY_NAME
from qlcb_common.working_days import WorkingCalendar
from qlcb_personnel.deadlines.rules import ChangeKind, DeadlinePolicy, Judgement, SectorRule
from qlcb_personnel.settings import DeadlineSettings

CUSTOMS = DeadlinePolicy(SectorRule.CUSTOMS, WorkingCalendar())
PROVINCE = DeadlinePolicy(SectorRule.PROVINCE, WorkingCalendar())
CREATED = date(2026, 1, 5)  # the record was created in the system that day


def _judge(
    policy: DeadlinePolicy, section: str, event: date, entered: date, valid_to: date | None = None
) -> Judgement | None:
    return policy.judge(BY_NAME[section], event, valid_to, entered_on=entered, record_created_on=CREATED)


def _late(policy: DeadlinePolicy, section: str, event: date, entered: date) -> bool:
    judged = _judge(policy, section, event, entered)
    assert judged is not None
    return judged.late


def test_customs_gives_three_working_days_to_every_change() -> None:
    # The Friday before Quốc khánh 2026: Thursday 3, Friday 4 and Monday 7 September.
    on_time = _judge(CUSTOMS, "salary", date(2026, 8, 28), date(2026, 9, 7))
    assert on_time is not None
    assert (on_time.kind, on_time.deadline, on_time.late) == (ChangeKind.UPDATE, date(2026, 9, 7), False)
    late = _judge(CUSTOMS, "salary", date(2026, 8, 28), date(2026, 9, 8))
    assert late is not None
    assert late.late
    assert late.days_late(date(2026, 9, 8)) == 1
    new_record = _judge(CUSTOMS, "recruitment", date(2026, 2, 13), date(2026, 2, 25))
    assert new_record is not None
    assert (new_record.kind, new_record.deadline, new_record.late) == (ChangeKind.NEW_RECORD, date(2026, 2, 25), False)


def test_a_province_gives_thirty_days_to_a_new_record_and_fifteen_to_an_update() -> None:
    update = _judge(PROVINCE, "rewards", date(2026, 3, 2), date(2026, 3, 17))
    assert update is not None
    assert (update.deadline, update.late) == (date(2026, 3, 17), False)
    assert _late(PROVINCE, "rewards", date(2026, 3, 2), date(2026, 3, 18))
    new_record = _judge(PROVINCE, "recruitment", date(2026, 3, 2), date(2026, 4, 1))
    assert new_record is not None
    assert (new_record.deadline, new_record.late) == (date(2026, 4, 1), False)
    assert _late(PROVINCE, "recruitment", date(2026, 3, 2), date(2026, 4, 2))


def test_a_period_of_days_ending_on_a_day_off_ends_on_the_next_working_day() -> None:
    """Bộ luật Dân sự 2015 Điều 148.5."""
    # 17 August + 15 = Tuesday 1 September 2026, off, as are 2 September: Thursday 3.
    update = _judge(PROVINCE, "salary", date(2026, 8, 17), date(2026, 9, 3))
    assert update is not None
    assert (update.deadline, update.late) == (date(2026, 9, 3), False)
    # 15 January + 30 = Saturday 14 February 2026, the first day of Tết: Monday 23.
    new_record = _judge(PROVINCE, "recruitment", date(2026, 1, 15), date(2026, 2, 23))
    assert new_record is not None
    assert (new_record.deadline, new_record.late) == (date(2026, 2, 23), False)


def test_an_event_still_to_come_is_on_time() -> None:
    judged = _judge(CUSTOMS, "appointments", date(2026, 12, 20), date(2026, 12, 1))
    assert judged is not None
    assert not judged.late
    assert judged.days_late(date(2026, 12, 1)) == 0


def test_what_happened_before_the_record_existed_is_history() -> None:
    """The career of someone whose paper record is taken in, entered long after: no deadline."""
    assert _judge(CUSTOMS, "salary", date(2004, 10, 1), date(2026, 1, 5)) is None
    assert _judge(CUSTOMS, "trainings", date(2010, 9, 1), date(2026, 3, 1), valid_to=date(2014, 6, 30)) is None
    # From the day of its creation on, an update has its deadline.
    assert _judge(CUSTOMS, "salary", CREATED, date(2026, 1, 5)) is not None


def test_recruitments_before_the_sectors_start_day_are_records_taken_in() -> None:
    started = DeadlinePolicy(SectorRule.CUSTOMS, WorkingCalendar(), new_records_from=date(2026, 7, 1))
    assert _judge(started, "recruitment", date(1998, 3, 1), date(2026, 7, 10)) is None
    recruited = _judge(started, "recruitment", date(2026, 7, 1), date(2026, 7, 10))
    assert recruited is not None
    assert recruited.late
    # Without a start day every recruitment is a new record.
    assert _judge(CUSTOMS, "recruitment", date(1998, 3, 1), date(2026, 7, 10)) is not None


def test_a_training_is_counted_from_its_end_and_an_undated_fact_has_no_deadline() -> None:
    course = _judge(CUSTOMS, "trainings", date(2026, 3, 2), date(2026, 6, 8), valid_to=date(2026, 6, 5))
    assert course is not None
    assert (course.event_date, course.deadline) == (date(2026, 6, 5), date(2026, 6, 10))
    assert _judge(CUSTOMS, "family", CREATED, date(2026, 6, 8)) is None


def test_the_rule_and_the_calendar_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QLCB_PERSONNEL_DEADLINE_RULE", "province")
    monkeypatch.setenv("QLCB_PERSONNEL_DEADLINE_NEW_RECORDS_FROM", "2026-07-01")
    monkeypatch.setenv("QLCB_PERSONNEL_CALENDAR_EXTRA_DAYS_OFF", '["2026-12-14"]')
    monkeypatch.setenv("QLCB_PERSONNEL_CALENDAR_EXTRA_WORKING_DAYS", '["2026-12-19"]')
    settings = DeadlineSettings()
    assert settings.deadline_rule is SectorRule.PROVINCE
    assert settings.deadline_new_records_from == date(2026, 7, 1)
    assert settings.calendar_extra_days_off == [date(2026, 12, 14)]
    assert settings.calendar_extra_working_days == [date(2026, 12, 19)]
    monkeypatch.setenv("QLCB_PERSONNEL_DEADLINE_RULE", "ministry")
    with pytest.raises(ValidationError, match="deadline_rule"):
        DeadlineSettings()
    monkeypatch.setenv("QLCB_PERSONNEL_DEADLINE_RULE", "customs")
    monkeypatch.setenv("QLCB_PERSONNEL_CALENDAR_EXTRA_WORKING_DAYS", '["2026-12-14"]')
    with pytest.raises(ValidationError, match="both an extra day off and an extra working day"):
        DeadlineSettings()
