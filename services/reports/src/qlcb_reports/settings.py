from __future__ import annotations

from datetime import date

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import EnvironmentSettings, GrpcServiceSettings
from qlcb_common.working_days import WorkingCalendar


class ReportsSettings(GrpcServiceSettings, EnvironmentSettings):
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

    national_url: AnyHttpUrl | None = Field(
        default=None,
        description="The national report system's endpoint that receives the approved roll-ups (HTTP POST of "
        "JSON); unset, the default, the connector is off and the deliveries wait, pending; https outside development",
    )
    national_token: SecretStr | None = Field(
        default=None, description="The bearer token the national report system gave this sector, from a secret"
    )
    national_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="How long one delivery waits for the receiver's answer"
    )
    national_poll_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="How often the connector looks for deliveries due"
    )
    national_retry_base_seconds: float = Field(
        default=30.0, gt=0, le=86400, description="The first retry's delay; each next one doubles it (with jitter)"
    )
    national_retry_max_seconds: float = Field(
        default=3600.0, gt=0, le=86400, description="The longest delay between two attempts"
    )
    national_max_attempts: int = Field(
        default=48, ge=1, le=10000, description="Attempts after which a delivery that never got through is failed"
    )

    @model_validator(mode="after")
    def _days_off_or_on(self) -> ReportsSettings:
        self.working_calendar()
        return self

    @model_validator(mode="after")
    def _national_endpoint(self) -> ReportsSettings:
        self.refuse_plaintext(
            self.require_https("national_url", self.national_url, "the roll-ups and the bearer token travel there")
        )
        if self.national_retry_max_seconds < self.national_retry_base_seconds:
            raise ValueError("national_retry_max_seconds is shorter than national_retry_base_seconds")
        return self

    def working_calendar(self) -> WorkingCalendar:
        """Vietnam's working days with the days these settings add (ValueError for a day listed as both)."""
        return WorkingCalendar(self.calendar_extra_days_off, self.calendar_extra_working_days)
