"""When an entry of the record is due, and whether it came late (R-PER-4).

The rule of each sector is the table `RULES`: for each kind of change, how many days and of which
kind (working days on the Vietnamese calendar, or calendar days) the unit has from the event to
enter it. Which sector's rule is in force is a setting (`DeadlineSettings.deadline_rule`).

- Customs (001 Điều 8.1.b): "chậm nhất trong vòng 3 ngày làm việc kể từ ngày nhận được hồ sơ giấy
  hoặc từ ngày phát sinh dữ liệu mới" — 3 working days, whatever the change.
- Provinces (003 Điều 9–10): a new record "trong thời gian 30 ngày, kể từ ngày có quyết định tuyển
  dụng…"; an update of an existing record (training, appointment, transfer, salary raise, reward,
  discipline…) "chậm nhất là 15 ngày, kể từ ngày văn bản có hiệu lực". (Its changes of status and
  transfers, 15 days too, are not record entries and not measured here.)

How the days are counted (Bộ luật Dân sự 2015, Điều 147–148): a period counted in days starts the
day after the event; a period of calendar days whose last day is a weekend day or a holiday ends at
the end of the next working day. An entry is late when the day it was entered (in Vietnam, UTC+7)
is after its deadline; how late is counted in calendar days past the deadline.

The event date of an entry is its effective date (`valid_from`): the decision's effective date for
an entry a decision made, the day of the event for a dated fact. A training's degree exists from the
end of the course, so a training with an end is counted from its end. Undated sections (family
relations) have no event and no deadline.

Which entries are measured (the rest are history taken in, not late entries):
- new entries only: a correction fixes an entry and does not count as another (the entry is judged
  again with its corrected dates, from the time it was first entered); a retracted entry drops out;
  closing or reopening a period is the system's doing;
- an update is measured when its event is on or after the day the person's record was created in
  the system: what happened before the record existed (the career of someone whose paper record is
  taken in, a past training found in a yearly review) is history, however late it is entered;
- a new record (the recruitment entry) is measured when its event is on or after
  `deadline_new_records_from`, the day the sector started keeping its records here: recruitments
  before it are the records taken in when the system went live.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from qlcb_common.record_sections import RecordSection
from qlcb_common.working_days import WorkingCalendar


class SectorRule(StrEnum):
    CUSTOMS = "customs"
    PROVINCE = "province"


class ChangeKind(StrEnum):
    NEW_RECORD = "new_record"  # lập hồ sơ mới: the recruitment that makes the record
    UPDATE = "update"  # cập nhật hồ sơ đã có: every other change


class Counting(StrEnum):
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"


@dataclass(frozen=True)
class Limit:
    days: int
    counting: Counting
    basis: str  # where the regulation says so


RULES: Mapping[SectorRule, Mapping[ChangeKind, Limit]] = {
    SectorRule.CUSTOMS: {
        ChangeKind.NEW_RECORD: Limit(3, Counting.WORKING_DAYS, "QĐ 240/QĐ-TCHQ Điều 8.1.b"),
        ChangeKind.UPDATE: Limit(3, Counting.WORKING_DAYS, "QĐ 240/QĐ-TCHQ Điều 8.1.b"),
    },
    SectorRule.PROVINCE: {
        ChangeKind.NEW_RECORD: Limit(30, Counting.CALENDAR_DAYS, "QĐ 539/QĐ-UBND-HC Điều 9.1"),
        ChangeKind.UPDATE: Limit(15, Counting.CALENDAR_DAYS, "QĐ 539/QĐ-UBND-HC Điều 9.2, 10"),
    },
}

KIND_OF_SECTION: Mapping[str, ChangeKind] = {"recruitment": ChangeKind.NEW_RECORD}
"""Sections whose entry is a kind of change other than an update."""

COUNTED_FROM_END = frozenset({"trainings"})
"""Sections whose event is the end of the entry's period, when it has one (a degree, at the course's end)."""


def change_kind(section: str) -> ChangeKind:
    return KIND_OF_SECTION.get(section, ChangeKind.UPDATE)


def event_date(section: RecordSection, valid_from: date | None, valid_to: date | None) -> date | None:
    """The day the entry's data arose, or None for an undated entry."""
    if not section.dated:
        return None
    if section.name in COUNTED_FROM_END and valid_to is not None:
        return valid_to
    return valid_from


@dataclass(frozen=True)
class Judgement:
    kind: ChangeKind
    event_date: date
    deadline: date
    late: bool

    def days_late(self, entered_on: date) -> int:
        return max((entered_on - self.deadline).days, 0)


@dataclass(frozen=True)
class DeadlinePolicy:
    rule: SectorRule
    calendar: WorkingCalendar
    new_records_from: date | None = None

    def judge_change(self, event: date, *, entered_on: date, record_created_on: date) -> Judgement | None:
        """A change of the record's status (retirement, resignation, death, a move out, reinstatement):
        an update, due as any update of the record is; None for one before the record existed here."""
        if event < record_created_on:
            return None
        deadline = self.deadline(ChangeKind.UPDATE, event)
        return Judgement(ChangeKind.UPDATE, event, deadline, late=entered_on > deadline)

    def deadline(self, kind: ChangeKind, event: date) -> date:
        limit = RULES[self.rule][kind]
        if limit.counting is Counting.WORKING_DAYS:
            return self.calendar.add_working_days(event, limit.days)
        return self.calendar.working_day_on_or_after(event + timedelta(days=limit.days))

    def judge(
        self,
        section: RecordSection,
        valid_from: date | None,
        valid_to: date | None,
        *,
        entered_on: date,
        record_created_on: date,
    ) -> Judgement | None:
        """The entry's deadline and whether it was met, or None for an entry no deadline applies to
        (undated, or history taken in: see the module's rules)."""
        event = event_date(section, valid_from, valid_to)
        if event is None:
            return None
        kind = change_kind(section.name)
        if kind is ChangeKind.UPDATE and event < record_created_on:
            return None
        if kind is ChangeKind.NEW_RECORD and self.new_records_from is not None and event < self.new_records_from:
            return None
        deadline = self.deadline(kind, event)
        return Judgement(kind, event, deadline, late=entered_on > deadline)
