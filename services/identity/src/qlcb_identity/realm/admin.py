from __future__ import annotations

from keycloak import KeycloakAdmin

from qlcb_identity.realm.definition import load
from qlcb_identity.realm.sync import RealmSync
from qlcb_identity.settings import KeycloakAdminSettings


def keycloak_admin(settings: KeycloakAdminSettings, realm: str) -> KeycloakAdmin:
    return KeycloakAdmin(
        server_url=str(settings.keycloak_url).rstrip("/"),
        username=settings.keycloak_admin_username,
        password=settings.keycloak_admin_password.get_secret_value(),
        realm_name=realm,
        user_realm_name="master",
    )


def realm_sync(settings: KeycloakAdminSettings) -> RealmSync:
    return RealmSync(lambda realm: keycloak_admin(settings, realm), load(settings.realm_file))
