from __future__ import annotations

from datetime import date

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import EventConsumerSettings, GrpcServiceSettings, WorkingCalendarSettings
from qlcb_personnel.deadlines.rules import SectorRule

ENV_PREFIX = "QLCB_PERSONNEL_"


class DeadlineSettings(WorkingCalendarSettings):
    """The deadlines for entering data (R-PER-4): which sector's rule, from when new records are
    measured, and the days the Vietnamese calendar of the `holidays` package does not know."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    deadline_rule: SectorRule = Field(
        default=SectorRule.CUSTOMS,
        description="Whose deadlines apply: customs (3 working days for every change, QĐ 240/QĐ-TCHQ Điều 8.1.b) "
        "or province (30 days for a new record, 15 for an update, QĐ 539/QĐ-UBND-HC Điều 9-10)",
    )
    deadline_new_records_from: date | None = Field(
        default=None,
        description="The first day whose recruitments are new records with a deadline (the day the sector "
        "started keeping its records here); earlier ones are records taken in. Unset: every recruitment",
    )


class PersonnelSettings(GrpcServiceSettings, DeadlineSettings, EventConsumerSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    decision_apply_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often pending decisions whose effective date has come are applied",
    )
    audit_seal_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often new audit entries are sealed into the hash chain",
    )
    audit_head_publish_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often, at most, the audit hash chain's head is published on the bus (when "
        "entries were sealed since): a copy outside the database that the chain is verified against; "
        "entries sealed since the last one are not covered by it",
    )
