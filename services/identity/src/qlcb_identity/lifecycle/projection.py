"""The account lifecycle driven by personnel's events (R-ACC-8): retirement, resignation and
death disable the holder's personal accounts where the recorder could have (the others wait for
an account admin: `lifecycle.reviews`) and release the purpose accounts they held (whose
passwords are then replaced by ones nobody knows and whose sessions end);
reinstatement is recorded but enables nothing (an account admin does; purpose accounts are
handed out anew); a
transfer (accepted, or made by a merger or a split) moves the personal accounts to the new
unit's group, takes away the unit-relative tiers and the record sections the old unit granted
them (the new unit's admin grants afresh) and releases the purpose accounts of the old unit
they held."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

from keycloak import KeycloakAdmin
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2
from qlcb_common.auth import Principal
from qlcb_common.events import subjects
from qlcb_common.events.consumer import Handler
from qlcb_common.events.envelope import unpack
from qlcb_common.events.outbox import Outbox
from qlcb_common.tiers import Tier, in_subtree
from qlcb_identity.account_requests.models import AccountRequest, RequestStatus
from qlcb_identity.account_sections import service as account_sections
from qlcb_identity.audit import service as audit
from qlcb_identity.holders import projection as holders
from qlcb_identity.holders.projection import HOLDER_SUBJECTS
from qlcb_identity.keycloak_accounts import account_scope
from qlcb_identity.lifecycle import reviews
from qlcb_identity.purpose_accounts import holdings
from qlcb_identity.purpose_accounts import service as purpose_accounts
from qlcb_identity.purpose_accounts.models import HolderAssignment, PurposeAccount
from qlcb_identity.unit_groups.projection import ensure_group_path

LIFECYCLE_SUBJECTS = HOLDER_SUBJECTS


UNIT_RELATIVE_TIERS = frozenset(
    {Tier.HQ_DEPARTMENT, Tier.HQ_UNIT, Tier.LOCAL_ADMIN, Tier.LOCAL_OFFICER, Tier.UNIT_LEADER}
)
"""Tiers that are a position in one unit: held there, never carried to another (16.3: a local
admin transferred up a level must not become admin of its new unit's whole subtree)."""


def _drop_unit_tiers(admin: KeycloakAdmin, user_id: str) -> list[str]:
    held = [r for r in admin.get_realm_roles_of_user(user_id) if r["name"] in UNIT_RELATIVE_TIERS]
    if held:
        admin.delete_realm_roles_of_user(user_id, held)
        admin.user_logout(user_id)
    return sorted(r["name"] for r in held)


def _move_to_group(admin: KeycloakAdmin, user_ids: list[str], path: str) -> None:
    """A personal account belongs to one unit: its holder's."""
    target = ensure_group_path(admin, path)
    for user_id in user_ids:
        for group in admin.get_user_groups(user_id):
            if group["id"] != target:
                admin.group_user_remove(user_id, group["id"])
        admin.group_user_add(user_id, target)


async def _personal_accounts(session: AsyncSession, personal_id: str) -> list[AccountRequest]:
    query = select(AccountRequest).where(
        AccountRequest.holder_personal_id == personal_id, AccountRequest.status == RequestStatus.ISSUED
    )
    return list((await session.scalars(query)).all())


def _live_id(account: AccountRequest) -> str | None:
    """The Keycloak id of an issued account still in the live realm (a realm restore may have left it
    out, ADR 0029)."""
    return account.keycloak_user_id if account.unlinked_at is None else None


async def _transferred(
    session: AsyncSession, admin: KeycloakAdmin, outbox: Outbox, actor: Principal, envelope: Envelope
) -> None:
    moved = unpack(envelope, events_pb2.PersonTransferred)
    old, new = moved.from_unit.path, moved.to_unit.path
    accounts = await _personal_accounts(session, moved.person.personal_id)
    await asyncio.to_thread(_move_to_group, admin, [i for a in accounts if (i := _live_id(a))], new)
    for account in accounts:
        audit.record(
            session,
            actor=actor,
            action="account.move",
            target=account.username or account.id,
            unit_path=new,
            before={"unit": old},
            after={"unit": new, "event": envelope.subject},
        )
        user_id = _live_id(account)
        if not user_id:
            continue
        # Tiers and sections were the old unit's to give; the new unit's admin grants afresh.
        for kind, take_away in (("tiers", _drop_unit_tiers), ("sections", account_sections.clear)):
            if taken := await asyncio.to_thread(take_away, admin, user_id):
                audit.record(
                    session,
                    actor=actor,
                    action=f"account.{kind}",
                    target=account.username or account.id,
                    unit_path=new,
                    before={kind: taken},
                    after={kind: [], "event": envelope.subject},
                )
    effective = date.fromisoformat(moved.effective_date)
    for assignment, held in await _held(session, moved.person.personal_id):
        if in_subtree(held.unit_path, old) and not in_subtree(held.unit_path, new):
            await _release(session, admin, outbox, actor, assignment, held, effective)


async def _disable_or_review(
    session: AsyncSession, admin: KeycloakAdmin, actor: Principal, envelope: Envelope, accounts: list[AccountRequest]
) -> None:
    """Disables the accounts the recorder could have disabled; lists the others for an account admin."""
    recorded_by = await asyncio.to_thread(reviews.recorder, admin, envelope.actor)
    for account in accounts:
        if not account.username:
            continue
        scope = await asyncio.to_thread(account_scope, admin, account.username)
        if scope is None:
            continue
        if reviews.could_disable(recorded_by, scope):
            await asyncio.to_thread(admin.update_user, scope.user_id, {"enabled": False})
            audit.record(
                session,
                actor=actor,
                action="account.disable",
                target=account.username,
                unit_path=scope.unit_path,
                after={"event": envelope.subject},
            )
            continue
        review = reviews.open_review(
            session,
            username=account.username,
            account=scope,
            reason=envelope.subject,
            event_id=envelope.event_id,
            recorded_by=envelope.actor,
        )
        audit.record(
            session,
            actor=actor,
            action="account.review",
            target=account.username,
            unit_path=scope.unit_path,
            after={"event": envelope.subject, "review": review.id, "tiers": review.tiers},
        )


async def _held(session: AsyncSession, personal_id: str) -> list[tuple[HolderAssignment, PurposeAccount]]:
    held = await session.execute(
        select(HolderAssignment, PurposeAccount)
        .join(PurposeAccount, PurposeAccount.id == HolderAssignment.account_id)
        .where(HolderAssignment.holder_personal_id == personal_id, HolderAssignment.valid_to.is_(None))
    )
    return [(assignment, account) for assignment, account in held]


async def _release(
    session: AsyncSession,
    admin: KeycloakAdmin,
    outbox: Outbox,
    actor: Principal,
    assignment: HolderAssignment,
    account: PurposeAccount,
    effective: date,
) -> None:
    """The holder leaves: the account is locked out until the unit hands it to someone else."""
    assignment.valid_to = max(effective, assignment.valid_from)
    await holdings.publish(session, outbox, actor, account, assignment)
    await purpose_accounts.lock_out(session, admin, account)
    audit.record(
        session,
        actor=actor,
        action="purpose_account.release",
        target=assignment.account_id,
        unit_path=account.unit_path,
        after={"holder": assignment.holder_name, "until": assignment.valid_to.isoformat()},
    )


def projection(admin: Callable[[], KeycloakAdmin], outbox: Outbox) -> Handler:
    async def apply(session: AsyncSession, envelope: Envelope) -> None:
        # The decision's author, as personnel recorded it, acts through the event.
        actor = Principal(
            subject=envelope.actor, username="personnel-event", roles=frozenset(), unit_path=None, token=""
        )
        await holders.apply(session, envelope)
        if envelope.subject == subjects.PERSONNEL_PERSON_CREATED:
            return
        if envelope.subject == subjects.PERSONNEL_PERSON_TRANSFERRED:
            await _transferred(session, admin(), outbox, actor, envelope)
            return
        change = unpack(envelope, events_pb2.PersonStatusChanged)
        personal_id = change.person.personal_id
        accounts = await _personal_accounts(session, personal_id)
        if envelope.subject == subjects.PERSONNEL_PERSON_REINSTATED:
            # Only disabling is automatic: an account admin enables the account again
            # (POST /v1/accounts/{username}/enable), so a status recorded by a clerk never
            # hands a login back.
            for account in accounts:
                audit.record(
                    session,
                    actor=actor,
                    action="account.reinstatement",
                    target=account.username or account.id,
                    unit_path=account.unit_path,
                    after={"event": envelope.subject, "enabled": False},
                )
            return
        await _disable_or_review(session, admin(), actor, envelope, accounts)
        effective = date.fromisoformat(change.effective_date)
        for assignment, held in await _held(session, personal_id):
            await _release(session, admin(), outbox, actor, assignment, held, effective)

    return apply
