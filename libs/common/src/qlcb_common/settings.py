"""Typed settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Final

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from qlcb_common.working_days import WorkingCalendar

ENVIRONMENT_VARIABLE: Final = "QLCB_ENVIRONMENT"


class Environment(StrEnum):
    PRODUCTION = "production"
    DEVELOPMENT = "development"


def setting_name(settings: type[BaseSettings], field: str) -> str:
    """The environment variable that sets a field, e.g. QLCB_PERSONNEL_GRPC_TLS_CERT_FILE."""
    return (settings.model_config.get("env_prefix", "") + field).upper()


def readable_pem(settings: type[BaseSettings], info: ValidationInfo, path: Path | None) -> Path | None:
    """The path of a PEM file (certificate, key or CA) read once now, so that a missing, unreadable
    or wrong file stops the service at start-up naming its setting, not at the first connection."""
    if path is None:
        return None
    assert info.field_name is not None
    name = setting_name(settings, info.field_name)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{name}: cannot read {path}: {exc.strerror}") from exc
    if b"-----BEGIN " not in content:
        raise ValueError(f"{name}: {path} is not a PEM file")
    return path


def given_together(settings: BaseSettings, *fields: str) -> None:
    given = [getattr(settings, field) is not None for field in fields]
    if any(given) and not all(given):
        names = " and ".join(setting_name(type(settings), field) for field in fields)
        raise ValueError(f"{names} are given together")


class EnvironmentSettings(BaseSettings):
    """Settings naming an address that bearer tokens or secrets travel to. Outside development
    each such address must be encrypted (https, gRPC over TLS), or the settings refuse to load
    and the service does not start."""

    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)  # the input holds secrets

    environment: Environment = Field(
        default=Environment.PRODUCTION,
        alias=ENVIRONMENT_VARIABLE,
        description="development (devstack: make up, the tests) allows plaintext http and gRPC; "
        "production, the default, refuses them",
    )

    def refuse_plaintext(self, problems: list[str]) -> None:
        """Stops loading when some address is plaintext (`problems`, each naming its setting)
        unless the environment is development."""
        if problems and self.environment is not Environment.DEVELOPMENT:
            raise ValueError(
                "; ".join(problems) + f". Refused because {ENVIRONMENT_VARIABLE} is {self.environment.value}, "
                f"the default; only {ENVIRONMENT_VARIABLE}=development allows plaintext"
            )

    def require_https(self, field: str, url: AnyHttpUrl | None, why: str) -> list[str]:
        """The problem with `field` if `url` is given and is not https, for `refuse_plaintext`."""
        if url is None or url.scheme == "https":
            return []
        return [f"{setting_name(type(self), field)} is {url}, not https://: {why}"]


class FaultPointSettings(EnvironmentSettings):
    """Where a crash test holds a service still (`qlcb_common.faults`): development only."""

    model_config = SettingsConfigDict(env_prefix="QLCB_", extra="ignore")

    fault_points_dir: Path | None = Field(
        default=None,
        description="Development only (the crash tests): a folder in which a test arms a fault point by "
        "creating `<point>.armed`; the service then waits at that point, e.g. between JetStream's "
        "acknowledgement of a relay batch and the marking of its rows, until killed or released. "
        "Unset, the default, the points do nothing; set outside development, the service does not start",
    )

    @model_validator(mode="after")
    def _development_only(self) -> FaultPointSettings:
        if self.fault_points_dir is not None and self.environment is not Environment.DEVELOPMENT:
            raise ValueError(
                f"{setting_name(type(self), 'fault_points_dir')} is set: fault points hold a service still for "
                f"crash tests. Refused because {ENVIRONMENT_VARIABLE} is {self.environment.value}; "
                f"only {ENVIRONMENT_VARIABLE}=development allows them"
            )
        return self


def api_audience(service: str) -> str:
    """The `aud` a token must carry for the service's API to accept it, e.g. `qlcb-personnel`."""
    return f"qlcb-{service}"


