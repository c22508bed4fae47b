"""Groups, users and tokens in the qlcb realm, through Keycloak's admin REST API.

Used to seed the demo organisation's logins and by the tests; the realm itself (roles,
clients, policies) comes from deploy/keycloak/realm-qlcb.json.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from keycloak import KeycloakAdmin

from qlcb_identity.unit_groups.projection import ensure_group_path

REALM = "qlcb"
CLI_CLIENT = "qlcb-cli"


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    tier: str
    unit_path: str | None
    full_name: str
    sections: tuple[str, ...] = ()  # record sections a local officer's admin granted it
    personal_id: str | None = None  # the holder's record, for a personal (self) account


def ensure_user(admin: KeycloakAdmin, account: Account) -> str:
    """Creates the user with its password, or updates an existing one (keeping its password, which
    the realm's password history would refuse to set again); then its tier role and unit group."""
    family, _, given = account.full_name.rpartition(" ")
    user_id = admin.get_user_id(account.username)
    payload = {
        "username": account.username,
        "enabled": True,
        "emailVerified": True,
        "firstName": given,
        "lastName": family,
        "email": f"{account.username}@qlcb.example",
    }
    attributes: dict[str, list[str]] = {}
    if account.sections:
        attributes["qlcb_sections"] = list(account.sections)
    if account.personal_id:
        attributes["qlcb_personal_id"] = [account.personal_id]
    if attributes:
        payload["attributes"] = attributes
    if user_id is None:
        user_id = admin.create_user(payload, exist_ok=True)
        admin.set_user_password(user_id, account.password, temporary=False)
    else:
        admin.update_user(user_id, payload)
    role = admin.get_realm_role(account.tier)
    admin.assign_realm_roles(user_id, [role])
    if account.unit_path:
        admin.group_user_add(user_id, ensure_group_path(admin, account.unit_path))
    return str(user_id)


def password_token(
    base_url: str, username: str, password: str, *, client_id: str = CLI_CLIENT, realm: str = REALM
) -> str:
    """An access token for the user, from the password grant of the CLI client."""
    response = httpx.post(
        f"{base_url}/realms/{realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": client_id,
            "username": username,
            "password": password,
            "scope": "openid",
        },
        timeout=30,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token
