"""The realm as code: the repository's realm file, with any overlays merged over it, split into
what is synchronised.

The realm file is what production runs. An overlay adds to it for one kind of deployment: the
development overlay (`realm-qlcb.dev-overlay.json`, used by `make up` and the tests) adds the
password-grant CLI client and localhost redirects; a production deployment names no overlay, or
one of its own stating its web address.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Parts of a realm export that are data, not configuration: never synchronised from the file.
_NOT_SETTINGS = {"roles", "clients", "groups", "users", "identityProviders", "identityProviderMappers"}
# QLCB's own key, not part of a realm export: attributes added to Keycloak's user profile.
_USER_PROFILE = "userProfile"
# The realm's texts by locale and message key (e.g. the password policy's errors). Keycloak takes
# them when it creates a realm, but neither returns nor changes them through the realm's settings:
# they have an admin endpoint of their own.
_LOCALIZATION_TEXTS = "localizationTexts"


@dataclass(frozen=True)
class RealmDefinition:
    payload: dict[str, Any]

    @property
    def name(self) -> str:
        name: str = self.payload["realm"]
        return name

    @property
    def settings(self) -> dict[str, Any]:
        return {k: v for k, v in self.payload.items() if k not in {*_NOT_SETTINGS, _USER_PROFILE, _LOCALIZATION_TEXTS}}

    @property
    def realm(self) -> dict[str, Any]:
        """The realm representation Keycloak creates a realm from."""
        return {k: v for k, v in self.payload.items() if k != _USER_PROFILE}

    @property
    def profile_attributes(self) -> list[dict[str, Any]]:
        """User-profile attributes QLCB adds to Keycloak's defaults (which it leaves alone)."""
        attributes: list[dict[str, Any]] = self.payload.get(_USER_PROFILE, {}).get("attributes", [])
        return attributes

    @property
    def localization_texts(self) -> dict[str, dict[str, str]]:
        """The realm's own texts by locale, overriding the messages of Keycloak's themes with the
        same keys (texts the definition does not state are left alone)."""
        texts: dict[str, dict[str, str]] = self.payload.get(_LOCALIZATION_TEXTS, {})
        return texts

    @property
    def roles(self) -> list[dict[str, Any]]:
        roles: list[dict[str, Any]] = self.payload.get("roles", {}).get("realm", [])
        return roles

    @property
    def client_roles(self) -> dict[str, list[dict[str, Any]]]:
        """Roles of the realm's own clients (client id → roles), e.g. the one backup's account holds."""
        roles: dict[str, list[dict[str, Any]]] = self.payload.get("roles", {}).get("client", {})
        return roles

    @property
    def clients(self) -> list[dict[str, Any]]:
        clients: list[dict[str, Any]] = self.payload.get("clients", [])
        return clients

    @property
    def service_accounts(self) -> dict[str, dict[str, list[str]]]:
        """The client roles of each client's service account (client id → client → roles), as a
        realm export states them: a user with `serviceAccountClientId`."""
        return {
            user["serviceAccountClientId"]: user.get("clientRoles", {})
            for user in self.payload.get("users", [])
            if "serviceAccountClientId" in user
        }


def load(path: Path, overlays: Sequence[Path] = ()) -> RealmDefinition:
    """The realm file with each overlay merged over it, in order."""
    payload = _read(path)
    for overlay in overlays:
        payload = _merge(payload, _read(overlay))
    return RealmDefinition(payload)


def _read(path: Path) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(unicodedata.normalize("NFC", path.read_text(encoding="utf-8")))
    return payload


# What names an entry of a list, so that an overlay's entry changes the base's entry of that name.
_ENTRY_KEYS = ("clientId", "name", "username")


def _merge(base: Any, overlay: Any) -> Any:
    """Objects merge key by key; lists of named entries (clients, roles, mappers) merge entry by
    entry, an overlay's new entries appended; any other value of the overlay replaces the base's."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        return {**base, **{key: _merge(base.get(key), value) for key, value in overlay.items()}}
    if isinstance(base, list) and isinstance(overlay, list) and all(map(_entry_key, [*base, *overlay])):
        merged = {_entry_key(entry): entry for entry in base}
        for entry in overlay:
            key = _entry_key(entry)
            merged[key] = _merge(merged.get(key), entry)
        return list(merged.values())
    return overlay


def _entry_key(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    return next((f"{key}={entry[key]}" for key in _ENTRY_KEYS if key in entry), None)
