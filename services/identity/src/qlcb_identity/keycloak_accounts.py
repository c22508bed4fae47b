"""Accounts in Keycloak: created with a first-login password the holder must change."""

from __future__ import annotations

import secrets
import string
import unicodedata

from keycloak import KeycloakAdmin

from qlcb_identity.unit_groups.projection import ensure_group_path

_CLASSES = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!@#$%^&*-_=+?")


def temporary_password(length: int = 16) -> str:
    """Random, with every character class, so it passes the realm's policy (R-ACC-7)."""
    chars = [secrets.choice(c) for c in _CLASSES]
    alphabet = "".join(_CLASSES)
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def ascii_slug(name: str) -> str:
    """ "Nguyễn Văn Đức" → "nguyenvanduc"."""
    folded = unicodedata.normalize("NFKD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in folded if c.isascii() and c.isalnum()).lower()


def create_account(
    admin: KeycloakAdmin,
    *,
    username: str,
    full_name: str,
    roles: list[str],
    group_path: str,
    password: str,
) -> str:
    family, _, given = full_name.rpartition(" ")
    user_id: str = admin.create_user(
        {
            "username": username,
            "enabled": True,
            "firstName": given,
            "lastName": family,
            "requiredActions": ["UPDATE_PASSWORD"],
            "credentials": [{"type": "password", "value": password, "temporary": True}],
        }
    )
    admin.assign_realm_roles(user_id, [admin.get_realm_role(role) for role in roles])
    admin.group_user_add(user_id, ensure_group_path(admin, group_path))
    return user_id
