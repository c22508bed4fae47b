from __future__ import annotations

from pydantic import AnyHttpUrl, Field
from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_GATEWAY_", extra="ignore")

    port: int = 8080
    personnel_target: str = Field(description="host:port of the personnel gRPC service")
    reports_target: str = Field(description="host:port of the reports gRPC service")
    backup_target: str = Field(description="host:port of the backup gRPC service")
    identity_url: AnyHttpUrl = Field(description="Base URL of the identity service")
    call_timeout_seconds: float = Field(default=10.0, gt=0, description="Deadline of every backend call")
