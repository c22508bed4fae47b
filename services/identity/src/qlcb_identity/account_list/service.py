"""A unit's accounts as its account admin lists them (R-ACC-9, 001 Điều 7): who holds each, with
which tiers, whether it is open, and whether it is one of the unit's purpose accounts; with the units
below it, if asked.

Keycloak keeps the accounts: the members of the unit's group (and of the groups below it). It
searches no group's members by name, so the members are read (a unit's tree holds hundreds or a few
thousand, not the sector's tens of thousands; at most `MEMBERS_READ`), matched and ordered here, by
unit in tree order then as staff lists are, and only the page shown has its tiers read, a few lookups
at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from keycloak import KeycloakAdmin
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.errors import NotFound, PermissionDenied
from qlcb_common.names import fold, sort_key, words
from qlcb_common.tiers import TIER_NAMES
from qlcb_identity.account_requests import rules
from qlcb_identity.purpose_accounts.models import PurposeAccount
from qlcb_identity.unit_groups.projection import group_id

MEMBERS_READ = 5000
BATCH = 500
AT_ONCE = 8
"""Keycloak lookups at once."""


@dataclass(frozen=True)
class ListedAccount:
    username: str
    full_name: str
    unit_path: str
    enabled: bool
    tiers: list[str]
    purpose: bool
    administered: bool
    """The caller may open and change it: it may grant every tier the account holds."""


@dataclass(frozen=True)
class AccountPage:
    accounts: list[ListedAccount]
    total: int
    truncated: bool
    """The unit has more than `MEMBERS_READ` accounts: only the first were searched."""


def _full_name(user: dict[str, Any]) -> str:
    return " ".join(p for p in (user.get("lastName"), user.get("firstName")) if p)


def _groups(admin: KeycloakAdmin, group: str, path: str, subtree: bool) -> list[tuple[str, str]]:
    """The unit's group and, with `subtree`, every group below it: (id, path) each."""
    found = [(group, path)]

    def walk(children: list[dict[str, Any]]) -> None:
        for child in children:
            found.append((str(child["id"]), str(child["path"])))
            walk(child.get("subGroups") or [])

    if subtree:
        walk(admin.get_group_children(group, full_hierarchy=True))
    return found


def _members(admin: KeycloakAdmin, groups: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The members of the groups, each with its group's path as `unit_path`, the first MEMBERS_READ."""
    found: list[dict[str, Any]] = []
    for group, path in groups:
        read = 0
        while len(found) < MEMBERS_READ:
            batch = admin.get_group_members(group, {"first": read, "max": BATCH, "briefRepresentation": True})
            found += [member | {"unit_path": path} for member in batch]
            read += len(batch)
            if len(batch) < BATCH:
                break
    return found[:MEMBERS_READ]


def _matches(user: dict[str, Any], wanted: list[str]) -> bool:
    held = fold(f"{_full_name(user)} {user.get('username', '')}").split()
    return all(any(word.startswith(w) for word in held) for w in wanted)


async def unit_accounts(
    session: AsyncSession,
    *,
    actor: Principal,
    unit_path: str,
    q: str,
    offset: int,
    limit: int,
    admin: Callable[[], KeycloakAdmin],
    subtree: bool = False,
) -> AccountPage:
    """The accounts of the unit (with `subtree`, and of the units below it), by unit in tree order
    then in staff-list order, those whose name or username has a word starting with each word of `q`."""
    if not rules.administers_accounts(actor):
        raise PermissionDenied("Chỉ quản trị viên tài khoản được xem danh sách tài khoản")
    if not rules.in_admin_scope(actor, unit_path):
        raise PermissionDenied("Không quản trị tài khoản của đơn vị này")
    group = await asyncio.to_thread(lambda: group_id(admin(), unit_path))
    if group is None:
        raise NotFound(f"Không có đơn vị {unit_path!r} trong Keycloak")
    groups = await asyncio.to_thread(lambda: _groups(admin(), group, unit_path, subtree))
    members = await asyncio.to_thread(lambda: _members(admin(), groups))
    wanted = words(q)
    found = sorted(
        (m for m in members if _matches(m, wanted)),
        key=lambda m: (m["unit_path"].split("/"), sort_key(_full_name(m)), str(m.get("username", ""))),
    )
    page = found[offset : offset + limit]
    calls = asyncio.Semaphore(AT_ONCE)

    async def tiers_of(user: dict[str, Any]) -> list[str]:
        async with calls:
            roles = await asyncio.to_thread(lambda: admin().get_realm_roles_of_user(user["id"]))
        return sorted(r["name"] for r in roles if r["name"] in TIER_NAMES)

    tiers = await asyncio.gather(*(tiers_of(u) for u in page))
    usernames = [str(u["username"]) for u in page]
    purposes = set(await session.scalars(select(PurposeAccount.username).where(PurposeAccount.username.in_(usernames))))
    return AccountPage(
        accounts=[
            ListedAccount(
                username=str(user["username"]),
                full_name=_full_name(user),
                unit_path=user["unit_path"],
                enabled=bool(user.get("enabled")),
                tiers=held,
                purpose=user["username"] in purposes,
                administered=rules.may_issue(actor, user["unit_path"], held),
            )
            for user, held in zip(page, tiers, strict=True)
        ],
        total=len(found),
        truncated=len(members) >= MEMBERS_READ,
    )
