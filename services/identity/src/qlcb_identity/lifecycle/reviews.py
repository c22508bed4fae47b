"""Which accounts a departure disables by itself, and the rest: waiting for an account admin.

A status change is recorded by whoever writes the person's work history (a records clerk, say),
and it used to disable the holder's accounts whatever tiers they held: a clerk could lock out
its unit's admin or head, or the system admin, by recording a retirement on the record the
account was linked to. Now the event disables an account only where the recorder could have:
a system admin any account; anyone else (personnel has checked that the record is theirs to
write) an account holding nothing above what its unit's own admin may grant. Any other account
stays enabled and is listed for an account admin who may disable it (16.10)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.errors import PermissionDenied
from qlcb_common.tiers import TIER_NAMES, Tier
from qlcb_identity.account_requests import rules
from qlcb_identity.audit import service as audit
from qlcb_identity.keycloak_accounts import AccountScope, require_account
from qlcb_identity.lifecycle.models import AccountReview

UNIT_ADMINISTERED = rules.GRANTABLE_BY[Tier.LOCAL_ADMIN]


def recorder(admin: KeycloakAdmin, subject: str) -> Principal:
    """The account that recorded the change, with its tiers now; none if Keycloak has no such
    account (a service, or an account since removed)."""
    try:
        roles = frozenset(r["name"] for r in admin.get_realm_roles_of_user(subject) if r["name"] in TIER_NAMES)
        groups = admin.get_user_groups(subject)
    except KeycloakError:
        return Principal(subject=subject, username="", roles=frozenset(), unit_path=None, token="")
    return Principal(
        subject=subject, username="", roles=roles, unit_path=groups[0]["path"] if groups else None, token=""
    )


def could_disable(recorded_by: Principal, account: AccountScope) -> bool:
    if recorded_by.has_any_role((Tier.SYSTEM_ADMIN,)):
        return True
    return {Tier(t) for t in account.tiers} <= UNIT_ADMINISTERED


def could_revoke(recorded_by: Principal, account: AccountScope) -> bool:
    """Taking a tier away is judged as disabling is: only the account's whole set of tiers tells
    whether the recorder's unit could have administered it."""
    return could_disable(recorded_by, account)


def open_review(
    session: AsyncSession,
    *,
    username: str,
    account: AccountScope,
    reason: str,
    event_id: str,
    recorded_by: str,
    revoke_tier: Tier | None = None,
) -> AccountReview:
    review = AccountReview(
        id=str(uuid.uuid4()),
        username=username,
        unit_path=account.unit_path or "/",
        tiers=sorted(account.tiers),
        reason=reason,
        event_id=event_id,
        recorded_by=recorded_by,
        opened_at=datetime.now(UTC),
        revoke_tier=revoke_tier.value if revoke_tier else None,
    )
    session.add(review)
    return review


def _revocations(username: str, tier: Tier) -> Select[AccountReview]:
    return select(AccountReview).where(
        AccountReview.username == username.lower(),
        AccountReview.revoke_tier == tier.value,
        AccountReview.closed_at.is_(None),
    )


async def revocation_open(session: AsyncSession, username: str, tier: Tier) -> bool:
    return (await session.scalars(_revocations(username, tier))).first() is not None


async def close_revocations(session: AsyncSession, *, actor: Principal, username: str, tier: Tier) -> list[str]:
    """The tier was taken away by hand: the reviews asking for it close. Returns their ids."""
    found = list(await session.scalars(_revocations(username, tier)))
    now = datetime.now(UTC)
    for review in found:
        review.closed_by, review.closed_at = actor.username, now
    return [review.id for review in found]


async def open_reviews(session: AsyncSession, actor: Principal) -> Sequence[AccountReview]:
    """The open reviews the caller may act on, oldest first."""
    if not rules.administers_accounts(actor):
        raise PermissionDenied("Chỉ quản trị viên tài khoản xem danh sách tài khoản chờ khóa")
    found = await session.scalars(
        select(AccountReview).where(AccountReview.closed_at.is_(None)).order_by(AccountReview.opened_at)
    )
    return [review for review in found if rules.may_issue(actor, review.unit_path, review.tiers)]


async def disable(session: AsyncSession, *, actor: Principal, username: str, admin: Callable[[], KeycloakAdmin]) -> int:
    """An account admin disables an account it administers and ends its sessions; the open
    reviews of the account close. Returns how many closed."""
    if rules.same_account(actor.username, username):
        raise PermissionDenied("Không tự khóa tài khoản của chính mình")
    account = await require_account(admin, actor, username)
    rules.require_issuer(actor, account.unit_path or "/", account.tiers)

    def lock(keycloak: KeycloakAdmin) -> None:
        keycloak.update_user(account.user_id, {"enabled": False})
        keycloak.user_logout(account.user_id)

    await asyncio.to_thread(lock, admin())
    reviews = list(
        await session.scalars(
            select(AccountReview).where(AccountReview.username == username.lower(), AccountReview.closed_at.is_(None))
        )
    )
    now = datetime.now(UTC)
    for review in reviews:
        review.closed_by, review.closed_at = actor.username, now
    audit.record(
        session,
        actor=actor,
        action="account.disable",
        target=username,
        unit_path=account.unit_path,
        after={"enabled": False, "reviews_closed": [r.id for r in reviews]},
    )
    return len(reviews)