class OidcSettings(EnvironmentSettings):
    """Where bearer tokens come from and who they must be meant for."""

    model_config = SettingsConfigDict(env_prefix="QLCB_OIDC_", extra="ignore")

    issuer: AnyHttpUrl = Field(
        description="Expected `iss`, e.g. https://login.example/realms/qlcb; http only in development"
    )
    audience: str | None = Field(
        default=None, description="Expected `aud` of access tokens; unset: the service's own, `qlcb-<service>`"
    )
    jwks_url: AnyHttpUrl | None = Field(
        default=None, description="JWKS endpoint; derived from the issuer when unset; http only in development"
    )
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

    @model_validator(mode="after")
    def _encrypted_outside_development(self) -> OidcSettings:
        self.refuse_plaintext(
            self.require_https("issuer", self.issuer, "tokens are issued and their signing keys fetched in clear")
            + self.require_https("jwks_url", self.jwks_url, "the signing keys would be fetched in clear")
        )
        return self

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
    max_upload_bytes: int = Field(
        default=32 * 1024 * 1024,
        gt=0,
        description="Largest file sent to a route that takes files (the gateway's bulk import, POST /v1/imports/…); "
        "a larger one gets 413 before it is read whole. 50,000 rows of an import template take 5–15 MB as CSV, "
        "less as XLSX",
    )


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses set `env_prefix`, e.g. QLCB_PERSONNEL_."""

    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)  # the input holds secrets

    log_level: str = "INFO"
    host: str = "127.0.0.1"
    ops_port: int = Field(default=0, ge=0, le=65535, description="/metrics, /livez, /readyz")
    shutdown_grace_seconds: float = Field(
        default=5.0,
        ge=0,
        description="On SIGTERM, how long the calls in flight may take to finish once new ones are refused "
        "(then they are cancelled), and again how long relays, consumers and pollers may take to finish "
        "the batch or message in hand (then they are cancelled; what they held is redelivered)",
    )
    shutdown_unready_seconds: float = Field(
        default=5.0,
        ge=0,
        description="On SIGTERM, the longest time the service reports itself unready (/readyz 503, gRPC "
        "health NOT_SERVING) while still answering, so that balancers stop sending it calls before it "
        "refuses them; it moves on as soon as no call has arrived for half a second (clients balancing "
        "on gRPC health, as the gateway does, stop at once)",
    )


class DatabaseSettings(BaseSettings):
    """A service's own store. Subclasses set `env_prefix`; the migration command gives it as
    `_env_prefix`, so that it needs nothing of the service's settings but these."""

    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)  # the URL holds a password

    database_url: str = Field(description="SQLAlchemy async URL of this service's own store")
    migrate_at_start: bool = Field(
        default=True,
        description="Bring the store's schema to the newest revision at start-up (ADR 0022); off where a Job "
        "migrates before a release starts (the Helm chart), and then the service refuses to start on a store "
        "at another revision",
    )


class NatsClientSettings(BaseSettings):
    """How a service reaches the event bus: as its own user, over TLS when a CA is given (or the
    URL is tls://), presenting a client certificate when the server verifies clients."""

    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)  # the input holds secrets

    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str = Field(default="", description="This service's own NATS user (events.permissions)")
    nats_password: SecretStr = Field(default=SecretStr(""), description="From a secret")
    nats_tls_ca_file: Path | None = Field(
        default=None, description="PEM of the CA that signed the server's certificate; set: TLS is required"
    )
    nats_tls_cert_file: Path | None = Field(default=None, description="PEM client certificate, with its key")
    nats_tls_key_file: Path | None = Field(default=None, description="PEM key of the client certificate, a secret")
    nats_stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="On how many servers of a NATS cluster this service's stream and its consumers are kept: 3 on "
        "a cluster of three or more, so that losing one server loses no event and stops no publishing; 1 on a "
        "single server",
    )

    @field_validator("nats_tls_ca_file", "nats_tls_cert_file", "nats_tls_key_file")
    @classmethod
    def _readable(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        return readable_pem(cls, info, path)

    @model_validator(mode="after")
    def _client_certificate_whole(self) -> NatsClientSettings:
        given_together(self, "nats_tls_cert_file", "nats_tls_key_file")
        if self.nats_tls_cert_file is not None and not self.nats_tls:
            raise ValueError("a client certificate needs TLS: set nats_tls_ca_file or a tls:// URL")
        return self

    @property
    def nats_tls(self) -> bool:
        return self.nats_tls_ca_file is not None or self.nats_url.startswith("tls://")


@dataclass(frozen=True)
class ConsumerPolicy:
    """`ack_wait`: how long JetStream waits for an event's acknowledgement before delivering it again.
    `processed_kept`: how long the inbox keeps the id of an event processed (`DurableConsumer.prune`);
    None keeps every one."""

    ack_wait: float = 30.0
    processed_kept: timedelta | None = None


KEEP_EVERY_ID: Final = ConsumerPolicy()


class EventConsumerSettings(BaseSettings):
    """A service that consumes events (durable consumers, `qlcb_common.events.consumer`)."""

    model_config = SettingsConfigDict(extra="ignore")

    nats_ack_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How long an event delivered to this service's consumers and not acknowledged (its replica "
        "died with it in hand) waits before JetStream delivers it again; longer than the slowest handling",
    )
    inbox_kept_days: float = Field(
        default=400.0,
        ge=1,
        le=3650,
        description="How long each consumer keeps the id of an event it applied, at least. A producer's store "
        "restored alone sends again what it published since its set began, which a consumer whose own store was "
        "not restored drops only while it holds the ids: keep this longer than the oldest backup set you may restore "
        "(backup's keep_monthly months)",
    )

    def consumer_policy(self) -> ConsumerPolicy:
        return ConsumerPolicy(ack_wait=self.nats_ack_wait_seconds, processed_kept=timedelta(days=self.inbox_kept_days))


