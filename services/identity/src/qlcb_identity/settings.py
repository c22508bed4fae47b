from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_IDENTITY_", extra="ignore")

    port: int = 8081
