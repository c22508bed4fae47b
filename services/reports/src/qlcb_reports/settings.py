from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import (
    EnvironmentSettings,
    EventConsumerSettings,
    GrpcServiceSettings,
    WorkingCalendarSettings,
)


class ReportsSettings(GrpcServiceSettings, EnvironmentSettings, EventConsumerSettings, WorkingCalendarSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_REPORTS_", extra="ignore")

    reminder_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86400,
        description="How often the reminder worker looks for reports whose deadline is near",
    )
    period_opening_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="How often the worker that opens periodic regimes' periods on their first day looks for one "
        "due (R-REP-2); a period opens at most this long after midnight in Vietnam",
    )
    sector_founded: date = Field(
        default=date(1945, 9, 10),
        description="The day the sector was founded (Ngành Hải quan: 10/9/1945): no statistics form is "
        "computed as of an earlier day",
    )
    statistics_forms_dir: Path | None = Field(
        default=None,
        description="A folder of statistics form layouts (*.json, as the packaged ones) read at start beside "
        "the packaged forms: a form of a packaged code replaces it, a new code adds a form, retirement_ages.json "
        "replaces the schedule. A correction of a layout is a changed file, not a release; a malformed file "
        "stops the start, naming the file",
    )
    statistics_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="How often the statistics supervisor looks for a rebuild to start, finish or clean up, and "
        "for a new day to move the profiles of today on to (ADR 0036)",
    )
    statistics_stored_years: int = Field(
        default=5,
        ge=0,
        le=30,
        description="Over how many years back the statistics profiles of each half year's end (30 June, "
        "31 December) are stored beside today's (ADR 0037, 0044): a counting form of such a day reads them, one "
        "of a day near one reads them and works out again only the people who changed in between; each is a "
        "row per person in service, two a year",
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
    signing_secret: SecretStr = Field(
        min_length=32,
        description="The secret the key-encryption key of the signing authority is derived from: it seals the "
        "root key and every unit's signing key in the reports database (at least 32 characters, from a secret "
        "the installer set; losing it loses every key, changing it needs the keys resealed)",
    )
    signing_authority_name: str = Field(
        default="QLCB - Cơ quan chứng thực ký số báo cáo",
        min_length=1,
        max_length=64,
        description="The common name of the root certificate made on first start",
    )
    signing_root_days: int = Field(default=3650, ge=30, le=10_000, description="Lifetime of the root certificate")
    signing_unit_days: int = Field(
        default=730, ge=1, le=3650, description="Lifetime of a unit's certificate (within the root's)"
    )
    font_dir: Path = Field(
        default=Path("/usr/share/fonts/truetype/dejavu"),
        description="Where DejaVuSerif.ttf and DejaVuSerif-Bold.ttf are (Debian's fonts-dejavu-core): the "
        "signed report PDFs embed them",
    )

    @model_validator(mode="after")
    def _national_endpoint(self) -> ReportsSettings:
        self.refuse_plaintext(
            self.require_https("national_url", self.national_url, "the roll-ups and the bearer token travel there")
        )
        if self.national_retry_max_seconds < self.national_retry_base_seconds:
            raise ValueError("national_retry_max_seconds is shorter than national_retry_base_seconds")
        return self
