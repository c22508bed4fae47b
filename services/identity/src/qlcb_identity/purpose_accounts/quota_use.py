"""How much of a unit's account quota is used (R-ACC-3), counted wherever an account of the kind is
made: a purpose account issued, a personal account issued from a request, a tier granted.

A unit's admin accounts are its purpose accounts of the admin kind and the open personal accounts
of its group that hold the local-admin tier: "one admin account per provincial unit" is one, however
it came. A unit's user quota counts its purpose accounts only, since personal accounts are one per
civil servant (004 Điều 20), not shared seats."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from keycloak import KeycloakAdmin
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.errors import FailedPrecondition
from qlcb_common.tiers import Tier
from qlcb_identity.purpose_accounts.models import PurposeAccount, UnitQuota
from qlcb_identity.unit_groups.projection import group_id

ADMIN_KIND, USER_KIND = "admin", "user"
BATCH = 500


def kind_of(tier: Tier) -> str:
    return ADMIN_KIND if tier is Tier.LOCAL_ADMIN else USER_KIND


def _open_admins(admin: KeycloakAdmin, unit_path: str) -> set[str]:
    """Ids of the open accounts directly in the unit's group that hold the local-admin tier."""
    group = group_id(admin, unit_path)
    if group is None:
        return set()
    members: list[dict[str, Any]] = []
    while True:
        batch = admin.get_group_members(group, {"first": len(members), "max": BATCH, "briefRepresentation": True})
        members += batch
        if len(batch) < BATCH:
            break
    holders = {str(user["id"]) for user in admin.get_realm_role_members(Tier.LOCAL_ADMIN.value)}
    return {str(user["id"]) for user in members if user.get("enabled") and str(user["id"]) in holders}


async def require_slot(
    session: AsyncSession,
    *,
    unit_path: str,
    kind: str,
    admin: Callable[[], KeycloakAdmin],
    purpose: bool,
) -> None:
    """Refuses one more account of `kind` in the unit when its quota is used up.

    The quota row is locked first, so two admins racing for the last slot are served one after the
    other: the second counts the first's account, made in Keycloak before the first commits. A unit
    without a quota of the kind takes no purpose account of it (purpose accounts exist only by quota)
    and any number of personal ones."""
    quota = await session.scalar(
        select(UnitQuota).where(UnitQuota.unit_path == unit_path, UnitQuota.kind == kind).with_for_update()
    )
    if quota is None:
        if purpose:
            raise FailedPrecondition(f"Đơn vị {unit_path} chưa có định mức tài khoản loại {kind}")
        return
    issued = await session.scalars(
        select(PurposeAccount.keycloak_user_id).where(
            PurposeAccount.unit_path == unit_path, PurposeAccount.kind == kind
        )
    )
    used = set(issued)
    if kind == ADMIN_KIND:
        used |= await asyncio.to_thread(_open_admins, admin(), unit_path)
    if len(used) >= quota.limit:
        raise FailedPrecondition(
            f"Đơn vị {unit_path} đã dùng hết định mức {quota.limit} tài khoản loại {kind} "
            f"({len(used)} tài khoản đang có)"
        )


async def used_counts(session: AsyncSession, unit_path: str, admin: Callable[[], KeycloakAdmin]) -> dict[str, int]:
    """Accounts of each kind the unit holds, counted as `require_slot` counts them."""
    counted = await session.execute(
        select(PurposeAccount.kind, PurposeAccount.keycloak_user_id).where(PurposeAccount.unit_path == unit_path)
    )
    held: dict[str, set[str]] = {}
    for kind, user_id in counted:
        held.setdefault(kind, set()).add(user_id)
    admins = await asyncio.to_thread(_open_admins, admin(), unit_path)
    held[ADMIN_KIND] = held.get(ADMIN_KIND, set()) | admins
    return {kind: len(ids) for kind, ids in held.items() if ids}
