from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from pydantic import AnyHttpUrl, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import (
    DatabaseSettings,
    EnvironmentSettings,
    EventConsumerSettings,
    NatsClientSettings,
    ServiceSettings,
    WorkingCalendarSettings,
    given_together,
    readable_pem,
)


class KeycloakAdminSettings(ServiceSettings, EnvironmentSettings):
    """How identity reaches Keycloak's admin API, as its own client of the realm (never the master
    admin), to keep the realm as the repository defines it and to manage accounts."""

    model_config = SettingsConfigDict(env_prefix="QLCB_IDENTITY_", extra="ignore")

    keycloak_url: AnyHttpUrl = Field(
        description="Keycloak base URL, e.g. https://login.example; http only in development"
    )
    keycloak_client_id: str = Field(default="qlcb-identity", description="Identity's confidential client of the realm")
    keycloak_client_secret: SecretStr = Field(description="That client's secret, from a secret the installer set")
    realm_file: Path = Field(description="The realm definition, deploy/keycloak/realm-qlcb.json")
    realm_overlays: list[Path] = Field(
        default_factory=list,
        description="Files merged over the realm file, in order; a production deployment names no "
        "development overlay (deploy/keycloak/realm-qlcb.dev-overlay.json is for make up and the tests)",
    )

    @model_validator(mode="after")
    def _keycloak_encrypted_outside_development(self) -> KeycloakAdminSettings:
        self.refuse_plaintext(
            self.require_https(
                "keycloak_url", self.keycloak_url, "identity's client secret and admin tokens would cross in clear"
            )
        )
        return self


class IdentitySettings(
    KeycloakAdminSettings, DatabaseSettings, NatsClientSettings, EventConsumerSettings, WorkingCalendarSettings
):
    model_config = SettingsConfigDict(env_prefix="QLCB_IDENTITY_", extra="ignore")

    port: int = 8081
    tls_cert_file: Path | None = Field(
        default=None, description="PEM server certificate (with its chain); set: the port serves HTTPS only"
    )
    tls_key_file: Path | None = Field(default=None, description="PEM key of the server certificate, a secret")
    admin_events_interval_seconds: float = Field(default=5.0, gt=0, description="Keycloak admin events polling")
    credential_keys: list[SecretStr] = Field(
        min_length=1,
        description="Fernet keys sealing first-login passwords until retrieved, as a JSON list: the first "
        "seals, every one opens. To rotate, put a new key first, run `python -m qlcb_identity credentials "
        "rotate`, then drop the old one",
    )
    credential_lifetime_hours: int = Field(default=72, gt=0, le=720, description="How long a first-login code holds")
    smtp_host: str = Field(description="Mail relay through which first-login codes reach their holders")
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    mail_from: str = Field(default="QLCB <qlcb@localhost>", description="Sender of the system's mail")
    federation_allow_http_issuers: bool = Field(
        default=False,
        description="Development only: accept a partner agency's OIDC issuer (and the endpoints its discovery "
        "document names) over plain http, as devstack's local Keycloak serves them; otherwise https only",
    )
    federation_check_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often partner agencies' mappers are checked for a system-admin or sector tier, "
        "which identity removes (one added on Keycloak's console or admin API)",
    )

    positions_check_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often the head appointments whose term has run out are looked for, to take the "
        "unit-leader tier from a holder who heads no unit any more (R-ACC-8)",
    )

    @field_validator("credential_keys")
    @classmethod
    def _fernet_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for position, key in enumerate(keys):
            try:
                Fernet(key.get_secret_value())
            except ValueError as error:
                raise ValueError(f"key {position} is not a Fernet key (32 url-safe base64 bytes): {error}") from None
        return keys

    def credential_sealer(self) -> MultiFernet:
        return MultiFernet([Fernet(key.get_secret_value()) for key in self.credential_keys])

    @field_validator("tls_cert_file", "tls_key_file")
    @classmethod
    def _readable(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        return readable_pem(cls, info, path)

    @model_validator(mode="after")
    def _certificate_whole(self) -> IdentitySettings:
        given_together(self, "tls_cert_file", "tls_key_file")
        return self
