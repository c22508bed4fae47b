"""The content digest of a Keycloak realm export (ADR 0025): what a restored realm must give back
(users with their attributes, groups, role mappings, credentials' type and hash, roles, clients),
independent of Keycloak's internal ids, which a restore regenerates, and of the order of lists."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any, Final

from qlcb_backup.stores.base import combine

ALGORITHM: Final = "realm-sha256/1"
"""The name the manifest gives this digest."""
USER_FIELDS = ("enabled", "email", "emailVerified", "firstName", "lastName", "serviceAccountClientId", "federationLink")
CLIENT_FIELDS = (
    "enabled",
    "publicClient",
    "bearerOnly",
    "serviceAccountsEnabled",
    "standardFlowEnabled",
    "directAccessGrantsEnabled",
    "clientAuthenticatorType",
)


def realm_digest(realm: Mapping[str, Any]) -> str:
    """One digest over the realm's sections, each the SHA-256 of its canonical JSON."""
    roles = realm.get("roles") or {}
    sections = {
        "realm roles": sorted(_role(role) for role in roles.get("realm") or []),
        "client roles": {
            client: sorted(_role(role) for role in client_roles)
            for client, client_roles in (roles.get("client") or {}).items()
        },
        "groups": sorted(_groups(realm.get("groups") or [], parent="")),
        "users": sorted(_user(user) for user in realm.get("users") or []),
        "clients": sorted(_client(client) for client in realm.get("clients") or []),
    }
    return combine((name, hashlib.sha256(canonical(value).encode()).hexdigest()) for name, value in sections.items())


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _role(role: Mapping[str, Any]) -> str:
    composites = role.get("composites") or {}
    return canonical(
        {
            "name": role.get("name"),
            "description": role.get("description"),
            "attributes": role.get("attributes") or {},
            "composites": {
                "realm": sorted(composites.get("realm") or []),
                "client": {c: sorted(names) for c, names in (composites.get("client") or {}).items()},
            },
        }
    )


def _groups(groups: list[Mapping[str, Any]], *, parent: str) -> Iterator[str]:
    for group in groups:
        path = f"{parent}/{group.get('name')}"
        yield canonical(
            {
                "path": path,
                "attributes": _sorted_values(group.get("attributes")),
                "realmRoles": sorted(group.get("realmRoles") or []),
                "clientRoles": _sorted_values(group.get("clientRoles")),
            }
        )
        yield from _groups(group.get("subGroups") or [], parent=path)


def _user(user: Mapping[str, Any]) -> str:
    return canonical(
        {
            "username": user.get("username"),
            **{field: user.get(field) for field in USER_FIELDS},
            "attributes": _sorted_values(user.get("attributes")),
            "groups": sorted(user.get("groups") or []),
            "realmRoles": sorted(user.get("realmRoles") or []),
            "clientRoles": _sorted_values(user.get("clientRoles")),
            "requiredActions": sorted(user.get("requiredActions") or []),
            "credentials": sorted(_credential(c) for c in user.get("credentials") or []),
        }
    )


def _credential(credential: Mapping[str, Any]) -> str:
    """Its type and hash: the secret and credential data (algorithm, iterations, salt), parsed so
    that the layout of Keycloak's JSON strings does not count."""
    return canonical(
        {
            "type": credential.get("type"),
            "secretData": _parsed(credential.get("secretData")),
            "credentialData": _parsed(credential.get("credentialData")),
        }
    )


def _client(client: Mapping[str, Any]) -> str:
    """Its kind, flows and scopes, and the secret a confidential client logs in with. Not its
    addresses, which Keycloak rewrites when it renames a realm, nor the secret Keycloak generates
    on import for a bearer-only client, which never uses one."""
    confidential = not client.get("publicClient") and not client.get("bearerOnly")
    return canonical(
        {
            "clientId": client.get("clientId"),
            **{field: client.get(field) for field in CLIENT_FIELDS},
            "secret": client.get("secret") if confidential else None,
            "defaultClientScopes": sorted(client.get("defaultClientScopes") or []),
            "optionalClientScopes": sorted(client.get("optionalClientScopes") or []),
        }
    )


def _sorted_values(mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    return {key: sorted(value) if isinstance(value, list) else value for key, value in (mapping or {}).items()}


def _parsed(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
