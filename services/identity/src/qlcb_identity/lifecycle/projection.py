"""The account lifecycle driven by personnel's events (R-ACC-8): retirement, resignation and
death disable the holder's personal accounts and release the purpose accounts they held;
reinstatement enables the personal accounts again (purpose accounts are handed out anew)."""

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
from qlcb_identity.account_requests.models import AccountRequest, RequestStatus
from qlcb_identity.audit import service as audit
from qlcb_identity.purpose_accounts.models import HolderAssignment

LIFECYCLE_SUBJECTS = (*subjects.PERSONNEL_PERSON_LEFT, subjects.PERSONNEL_PERSON_REINSTATED)


def _set_enabled(admin: KeycloakAdmin, user_ids: list[str], enabled: bool) -> None:
    for user_id in user_ids:
        admin.update_user(user_id, {"enabled": enabled})


def projection(admin: Callable[[], KeycloakAdmin]) -> Handler:
    async def apply(session: AsyncSession, envelope: Envelope) -> None:
        change = unpack(envelope, events_pb2.PersonStatusChanged)
        personal_id = change.person.personal_id
        enabled = envelope.subject == subjects.PERSONNEL_PERSON_REINSTATED
        # The decision's author, as personnel recorded it, acts through the event.
        actor = Principal(
            subject=envelope.actor, username="personnel-event", roles=frozenset(), unit_path=None, token=""
        )
        accounts = list(
            await session.scalars(
                select(AccountRequest).where(
                    AccountRequest.holder_personal_id == personal_id, AccountRequest.status == RequestStatus.ISSUED
                )
            )
        )
        users = [a.keycloak_user_id for a in accounts if a.keycloak_user_id]
        await asyncio.to_thread(_set_enabled, admin(), users, enabled)
        for account in accounts:
            audit.record(
                session,
                actor=actor,
                action="account.enable" if enabled else "account.disable",
                target=account.username or account.id,
                after={"event": envelope.subject},
            )
        if enabled:
            return
        effective = date.fromisoformat(change.effective_date)
        held = await session.scalars(
            select(HolderAssignment).where(
                HolderAssignment.holder_personal_id == personal_id, HolderAssignment.valid_to.is_(None)
            )
        )
        for assignment in held:
            assignment.valid_to = max(effective, assignment.valid_from)
            audit.record(
                session,
                actor=actor,
                action="purpose_account.release",
                target=assignment.account_id,
                after={"holder": assignment.holder_name, "until": assignment.valid_to.isoformat()},
            )

    return apply
