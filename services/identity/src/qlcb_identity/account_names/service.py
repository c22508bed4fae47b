"""Whose account a subject is: the services record who wrote an entry, gave a quota or made a
decision by the account's Keycloak subject (it outlives a rename of the username), and the pages
show the people reading them a username and a name instead. Only the username and the holder's
name are told, and only to an account with a tier; a subject Keycloak does not know is left out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakGetError

from qlcb_common.auth import Principal
from qlcb_common.errors import PermissionDenied
from qlcb_common.tiers import TIER_NAMES

AT_ONCE = 8
"""Keycloak lookups at once."""


@dataclass(frozen=True)
class AccountName:
    subject: str
    username: str
    full_name: str


def require_tier(actor: Principal) -> None:
    if not any(role in TIER_NAMES for role in actor.roles):
        raise PermissionDenied("Tài khoản chưa được giao cấp nào")


async def names(actor: Principal, subjects: Sequence[str], admin: Callable[[], KeycloakAdmin]) -> list[AccountName]:
    """The accounts of those subjects Keycloak knows, in the order asked, each once."""
    require_tier(actor)
    calls = asyncio.Semaphore(AT_ONCE)

    def lookup(subject: str) -> dict[str, Any] | None:
        try:
            user: dict[str, Any] = admin().get_user(subject)
        except KeycloakGetError as missing:
            if missing.response_code == 404:
                return None
            raise
        return user

    async def one(subject: str) -> AccountName | None:
        async with calls:
            user = await asyncio.to_thread(lookup, subject)
        if user is None:
            return None
        full_name = " ".join(p for p in (user.get("lastName"), user.get("firstName")) if p)
        return AccountName(subject, str(user["username"]), full_name)

    found = await asyncio.gather(*(one(s) for s in dict.fromkeys(subjects)))
    return [name for name in found if name is not None]
