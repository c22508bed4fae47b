"""The realm as code: the repository's realm file, split into what is synchronised."""

from __future__ import annotations

import json
import unicodedata
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
    def clients(self) -> list[dict[str, Any]]:
        clients: list[dict[str, Any]] = self.payload.get("clients", [])
        return clients


def load(path: Path) -> RealmDefinition:
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
    return RealmDefinition(json.loads(text))
