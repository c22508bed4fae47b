from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import GrpcServiceSettings


class ReportsSettings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_REPORTS_", extra="ignore")
