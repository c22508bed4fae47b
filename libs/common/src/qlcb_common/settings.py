"""Typed settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from pydantic import AnyHttpUrl, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OidcSettings(BaseSettings):
    """Where bearer tokens come from and who they must be meant for."""

    model_config = SettingsConfigDict(env_prefix="QLCB_OIDC_", extra="ignore")

    issuer: AnyHttpUrl = Field(description="Expected `iss`, e.g. http://localhost:8080/realms/qlcb")
    audience: str = Field(default="qlcb-api", description="Expected `aud` of access tokens")
    jwks_url: AnyHttpUrl | None = Field(default=None, description="JWKS endpoint; derived from the issuer when unset")
    leeway_seconds: int = Field(default=0, ge=0, le=60)
    jwks_min_refresh_seconds: float = Field(
        default=10.0, ge=0, description="At most one JWKS refresh per interval on unknown keys"
    )

    @property
    def resolved_jwks_url(self) -> str:
        if self.jwks_url is not None:
            return str(self.jwks_url)
        return str(self.issuer).rstrip("/") + "/protocol/openid-connect/certs"


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses set `env_prefix`, e.g. QLCB_PERSONNEL_."""

    model_config = SettingsConfigDict(extra="ignore")

    log_level: str = "INFO"
    host: str = "127.0.0.1"
    ops_port: int = Field(default=0, ge=0, le=65535, description="/metrics, /livez, /readyz")


class GrpcServiceSettings(ServiceSettings):
    grpc_port: int = Field(default=0, ge=0, le=65535)
    database_url: str = Field(description="SQLAlchemy async URL of this service's own store")
    nats_url: str = "nats://127.0.0.1:4222"
    shutdown_grace_seconds: float = 5.0
