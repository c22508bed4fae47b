from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import GrpcServiceSettings


class PersonnelSettings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_PERSONNEL_", extra="ignore")

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