class GrpcServiceSettings(ServiceSettings, DatabaseSettings, NatsClientSettings):
    grpc_port: int = Field(default=0, ge=0, le=65535)
    grpc_tls_cert_file: Path | None = Field(
        default=None, description="PEM server certificate (with its chain); set: the gRPC port serves TLS only"
    )
    grpc_tls_key_file: Path | None = Field(default=None, description="PEM key of the server certificate, a secret")
    grpc_tls_client_ca_file: Path | None = Field(
        default=None, description="PEM of the CA that signs clients' certificates; set: a client must present one"
    )
    grpc_reflection: bool = Field(
        default=False,
        description="Serve gRPC server reflection, which lists and describes the service's API to anyone "
        "without a token (for tools such as grpcurl); off unless a development setup asks for it",
    )
    grpc_max_connection_age_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a client's connection may live before the service asks it to reconnect (an HTTP/2 "
        "GOAWAY; calls in flight finish on it, new ones go on a new connection). Reconnecting is when a client "
        "resolves a headless Service's addresses again, so replicas added by scaling get calls within this "
        "time",
    )

    @field_validator("grpc_tls_cert_file", "grpc_tls_key_file", "grpc_tls_client_ca_file")
    @classmethod
    def _readable_tls(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        return readable_pem(cls, info, path)

    @model_validator(mode="after")
    def _server_certificate_whole(self) -> GrpcServiceSettings:
        given_together(self, "grpc_tls_cert_file", "grpc_tls_key_file")
        if self.grpc_tls_client_ca_file is not None and self.grpc_tls_cert_file is None:
            raise ValueError(
                f"{setting_name(type(self), 'grpc_tls_client_ca_file')} needs TLS: set "
                f"{setting_name(type(self), 'grpc_tls_cert_file')} and {setting_name(type(self), 'grpc_tls_key_file')}"
            )
        return self


class WorkingCalendarSettings(BaseSettings):
    """The days Vietnam's calendar in the `holidays` package does not know, for every service that
    counts working days (R-ACC-5, R-PER-4, the report regimes): the same lists in each, so a bridge
    day the government announces moves every deadline alike."""

    model_config = SettingsConfigDict(extra="ignore")

    calendar_extra_days_off: list[date] = Field(
        default_factory=list,
        description="Days off the holidays package does not know (a swap or extra day the government "
        "decided after its release), as a JSON list of ISO dates: deadlines skip them",
    )
    calendar_extra_working_days: list[date] = Field(
        default_factory=list,
        description="Weekend days worked in exchange for a bridge day that the holidays package does not "
        "know, as a JSON list of ISO dates",
    )

    @model_validator(mode="after")
    def _days_off_or_on(self) -> WorkingCalendarSettings:
        self.working_calendar()
        return self

    def working_calendar(self) -> WorkingCalendar:
        """Vietnam's working days with the days these settings add (ValueError for a day listed as both)."""
        return WorkingCalendar(self.calendar_extra_days_off, self.calendar_extra_working_days)
