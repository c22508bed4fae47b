from __future__ import annotations

from keycloak import KeycloakAdmin

from qlcb_identity.realm.definition import load
from qlcb_identity.realm.sync import RealmSync
from qlcb_identity.settings import KeycloakAdminSettings


def keycloak_admin(settings: KeycloakAdminSettings, realm: str) -> KeycloakAdmin:
    """Keycloak's admin API for `realm`, as identity's own confidential client of that realm
    (client credentials grant): what its service account's admin roles allow there, and nothing
    in any other realm (ADR 0008)."""
    return KeycloakAdmin(
        server_url=str(settings.keycloak_url).rstrip("/"),
        client_id=settings.keycloak_client_id,
        client_secret_key=settings.keycloak_client_secret.get_secret_value(),
        grant_type="client_credentials",
        realm_name=realm,
        user_realm_name=realm,
    )


def realm_sync(settings: KeycloakAdminSettings) -> RealmSync:
    definition = load(settings.realm_file, settings.realm_overlays)
    return RealmSync(lambda: keycloak_admin(settings, definition.name), definition)
