"""Delegated administration (R-TIER-3): an admin grants and revokes tiers only for accounts
inside its own subtree, and only tiers it may grant."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from keycloak import KeycloakAdmin
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.errors import PermissionDenied
from qlcb_common.tiers import Tier
from qlcb_identity.account_requests import rules
from qlcb_identity.account_sections import service as account_sections
from qlcb_identity.audit import service as audit
from qlcb_identity.keycloak_accounts import require_account
from qlcb_identity.lifecycle import reviews
from qlcb_identity.purpose_accounts import quota_use


def _set_role(admin: KeycloakAdmin, user_id: str, tier: Tier, *, granted: bool) -> None:
    role = admin.get_realm_role(tier.value)
    if granted:
        admin.assign_realm_roles(user_id, [role])
    else:
        admin.delete_realm_roles_of_user(user_id, [role])


async def change(
    session: AsyncSession,
    *,
    actor: Principal,
    username: str,
    tier: Tier,
    granted: bool,
    admin: Callable[[], KeycloakAdmin],
) -> list[str]:
    """Grants or revokes `tier`; returns the account's tiers afterwards."""
    if rules.same_account(actor.username, username):
        raise PermissionDenied("Không tự thay đổi quyền của chính mình")
    scope = await require_account(admin, actor, username)
    # The admin must be able to grant both what the account holds and what is being changed.
    rules.require_issuer(actor, scope.unit_path or "/", [*scope.tiers, tier.value])
    if granted and tier is Tier.LOCAL_ADMIN and tier.value not in scope.tiers and scope.unit_path:
        await quota_use.require_slot(
            session, unit_path=scope.unit_path, kind=quota_use.ADMIN_KIND, admin=admin, purpose=False
        )
    await asyncio.to_thread(_set_role, admin(), scope.user_id, tier, granted=granted)
    after = sorted({*scope.tiers, tier.value} if granted else set(scope.tiers) - {tier.value})
    before_state: dict[str, list[str]] = {"tiers": sorted(scope.tiers)}
    after_state: dict[str, list[str]] = {"tiers": after}
    if not granted and tier is Tier.LOCAL_OFFICER:
        # Sections were granted to the officer role: a later re-grant starts from none.
        before_state["sections"] = await asyncio.to_thread(account_sections.clear, admin(), scope.user_id)
        after_state["sections"] = []
    if not granted and (closed := await reviews.close_revocations(session, actor=actor, username=username, tier=tier)):
        after_state["reviews_closed"] = closed
    audit.record(
        session,
        actor=actor,
        action="account.grant" if granted else "account.revoke",
        target=username,
        unit_path=scope.unit_path,
        before=before_state,
        after=after_state,
    )
    return after


async def enable(session: AsyncSession, *, actor: Principal, username: str, admin: Callable[[], KeycloakAdmin]) -> None:
    """Enables an account a personnel event disabled: an account admin's act, never an event's
    (a reinstatement recorded by a records clerk must not hand a login back)."""
    if rules.same_account(actor.username, username):
        raise PermissionDenied("Không tự mở lại tài khoản của chính mình")
    scope = await require_account(admin, actor, username)
    rules.require_issuer(actor, scope.unit_path or "/", scope.tiers)
    await asyncio.to_thread(admin().update_user, scope.user_id, {"enabled": True})
    audit.record(
        session,
        actor=actor,
        action="account.enable",
        target=username,
        unit_path=scope.unit_path,
        after={"enabled": True},
    )
