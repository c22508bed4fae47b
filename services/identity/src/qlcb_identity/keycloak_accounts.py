"""Accounts in Keycloak: created with a first-login password the holder must change."""

from __future__ import annotations

import asyncio
import re
import secrets
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from keycloak import KeycloakAdmin

from qlcb_common.auth import Principal
from qlcb_common.errors import NotFound, PermissionDenied, RefusedAsNotFound
from qlcb_common.tiers import TIER_NAMES
from qlcb_identity.account_requests import rules
from qlcb_identity.unit_groups.projection import ensure_group_path

PERSONAL_ID_ATTRIBUTE = "qlcb_personal_id"
USERNAME_PART_SHORTEST = 3
"""The realm's `notContainsUsernamePart(3)`: the shortest part of a username a password may not hold."""
_CLASSES = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!@#$%^&*-_=+?")


def username_parts(username: str, shortest: int = USERNAME_PART_SHORTEST) -> set[str]:
    """The parts of an account's name no password may contain, as the realm's
    `notContainsUsernamePart` policy finds them: the pieces between separators and the letters of
    each, at least `shortest` long."""
    found = set()
    for piece in re.split(r"[\W_]+", username.lower()):
        found |= {p for p in (piece, *re.findall(r"[^\W\d_]+", piece)) if len(p) >= shortest}
    return found


def temporary_password(username: str, length: int = 16) -> str:
    """Random, with every character class and no part of `username`, so it passes the realm's
    policy (R-ACC-7): drawn again in the rare case a short part of the name turns up."""
    avoided = username_parts(username)
    alphabet = "".join(_CLASSES)
    while True:
        chars = [secrets.choice(c) for c in _CLASSES]
        chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        if not any(part in password.lower() for part in avoided):
            return password


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
    personal_id: str | None = None,
) -> str:
    """`personal_id` links a personal account to its holder's record: the token's
    `personal_id` claim, which the self tier's own-record scope matches."""
    family, _, given = full_name.rpartition(" ")
    payload: dict[str, object] = {
        "username": username,
        "enabled": True,
        "firstName": given,
        "lastName": family,
        "requiredActions": ["UPDATE_PASSWORD"],
        "credentials": [{"type": "password", "value": password, "temporary": True}],
    }
    if personal_id:
        payload["attributes"] = {PERSONAL_ID_ATTRIBUTE: [personal_id]}
    user_id: str = admin.create_user(payload)
    admin.assign_realm_roles(user_id, [admin.get_realm_role(role) for role in roles])
    admin.group_user_add(user_id, ensure_group_path(admin, group_path))
    return user_id


@dataclass(frozen=True)
class AccountScope:
    user_id: str
    unit_path: str | None
    tiers: list[str]
    email: str | None


def account_scope(admin: KeycloakAdmin, username: str) -> AccountScope | None:
    """Where an account sits (its unit group) and which tiers it holds; None if there is no such account."""
    user_id = admin.get_user_id(username)
    if user_id is None:
        return None
    groups = admin.get_user_groups(user_id)
    tiers = [r["name"] for r in admin.get_realm_roles_of_user(user_id) if r["name"] in TIER_NAMES]
    email = admin.get_user(user_id).get("email")
    return AccountScope(user_id, groups[0]["path"] if groups else None, tiers, email)


def reset_password(admin: KeycloakAdmin, user_id: str, password: str, *, sign_out: bool) -> None:
    """A new first-login password; after a theft, every open session ends too."""
    admin.set_user_password(user_id, password, temporary=True)
    if sign_out:
        admin.user_logout(user_id)


async def require_account(
    admin: Callable[[], KeycloakAdmin], actor: Principal, username: str, *, own: bool = False
) -> AccountScope:
    """The account as its admin (or, with `own`, its holder) may see it. A caller who administers
    no accounts is refused before the lookup, and an account outside the caller's scope answers
    exactly as an unknown one, so neither learns which usernames exist."""
    mine = own and rules.same_account(actor.username, username)
    if not mine and not rules.administers_accounts(actor):
        raise PermissionDenied("Chỉ quản trị viên tài khoản được thao tác trên tài khoản của người khác")
    found = await asyncio.to_thread(account_scope, admin(), username)
    missing = f"Không có tài khoản {username!r} trong phạm vi quản trị"
    if found is None:
        raise NotFound(missing)
    if not (mine or rules.in_admin_scope(actor, found.unit_path or "/")):
        raise RefusedAsNotFound(missing)
    return found
