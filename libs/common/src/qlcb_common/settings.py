"""Typed settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def api_audience(service: str) -> str:
    """The `aud` a token must carry for the service's API to accept it, e.g. `qlcb-personnel`."""
    return f"qlcb-{service}"


class OidcSettings(BaseSettings):
    """Where bearer tokens come from and who they must be meant for."""

    model_config = SettingsConfigDict(env_prefix="QLCB_OIDC_", extra="ignore")

    issuer: AnyHttpUrl = Field(description="Expected `iss`, e.g. http://localhost:8080/realms/qlcb")
    audience: str | None = Field(
        default=None, description="Expected `aud` of access tokens; unset: the service's own, `qlcb-<service>`"
    )
    jwks_url: AnyHttpUrl | None = Field(default=None, description="JWKS endpoint; derived from the issuer when unset")
    leeway_seconds: int = Field(default=0, ge=0, le=60)
    jwks_min_refresh_seconds: float = Field(
        default=10.0, ge=0, description="At most one JWKS refresh per interval on unknown keys"
    )
    verified_cache_size: int = Field(
        default=1024,
        ge=0,
        description="Verified tokens remembered, by exact token and until their exp, so a repeated token skips the "
        "signature check; 0: every call verifies",
    )

    def audience_of(self, service: str) -> str:
        """The audience the service checks: the configured one, or the service's own API."""
        return self.audience or api_audience(service)

    @property
    def resolved_jwks_url(self) -> str:
        if self.jwks_url is not None:
            return str(self.jwks_url)
        return str(self.issuer).rstrip("/") + "/protocol/openid-connect/certs"


class HttpApiSettings(BaseSettings):
    """Limits of the FastAPI services' HTTP edge (gateway, identity)."""

    model_config = SettingsConfigDict(env_prefix="QLCB_HTTP_", extra="ignore")

    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0, description="Largest request body; a larger one gets 413 before it is read whole"
    )


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses set `env_prefix`, e.g. QLCB_PERSONNEL_."""

    model_config = SettingsConfigDict(extra="ignore")

    log_level: str = "INFO"
    host: str = "127.0.0.1"
    ops_port: int = Field(default=0, ge=0, le=65535, description="/metrics, /livez, /readyz")


class NatsClientSettings(BaseSettings):
    """How a service reaches the event bus: as its own user, over TLS when a CA is given (or the
    URL is tls://), presenting a client certificate when the server verifies clients."""

    model_config = SettingsConfigDict(extra="ignore")

    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str = Field(default="", description="This service's own NATS user (events.permissions)")
    nats_password: SecretStr = Field(default=SecretStr(""), description="From a secret")
    nats_tls_ca_file: Path | None = Field(
        default=None, description="PEM of the CA that signed the server's certificate; set: TLS is required"
    )
    nats_tls_cert_file: Path | None = Field(default=None, description="PEM client certificate, with its key")
    nats_tls_key_file: Path | None = Field(default=None, description="PEM key of the client certificate, a secret")

    @model_validator(mode="after")
    def _client_certificate_whole(self) -> NatsClientSettings:
        if (self.nats_tls_cert_file is None) != (self.nats_tls_key_file is None):
            raise ValueError("nats_tls_cert_file and nats_tls_key_file are given together")
        if self.nats_tls_cert_file is not None and not self.nats_tls:
            raise ValueError("a client certificate needs TLS: set nats_tls_ca_file or a tls:// URL")
        return self

    @property
    def nats_tls(self) -> bool:
        return self.nats_tls_ca_file is not None or self.nats_url.startswith("tls://")


class GrpcServiceSettings(ServiceSettings, NatsClientSettings):
    grpc_port: int = Field(default=0, ge=0, le=65535)
    grpc_reflection: bool = Field(
        default=False,
        description="Serve gRPC server reflection, which lists and describes the service's API to anyone "
        "without a token (for tools such as grpcurl); off unless a development setup asks for it",
    )
    database_url: str = Field(description="SQLAlchemy async URL of this service's own store")
    shutdown_grace_seconds: float = 5.0
