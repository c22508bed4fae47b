"""A change of position adjusts the account (R-ACC-8): the unit-leader tier is for the head of a
unit, so when a holder who held a head post (an appointment of a post the catalog marks `head`)
holds none any more, the tier is taken from their personal accounts and their sessions end. They
stop holding one when a change ends the last running one (a term closed or corrected to an end
already passed, the post corrected to a deputy's, the appointment retracted), or when its term
runs out with no change at all, which a check every `positions_check_interval_seconds` finds.

The tier is taken away by the change itself only where its recorder could have administered the
account (as `lifecycle.reviews` judges a departure): a records clerk must not strip a unit head's
rights. Otherwise the account waits, with the tier to take away, for an account admin who may.

A holder with no running head appointment on record is left alone, so that entering the history
of earlier terms changes nothing: their tier was given on other grounds (an acting head, a record
not yet complete), which only an account admin knows. Being appointed grants nothing by itself
either: an account admin grants the tier."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date

import structlog
from keycloak import KeycloakAdmin
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.days import vietnam_today
from qlcb_common.db import Database
from qlcb_common.shutdown import Stopping
from qlcb_common.tiers import Tier
from qlcb_identity.account_requests.models import AccountRequest, RequestStatus
from qlcb_identity.audit import service as audit
from qlcb_identity.keycloak_accounts import account_scope
from qlcb_identity.lifecycle import reviews
from qlcb_identity.positions.models import Appointment

log = structlog.get_logger(__name__)

HEAD_TIER = Tier.UNIT_LEADER
RETRY_SECONDS = 30.0
REASON = "appointments.head_ended"
"""A review's reason: the holder's head appointments have all ended."""


def runs_on(valid_to: date | None, today: date) -> bool:
    return valid_to is None or valid_to >= today


async def holds_head(session: AsyncSession, personal_id: str, today: date) -> bool:
    """Whether a head appointment on the holder's record runs on `today` or starts later."""
    found = await session.scalars(
        select(Appointment.valid_to).where(
            Appointment.personal_id == personal_id, Appointment.head.is_(True), Appointment.retracted.is_(False)
        )
    )
    return any(runs_on(valid_to, today) for valid_to in found)


def _take_tier(admin: KeycloakAdmin, user_id: str) -> None:
    admin.delete_realm_roles_of_user(user_id, [admin.get_realm_role(HEAD_TIER.value)])
    admin.user_logout(user_id)


async def head_ended(
    session: AsyncSession, admin: Callable[[], KeycloakAdmin], *, personal_id: str, recorded_by: str, cause: str
) -> None:
    """The holder held a head post and holds none now: the tier is taken from their personal
    accounts, or they are listed for an account admin. `cause` names what made it known: the
    event's id, or the entry whose term the daily check found run out."""
    issued = await session.scalars(
        select(AccountRequest).where(
            AccountRequest.holder_personal_id == personal_id,
            AccountRequest.status == RequestStatus.ISSUED,
            AccountRequest.unlinked_at.is_(None),
        )
    )
    accounts = [a.username for a in issued if a.username]
    if not accounts:
        return
    keycloak = admin()
    recorder = await asyncio.to_thread(reviews.recorder, keycloak, recorded_by)
    actor = Principal(subject=recorded_by, username="personnel-event", roles=frozenset(), unit_path=None, token="")
    for username in accounts:
        await _adjust(session, keycloak, actor, recorder, username, cause)


async def _adjust(
    session: AsyncSession, keycloak: KeycloakAdmin, actor: Principal, recorder: Principal, username: str, cause: str
) -> None:
    scope = await asyncio.to_thread(account_scope, keycloak, username)
    if scope is None or HEAD_TIER.value not in scope.tiers:
        return
    after = sorted(set(scope.tiers) - {HEAD_TIER.value})
    if reviews.could_revoke(recorder, scope):
        await asyncio.to_thread(_take_tier, keycloak, scope.user_id)
        audit.record(
            session,
            actor=actor,
            action="account.revoke",
            target=username,
            unit_path=scope.unit_path,
            before={"tiers": sorted(scope.tiers)},
            after={"tiers": after, "reason": REASON, "cause": cause},
        )
        return
    if await reviews.revocation_open(session, username, HEAD_TIER):
        return
    review = reviews.open_review(
        session,
        username=username,
        account=scope,
        reason=REASON,
        event_id=cause,
        recorded_by=recorder.subject,
        revoke_tier=HEAD_TIER,
    )
    audit.record(
        session,
        actor=actor,
        action="account.review",
        target=username,
        unit_path=scope.unit_path,
        after={"reason": REASON, "review": review.id, "revoke_tier": HEAD_TIER.value, "cause": cause},
    )


async def _ended_unsettled(session: AsyncSession, today: date, limit: int) -> Sequence[Appointment]:
    """Head appointments whose end has passed and not been acted on, locked for this check (another
    replica's check passes them by)."""
    found = await session.scalars(
        select(Appointment)
        .where(
            Appointment.settled.is_(False),
            Appointment.head.is_(True),
            Appointment.retracted.is_(False),
            Appointment.valid_to < today,
        )
        .order_by(Appointment.valid_to)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(found)


async def check_ended(db: Database, admin: Callable[[], KeycloakAdmin], today: date, batch: int = 100) -> int:
    """Acts on the head appointments whose term ran out by `today` (no event tells of a day
    passing); returns how many it found."""
    found = 0
    while True:
        async with db.unit_of_work() as session:
            ended = await _ended_unsettled(session, today, batch)
            holders: dict[str, Appointment] = {}
            for appointment in ended:
                appointment.settled = True
                holders.setdefault(appointment.personal_id, appointment)
            for personal_id, appointment in holders.items():
                if not await holds_head(session, personal_id, today):
                    await head_ended(
                        session,
                        admin,
                        personal_id=personal_id,
                        recorded_by=appointment.recorded_by,
                        cause=appointment.entry_id,
                    )
        found += len(ended)
        if len(ended) < batch:
            return found


async def keep_checking(
    db: Database,
    admin: Callable[[], KeycloakAdmin],
    interval: float,
    stopping: Stopping,
    today: Callable[[], date] = vietnam_today,
) -> None:
    """Checks every `interval` seconds for as long as identity runs; a check that fails (the store
    not migrated yet at start, Keycloak away) is tried again within `RETRY_SECONDS`."""
    while not stopping.is_set():
        try:
            await check_ended(db, admin, today())
        except Exception as exc:
            log.warning("cannot check the appointments that ended", error=repr(exc))
            await stopping.sleep(min(interval, RETRY_SECONDS))
            continue
        await stopping.sleep(interval)
