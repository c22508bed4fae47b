from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import GrpcServiceSettings


class PersonnelSettings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_PERSONNEL_", extra="ignore")
