from __future__ import annotations

from pathlib import Path

from pydantic import AnyHttpUrl, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import ServiceSettings


class KeycloakAdminSettings(ServiceSettings):
    """How identity reaches Keycloak's admin API to keep the realm as the repository defines it."""

    model_config = SettingsConfigDict(env_prefix="QLCB_IDENTITY_", extra="ignore")

    keycloak_url: AnyHttpUrl = Field(description="Keycloak base URL, e.g. http://localhost:8080")
    keycloak_admin_username: str = "admin"
    keycloak_admin_password: SecretStr = Field(description="Admin of the master realm")
    realm_file: Path = Field(description="The realm definition, deploy/keycloak/realm-qlcb.json")


class IdentitySettings(KeycloakAdminSettings):
    port: int = 8081
    database_url: str = Field(description="SQLAlchemy async URL of identity's own store")
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str = Field(default="", description="Identity's own NATS user (events.permissions)")
    nats_password: SecretStr = Field(default=SecretStr(""), description="From a secret")
    admin_events_interval_seconds: float = Field(default=5.0, gt=0, description="Keycloak admin events polling")
    credential_key: SecretStr = Field(description="Fernet key sealing first-login passwords until retrieved")
