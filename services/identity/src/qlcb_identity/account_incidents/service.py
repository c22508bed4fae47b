from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from keycloak import KeycloakAdmin
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.errors import FailedPrecondition, PermissionDenied
from qlcb_common.text import clean
from qlcb_identity import credentials
from qlcb_identity.account_incidents.models import AccountIncident
from qlcb_identity.account_requests import rules
from qlcb_identity.audit import service as audit
from qlcb_identity.keycloak_accounts import require_account, reset_password, temporary_password


class IncidentKind(StrEnum):
    LOST = "lost"  # Mất mật khẩu
    STOLEN = "stolen"  # Nghi bị lộ, bị đánh cắp


async def report(
    session: AsyncSession,
    *,
    actor: Principal,
    username: str,
    kind: IncidentKind,
    note: str,
    admin: Callable[[], KeycloakAdmin],
) -> AccountIncident:
    """The holder reports their own account; an admin may report any account it administers."""
    scope = await require_account(admin, actor, username, own=True)
    if not rules.same_account(actor.username, username):
        rules.require_issuer(actor, scope.unit_path or "/", scope.tiers)
    incident = AccountIncident(
        id=str(uuid.uuid4()),
        username=username,
        kind=kind.value,
        note=clean(note),
        reported_by=actor.username,
        reported_at=datetime.now(UTC),
    )
    session.add(incident)
    audit.record(
        session,
        actor=actor,
        action="account.incident",
        target=username,
        unit_path=scope.unit_path,
        after={"kind": kind.value},
    )
    return incident


async def reset(
    session: AsyncSession,
    *,
    actor: Principal,
    username: str,
    admin: Callable[[], KeycloakAdmin],
    courier: credentials.Courier,
) -> tuple[AccountIncident, str]:
    """Resets the account of an open incident with a new first-login password, mailed to the
    account's holder; returns where it went (masked)."""
    if rules.same_account(actor.username, username):
        raise PermissionDenied("Không tự cấp lại mật khẩu cho chính mình")
    scope = await require_account(admin, actor, username)
    rules.require_issuer(actor, scope.unit_path or "/", scope.tiers)
    incident = await session.scalar(
        select(AccountIncident)
        .where(AccountIncident.username == username, AccountIncident.reset_at.is_(None))
        .order_by(AccountIncident.reported_at.desc())
        .with_for_update()
    )
    if incident is None:
        raise FailedPrecondition("Cần có báo cáo mất hoặc lộ mật khẩu trước khi cấp lại")
    recipient = await credentials.holder_address(session, username=username, keycloak_email=scope.email)
    password = temporary_password(username)
    stolen = incident.kind == IncidentKind.STOLEN
    await asyncio.to_thread(reset_password, admin(), scope.user_id, password, sign_out=stolen)
    incident.reset_by = actor.username
    incident.reset_at = datetime.now(UTC)
    delivered_to = await credentials.deliver(
        session, courier=courier, username=username, password=password, recipient=recipient
    )
    audit.record(
        session,
        actor=actor,
        action="account.reset",
        target=username,
        unit_path=scope.unit_path,
        after={"incident": incident.id, "sign_out": stolen},
    )
    return incident, delivered_to
