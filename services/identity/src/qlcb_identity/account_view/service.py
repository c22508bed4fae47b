"""One account as its admin, or its own holder, sees it: who holds it, where, with which tiers and
record sections, whether it is open, and its reported incidents (R-ACC-9), newest first."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from keycloak import KeycloakAdmin
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_identity.account_incidents.models import AccountIncident
from qlcb_identity.account_requests import rules
from qlcb_identity.account_sections.service import SECTIONS_ATTRIBUTE
from qlcb_identity.keycloak_accounts import require_account

INCIDENTS_SHOWN = 20


@dataclass(frozen=True)
class AccountView:
    username: str
    full_name: str
    unit_path: str | None
    tiers: list[str]
    enabled: bool
    sections: list[str]
    incidents: list[AccountIncident]
    own: bool


async def view(
    session: AsyncSession, *, actor: Principal, username: str, admin: Callable[[], KeycloakAdmin]
) -> AccountView:
    """Read by the holder, or by an admin who may issue the account's tiers at its unit (the rule
    its changes apply); outside an admin's scope the account answers as an unknown one."""
    account = await require_account(admin, actor, username, own=True)
    own = rules.same_account(actor.username, username)
    if not own:
        rules.require_issuer(actor, account.unit_path or "/", account.tiers)
    user: dict[str, Any] = await asyncio.to_thread(lambda: admin().get_user(account.user_id))
    incidents = await session.scalars(
        select(AccountIncident)
        .where(AccountIncident.username == username)
        .order_by(AccountIncident.reported_at.desc())
        .limit(INCIDENTS_SHOWN)
    )
    return AccountView(
        username=username,
        full_name=" ".join(p for p in (user.get("lastName"), user.get("firstName")) if p),
        unit_path=account.unit_path,
        tiers=sorted(account.tiers),
        enabled=bool(user.get("enabled")),
        sections=sorted((user.get("attributes") or {}).get(SECTIONS_ATTRIBUTE, [])),
        incidents=list(incidents),
        own=own,
    )
