from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import GrpcServiceSettings
from qlcb_common.working_days import WorkingCalendar


class ReportsSettings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_REPORTS_", extra="ignore")

    reminder_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86400,
        description="How often the reminder worker looks for reports whose deadline is near",
    )
    calendar_extra_days_off: list[date] = Field(
        default_factory=list,
        description="Days off the holidays package does not know (a swap or extra day the government "
        "decided after its release), as a JSON list of ISO dates: report deadlines skip them",
    )
    calendar_extra_working_days: list[date] = Field(
        default_factory=list,
        description="Weekend days worked in exchange for a bridge day that the holidays package does not "
        "know, as a JSON list of ISO dates",
    )

    @model_validator(mode="after")
    def _days_off_or_on(self) -> ReportsSettings:
        self.working_calendar()
        return self

    def working_calendar(self) -> WorkingCalendar:
        """Vietnam's working days with the days these settings add (ValueError for a day listed as both)."""
        return WorkingCalendar(self.calendar_extra_days_off, self.calendar_extra_working_days)
