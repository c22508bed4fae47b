from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import AnyHttpUrl, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import (
    ENVIRONMENT_VARIABLE,
    Environment,
    EnvironmentSettings,
    ServiceSettings,
    given_together,
    readable_pem,
    setting_name,
)

BACKENDS = ("personnel", "reports", "backup")
TARGETS = (
    "a gRPC target, dns:///host:port (a headless Service: one address per replica), "
    "ipv4:127.0.0.1:8101,127.0.0.1:8111 (local replicas) or host:port (one); calls go round-robin to "
    "the replicas whose gRPC health is SERVING"
)


class GatewaySettings(ServiceSettings, EnvironmentSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_GATEWAY_", extra="ignore")

    port: int = 8080
    personnel_target: str = Field(description=f"Every replica of the personnel gRPC service: {TARGETS}")
    reports_target: str = Field(description=f"Every replica of the reports gRPC service: {TARGETS}")
    backup_target: str = Field(description=f"Every replica of the backup gRPC service: {TARGETS}")
    grpc_tls_ca_file: Path | None = Field(
        default=None,
        description="PEM of the CA that signed the backends' certificates; set: every target is called over TLS "
        "(required outside development)",
    )
    grpc_tls_cert_file: Path | None = Field(
        default=None, description="PEM client certificate shown to backends that require one (with its chain)"
    )
    grpc_tls_key_file: Path | None = Field(default=None, description="PEM key of the client certificate, a secret")
    identity_url: AnyHttpUrl = Field(description="Base URL of the identity service; https outside development")
    identity_tls_ca_file: Path | None = Field(
        default=None,
        description="PEM of the CA that signed identity's certificate; unset: the default bundle (certifi's)",
    )
    call_timeout_seconds: float = Field(default=10.0, gt=0, description="Deadline of every backend call")
    export_timeout_seconds: float = Field(
        default=900.0,
        gt=0,
        description="Deadline of an export's stream from personnel (GET /v1/persons/export), from its first row to "
        "its last, however slowly the client reads",
    )
    import_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        description="Deadline of a bulk import's call to personnel (POST /v1/imports/…): the file's rows sent, "
        "checked and written; 50,000 rows take well under a minute",
    )
    backup_timeout_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Deadline of the backup calls that read or write whole stores: taking a set, confirming a "
        "restore (which restores it), switching one, a drill; a restore cut off by it fails and leaves nothing",
    )
    resume_font_dir: Path = Field(
        default=Path("/usr/share/fonts/truetype/dejavu"),
        description="Directory holding DejaVuSerif.ttf and DejaVuSerif-Bold.ttf (Debian's fonts-dejavu-core), "
        "embedded in every resume PDF; the gateway does not start without them",
    )
    resume_batch_max: int = Field(
        default=200,
        ge=1,
        le=500,
        description="Most resumes one GET /v1/units/{id}/resumes prints; a unit with more people is refused (422)",
    )

    web_client_id: str = Field(
        default="qlcb-gateway",
        min_length=1,
        description="The Keycloak client the web pages log in with: public, authorization code with PKCE (S256), "
        "its redirect URIs allowing <the gateway's address>/web/callback",
    )
    web_session_key: SecretStr | None = Field(
        default=None,
        description="Fernet key (32 random bytes, URL-safe base64) sealing the web pages' session cookie, from a "
        "secret; every replica holds the same one. Unset: refused outside development; in development each start "
        "makes its own, so a restart ends the sessions",
    )
    web_session_idle_seconds: int = Field(
        default=1800,
        ge=60,
        le=86400,
        description="A web session not used for this long ends (the next page asks for a login again); the cookie "
        "is sealed again whenever the access token is refreshed",
    )

    @field_validator("web_session_key")
    @classmethod
    def _fernet_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None:
            try:
                Fernet(key.get_secret_value())
            except ValueError as exc:
                raise ValueError(
                    f"{setting_name(cls, 'web_session_key')} is not a Fernet key (32 bytes in URL-safe base64)"
                ) from exc
        return key

    @model_validator(mode="after")
    def _session_key_outside_development(self) -> GatewaySettings:
        if self.web_session_key is None and self.environment is not Environment.DEVELOPMENT:
            raise ValueError(
                f"{setting_name(type(self), 'web_session_key')} is unset: the web sessions would be sealed with a key "
                f"no other replica holds and lost at every restart. Refused because {ENVIRONMENT_VARIABLE} is "
                f"{self.environment.value}; only {ENVIRONMENT_VARIABLE}=development makes one at start"
            )
        return self

    def session_key(self) -> str:
        """The key sealing the web sessions: the configured one, or in development one made now."""
        if self.web_session_key is None:
            return Fernet.generate_key().decode()
        return self.web_session_key.get_secret_value()

    @field_validator("grpc_tls_ca_file", "grpc_tls_cert_file", "grpc_tls_key_file", "identity_tls_ca_file")
    @classmethod
    def _readable(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        return readable_pem(cls, info, path)

    @model_validator(mode="after")
    def _tls_whole_and_required_outside_development(self) -> GatewaySettings:
        gateway = type(self)
        given_together(self, "grpc_tls_cert_file", "grpc_tls_key_file")
        if self.grpc_tls_cert_file is not None and self.grpc_tls_ca_file is None:
            raise ValueError(f"a client certificate needs TLS: set {setting_name(gateway, 'grpc_tls_ca_file')} as well")
        if self.identity_tls_ca_file is not None and self.identity_url.scheme != "https":
            raise ValueError(
                f"{setting_name(gateway, 'identity_tls_ca_file')} needs an https:// "
                f"{setting_name(gateway, 'identity_url')}"
            )
        problems = self.require_https("identity_url", self.identity_url, "bearer tokens would be sent to it in clear")
        if self.grpc_tls_ca_file is None:
            targets = ", ".join(setting_name(gateway, f"{backend}_target") for backend in BACKENDS)
            problems.append(
                f"{setting_name(gateway, 'grpc_tls_ca_file')} is unset, so {targets} would be called in plaintext gRPC "
                "and bearer tokens sent in clear"
            )
        self.refuse_plaintext(problems)
        return self
