"""The record sections a local officer works on, "as granted" by its admin (domain tier table).

The grant is the account's `qlcb_sections` attribute in Keycloak, which the realm's `sections`
mapper puts into access tokens; every service reads it from there (`qlcb_common.authz`), so a
change holds from the holder's next token. Keycloak's user profile allows only record sections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from keycloak import KeycloakAdmin
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Section, require
from qlcb_common.errors import FailedPrecondition, PermissionDenied
from qlcb_common.tiers import Tier
from qlcb_identity.account_requests import rules
from qlcb_identity.audit import service as audit
from qlcb_identity.keycloak_accounts import AccountScope, require_account

SECTIONS_ATTRIBUTE = "qlcb_sections"


def _read(admin: KeycloakAdmin, user_id: str) -> list[str]:
    attributes = admin.get_user(user_id).get("attributes") or {}
    return sorted(attributes.get(SECTIONS_ATTRIBUTE, []))


def _write(admin: KeycloakAdmin, user_id: str, sections: list[str]) -> None:
    # The user's other attributes go back with it: Keycloak replaces the attribute map it is sent.
    user = admin.get_user(user_id)
    attributes = {**(user.get("attributes") or {}), SECTIONS_ATTRIBUTE: sections}
    admin.update_user(user_id, {**user, "attributes": attributes})


def clear(admin: KeycloakAdmin, user_id: str) -> list[str]:
    """Takes every section away (the account left its officer role or its unit, whose admin
    granted them); returns what it held."""
    held = _read(admin, user_id)
    if held:
        _write(admin, user_id, [])
    return held


def _require_admin_of(actor: Principal, username: str, account: AccountScope) -> None:
    if rules.same_account(actor.username, username):
        raise PermissionDenied("Không tự giao phần hồ sơ cho chính mình")
    rules.require_issuer(actor, account.unit_path or "/", account.tiers)


async def granted(actor: Principal, *, username: str, admin: Callable[[], KeycloakAdmin]) -> list[str]:
    account = await require_account(admin, actor, username, own=True)
    if not rules.same_account(actor.username, username):
        rules.require_issuer(actor, account.unit_path or "/", account.tiers)
    return await asyncio.to_thread(_read, admin(), account.user_id)


async def replace(
    session: AsyncSession,
    *,
    actor: Principal,
    username: str,
    sections: Iterable[Section],
    admin: Callable[[], KeycloakAdmin],
) -> list[str]:
    """Sets the account's sections to `sections`; returns them, sorted."""
    account = await require_account(admin, actor, username)
    _require_admin_of(actor, username, account)
    if Tier.LOCAL_OFFICER.value not in account.tiers:
        raise FailedPrecondition(
            f"Tài khoản {username} không có cấp local-officer: chỉ cán bộ nghiệp vụ được giao phần hồ sơ"
        )
    after = sorted({s.value for s in sections})
    before = await asyncio.to_thread(_read, admin(), account.user_id)
    # What it grants or takes away, the admin must be able to write itself, at that unit.
    for changed in sorted(set(before) ^ set(after)):
        require(actor, Section(changed), Action.UPDATE, account.unit_path or "/")
    await asyncio.to_thread(_write, admin(), account.user_id, after)
    audit.record(
        session,
        actor=actor,
        action="account.sections",
        target=username,
        unit_path=account.unit_path,
        before={"sections": before},
        after={"sections": after},
    )
    return after
