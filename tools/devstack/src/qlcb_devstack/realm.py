"""The realm as an installer sets it up once, with Keycloak's master admin: created from its
definition, then identity's client secret handed to identity's settings. Identity itself logs
in with that client of the realm only, never as the master admin (ADR 0008).

On this machine the definition is the realm file with the development overlay (the password-grant
CLI client, localhost redirects), and identity is told to keep that overlay too.
"""

from __future__ import annotations

from pathlib import Path

from qlcb_devstack.keycloak import KeycloakServer, admin_client
from qlcb_devstack.state import repo_root
from qlcb_identity.realm.definition import RealmDefinition, load
from qlcb_identity.realm.sync import RealmSync

IDENTITY_CLIENT = "qlcb-identity"
BACKUP_CLIENT = "qlcb-backup"


def realm_file() -> Path:
    """The production realm: the web client and the service clients."""
    return repo_root() / "deploy" / "keycloak" / "realm-qlcb.json"


def dev_overlay_file() -> Path:
    """What development adds: the CLI client with the password grant, localhost redirects."""
    return repo_root() / "deploy" / "keycloak" / "realm-qlcb.dev-overlay.json"


def dev_realm() -> RealmDefinition:
    return load(realm_file(), [dev_overlay_file()])


def install_realm(keycloak: KeycloakServer, definition: RealmDefinition) -> None:
    """Creates the realm, or brings an existing one to the definition, as the master admin."""
    RealmSync(lambda: admin_client(keycloak, definition.name), definition).apply()


def client_secret(keycloak: KeycloakServer, realm: str, client_id: str = IDENTITY_CLIENT) -> str:
    """A confidential client's secret, as the installer reads it for the service's settings."""
    admin = admin_client(keycloak, realm)
    internal = admin.get_client_id(client_id)
    if internal is None:
        raise LookupError(f"client {client_id} is not in realm {realm}; install the realm first")
    secret: str = admin.get_client_secrets(internal)["value"]
    return secret
