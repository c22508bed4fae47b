from __future__ import annotations

from pathlib import Path

from pydantic import AnyHttpUrl, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import NatsClientSettings, ServiceSettings


class KeycloakAdminSettings(ServiceSettings):
    """How identity reaches Keycloak's admin API, as its own client of the realm (never the master
    admin), to keep the realm as the repository defines it and to manage accounts."""

    model_config = SettingsConfigDict(env_prefix="QLCB_IDENTITY_", extra="ignore")

    keycloak_url: AnyHttpUrl = Field(description="Keycloak base URL, e.g. http://localhost:8080")
    keycloak_client_id: str = Field(default="qlcb-identity", description="Identity's confidential client of the realm")
    keycloak_client_secret: SecretStr = Field(description="That client's secret, from a secret the installer set")
    realm_file: Path = Field(description="The realm definition, deploy/keycloak/realm-qlcb.json")
    realm_overlays: list[Path] = Field(
        default_factory=list,
        description="Files merged over the realm file, in order; a production deployment names no "
        "development overlay (deploy/keycloak/realm-qlcb.dev-overlay.json is for make up and the tests)",
    )


class IdentitySettings(KeycloakAdminSettings, NatsClientSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_IDENTITY_", extra="ignore")

    port: int = 8081
    database_url: str = Field(description="SQLAlchemy async URL of identity's own store")
    admin_events_interval_seconds: float = Field(default=5.0, gt=0, description="Keycloak admin events polling")
    credential_key: SecretStr = Field(description="Fernet key sealing first-login passwords until retrieved")
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
