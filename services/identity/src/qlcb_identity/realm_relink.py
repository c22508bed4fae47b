"""Identity's links to Keycloak accounts made again by username after a realm switch (ADR 0029).

A restored realm gives every account a new internal id (ADR 0025). When backup switches one in,
it publishes `qlcb.backup.restore.switched` with a part `keycloak`; identity then looks up, in the
live realm, the account of every username it links (purpose accounts, issued account requests),
and stores its id, in the one transaction that records the event in the inbox: a redelivery
changes nothing, and a second pass would find the same ids. A username the live realm does not
hold (an account made after the backup) is marked `unlinked_at`, audited, logged and counted;
nothing acts on its former id again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from keycloak import KeycloakAdmin
from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.backup.v1 import events_pb2
from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb_common.auth import Principal
from qlcb_common.errors import FailedPrecondition
from qlcb_common.events import subjects
from qlcb_common.events.consumer import Handler
from qlcb_common.events.envelope import unpack
from qlcb_identity.account_requests.models import AccountRequest
from qlcb_identity.audit import service as audit
from qlcb_identity.purpose_accounts.models import PurposeAccount

log = structlog.get_logger(__name__)

RELINK_SUBJECTS = (subjects.BACKUP_RESTORE_SWITCHED,)
REALM_STORE = "keycloak"
"""The backup store that is the realm (backup's `stores/keycloak.py`)."""
EVENT_ACTOR = "backup-event"

UNLINKED = Gauge(
    "qlcb_identity_accounts_unlinked",
    "Accounts identity links (purpose accounts, issued account requests) whose username the live realm "
    "did not hold when a realm restore was switched in",
)

Linked = PurposeAccount | AccountRequest


@dataclass
class Relinked:
    relinked: int = 0
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)


def unlinked_refusal(username: str, since: datetime) -> FailedPrecondition:
    return FailedPrecondition(
        f"Tài khoản {username} không còn trong realm Keycloak đang chạy: realm được phục hồi từ bản sao lưu "
        f"lúc {since:%Y-%m-%d %H:%M} UTC không có tài khoản này. Hãy cấp tài khoản mới"
    )


def _live_ids(admin: KeycloakAdmin, usernames: Iterable[str]) -> dict[str, str | None]:
    return {username: admin.get_user_id(username) for username in usernames}


async def _linked(session: AsyncSession) -> Sequence[Linked]:
    accounts = (await session.scalars(select(PurposeAccount).order_by(PurposeAccount.username))).all()
    issued = (
        await session.scalars(
            select(AccountRequest).where(AccountRequest.username.is_not(None)).order_by(AccountRequest.username)
        )
    ).all()
    return [*accounts, *issued]


async def relink(session: AsyncSession, admin: KeycloakAdmin, *, restore_id: str, actor: Principal) -> Relinked:
    rows = await _linked(session)
    live = await asyncio.to_thread(_live_ids, admin, sorted({row.username for row in rows if row.username}))
    now = datetime.now(UTC)
    result = Relinked()
    for row in rows:
        assert row.username is not None
        found = live[row.username]
        if found is None:
            if row.unlinked_at is None:
                row.unlinked_at = now
                result.missing.append(row.username)
                audit.record(
                    session,
                    actor=actor,
                    action="account.unlinked",
                    target=row.username,
                    before={"keycloak_user_id": row.keycloak_user_id},
                    after={"restore": restore_id, "in_live_realm": False},
                )
            continue
        if found == row.keycloak_user_id and row.unlinked_at is None:
            result.unchanged += 1
            continue
        row.keycloak_user_id, row.unlinked_at = found, None
        result.relinked += 1
    audit.record(
        session,
        actor=actor,
        action="realm.relink",
        target=restore_id,
        after={"relinked": result.relinked, "unchanged": result.unchanged, "unlinked": result.missing},
    )
    UNLINKED.set(await count_unlinked(session))
    log.warning(
        "accounts relinked to the switched realm by username",
        restore_id=restore_id,
        relinked=result.relinked,
        unchanged=result.unchanged,
        unlinked=len(result.missing),
    )
    for username in result.missing:
        log.error("account absent from the switched realm; marked unlinked", restore_id=restore_id, username=username)
    return result


async def count_unlinked(session: AsyncSession) -> int:
    total = 0
    for model in (PurposeAccount, AccountRequest):
        query = select(func.count()).select_from(model).where(model.unlinked_at.is_not(None))
        total += await session.scalar(query) or 0
    return total


def projection(admin: Callable[[], KeycloakAdmin]) -> Handler:
    """Relinks when a switched restore holds the realm; any other switch concerns no account."""

    async def apply(session: AsyncSession, envelope: Envelope) -> None:
        restore = unpack(envelope, events_pb2.RestoreSwitched).restore
        if not any(part.store == REALM_STORE for part in restore.parts):
            return
        actor = Principal(subject=envelope.actor, username=EVENT_ACTOR, roles=frozenset(), unit_path=None, token="")
        await relink(session, admin(), restore_id=restore.id, actor=actor)

    return apply
