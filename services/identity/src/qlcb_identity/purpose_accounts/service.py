from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Section, require, sql_scope
from qlcb_common.authz.policy import PERSONAL_ID_CLAIM
from qlcb_common.days import VIETNAM
from qlcb_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from qlcb_common.events.outbox import Outbox
from qlcb_common.text import clean
from qlcb_common.tiers import Tier, in_subtree
from qlcb_identity import credentials
from qlcb_identity.account_requests import rules
from qlcb_identity.account_requests.models import CredentialDelivery
from qlcb_identity.audit import service as audit
from qlcb_identity.holders import service as holder_records
from qlcb_identity.keycloak_accounts import ascii_slug, create_account, reset_password, temporary_password
from qlcb_identity.purpose_accounts import holdings, quota_use
from qlcb_identity.purpose_accounts.models import HolderAssignment, PurposeAccount, UnitQuota
from qlcb_identity.realm_relink import unlinked_refusal


async def set_quota(session: AsyncSession, *, actor: Principal, unit_path: str, kind: str, limit: int) -> UnitQuota:
    if not actor.has_any_role((Tier.SYSTEM_ADMIN,)):
        raise PermissionDenied("Chỉ quản trị hệ thống đặt định mức tài khoản")
    quota = await session.get(UnitQuota, (unit_path, kind))
    before = {"limit": quota.limit} if quota else None
    if quota is None:
        quota = UnitQuota(unit_path=unit_path, kind=kind, limit=limit, set_by=actor.username, set_at=datetime.now(UTC))
        session.add(quota)
    else:
        quota.limit, quota.set_by, quota.set_at = limit, actor.username, datetime.now(UTC)
    audit.record(
        session,
        actor=actor,
        action="quota.set",
        target=f"{unit_path}#{kind}",
        unit_path=unit_path,
        before=before,
        after={"limit": limit},
    )
    return quota


@dataclass(frozen=True)
class QuotaUse:
    quota: UnitQuota
    used: int


async def quotas_of(
    session: AsyncSession, *, actor: Principal, unit_path: str, admin: Callable[[], KeycloakAdmin]
) -> list[QuotaUse]:
    """The unit's quotas, each kind with how many of its accounts count against it: read where the
    unit's purpose accounts are."""
    require(actor, Section.UNIT, Action.READ, unit_path)
    quotas = (await session.scalars(select(UnitQuota).where(UnitQuota.unit_path == unit_path))).all()
    used = await quota_use.used_counts(session, unit_path, admin)
    return [QuotaUse(q, used.get(q.kind, 0)) for q in sorted(quotas, key=lambda q: q.kind)]


async def issue(
    session: AsyncSession,
    *,
    actor: Principal,
    unit_path: str,
    purpose: str,
    tier: Tier,
    admin: Callable[[], KeycloakAdmin],
) -> PurposeAccount:
    """Issues within the unit's quota (`quota_use.require_slot`).

    Its password is random and reaches nobody: the first holder assigned gets a credential."""
    rules.require_issuer(actor, unit_path, [tier.value])
    purpose = clean(purpose)
    kind = quota_use.kind_of(tier)
    await quota_use.require_slot(session, unit_path=unit_path, kind=kind, admin=admin, purpose=True)
    username = f"{ascii_slug(unit_path.rsplit('/', 1)[-1])}.{ascii_slug(purpose)}"
    if await session.scalar(select(PurposeAccount.id).where(PurposeAccount.username == username)):
        raise AlreadyExists(f"purpose: đơn vị đã có tài khoản {purpose}")
    password = temporary_password(username)
    user_id = await asyncio.to_thread(
        create_account,
        admin(),
        username=username,
        full_name=purpose,
        roles=[tier.value],
        group_path=unit_path,
        password=password,
    )
    account = PurposeAccount(
        id=str(uuid.uuid4()),
        unit_path=unit_path,
        purpose=purpose,
        kind=kind,
        tier=tier.value,
        username=username,
        keycloak_user_id=user_id,
        issued_by=actor.username,
        issued_at=datetime.now(UTC),
    )
    session.add(account)
    audit.record(
        session,
        actor=actor,
        action="purpose_account.issue",
        target=username,
        unit_path=unit_path,
        after={"unit_path": unit_path, "tier": tier.value},
    )
    return account


async def _account(session: AsyncSession, account_id: str) -> PurposeAccount:
    account = await session.get(PurposeAccount, account_id)
    if account is None:
        raise NotFound(f"Không có tài khoản dùng chung {account_id!r}")
    return account


async def assign_holder(
    session: AsyncSession,
    *,
    actor: Principal,
    account_id: str,
    holder_name: str,
    holder_personal_id: str | None = None,
    holder_email: str,
    since: date,
    admin: Callable[[], KeycloakAdmin],
    courier: credentials.Courier,
    outbox: Outbox,
) -> tuple[HolderAssignment, str]:
    """The unit head (or an admin of the unit) hands the account to a civil servant from `since`.

    The account changes hands with its password: the previous holder's sessions end and the new
    holder is mailed a first-login credential (returns where it went, masked)."""
    account = await _account(session, account_id)
    _require_head_or_issuer(actor, account)
    _require_not_oneself(actor, holder_personal_id, holder_email)
    if account.unlinked_at is not None:
        raise unlinked_refusal(account.username, account.unlinked_at)
    if holder_personal_id:
        await holder_records.require_record(
            session, personal_id=holder_personal_id, full_name=holder_name, unit_path=account.unit_path
        )
    current = await _close_current(session, account, since, "since")
    assignment = HolderAssignment(
        id=str(uuid.uuid4()),
        account_id=account.id,
        holder_name=clean(holder_name),
        holder_personal_id=holder_personal_id,
        holder_email=holder_email,
        valid_from=since,
        valid_to=None,
        recorded_by=actor.username,
        recorded_at=datetime.now(UTC),
    )
    session.add(assignment)
    if current is not None:
        await holdings.publish(session, outbox, actor, account, current)
    await holdings.publish(session, outbox, actor, account, assignment)
    password = temporary_password(account.username)
    delivered_to = await credentials.deliver(
        session, courier=courier, username=account.username, password=password, recipient=holder_email
    )
    await _reset(admin(), account, password)
    audit.record(
        session,
        actor=actor,
        action="purpose_account.assign",
        target=account.username,
        unit_path=account.unit_path,
        before={"holder": current.holder_name} if current else None,
        after={"holder": assignment.holder_name, "since": since.isoformat(), "delivered_to": delivered_to},
    )
    return assignment, delivered_to


async def release(
    session: AsyncSession,
    *,
    actor: Principal,
    account_id: str,
    until: date,
    admin: Callable[[], KeycloakAdmin],
    outbox: Outbox,
) -> HolderAssignment:
    """The holder gives the account back (leaves the post, the unit): nobody holds it from `until`,
    so its password is replaced by one nobody knows and its sessions end."""
    account = await _account(session, account_id)
    _require_head_or_issuer(actor, account)
    current = await _close_current(session, account, until, "until")
    if current is None:
        raise FailedPrecondition("Tài khoản dùng chung không có người giữ")
    await holdings.publish(session, outbox, actor, account, current)
    await lock_out(session, admin(), account)
    audit.record(
        session,
        actor=actor,
        action="purpose_account.release",
        target=account.username,
        unit_path=account.unit_path,
        before={"holder": current.holder_name},
        after={"until": until.isoformat()},
    )
    return current


async def lock_out(session: AsyncSession, admin: KeycloakAdmin, account: PurposeAccount) -> None:
    """Nobody holds the account any more: a password nobody knows, no open session, and no
    undelivered or unretrieved first-login password left. An account a realm restore left out of
    the live realm (ADR 0029) has no password nor session to take away."""
    await session.execute(
        update(CredentialDelivery)
        .where(CredentialDelivery.username == account.username, CredentialDelivery.wiped_at.is_(None))
        .values(sealed_password=None, sealed_token=None, wiped_at=datetime.now(UTC))
    )
    if account.unlinked_at is not None:
        return
    await _reset(admin, account, temporary_password(account.username, 24))


async def _reset(admin: KeycloakAdmin, account: PurposeAccount, password: str) -> None:
    """A new password and no open session. Keycloak not knowing the id identity holds means a
    restored realm was switched in and the relink by username (ADR 0029) has not run yet, or the
    account was removed from Keycloak by hand: the caller is told, nothing is written."""
    try:
        await asyncio.to_thread(reset_password, admin, account.keycloak_user_id, password, sign_out=True)
    except KeycloakError as error:
        if error.response_code != 404:
            raise
        raise Unavailable(
            f"Keycloak không có tài khoản {account.username} theo mã identity đang giữ: realm vừa được phục hồi "
            "và tài khoản đang được liên kết lại theo tên đăng nhập (hãy thử lại sau ít phút), hoặc tài khoản "
            "đã bị xóa khỏi Keycloak"
        ) from error


HANDED_BY_HEADS = frozenset(Tier) - {Tier.SYSTEM_ADMIN, Tier.LOCAL_ADMIN}
"""The accounts a unit head hands to the unit's civil servants (R-ACC-2): its user accounts. An
admin account is handed by an admin who could issue it: a head handing one would give admin rights,
above a head's own, possibly to itself (R-TIER-3)."""


def _require_head_or_issuer(actor: Principal, account: PurposeAccount) -> None:
    head = (
        actor.has_any_role((Tier.UNIT_LEADER,))
        and bool(actor.unit_path)
        and in_subtree(account.unit_path, actor.unit_path or "")
        and account.tier in HANDED_BY_HEADS
    )
    if not head:
        rules.require_issuer(actor, account.unit_path, [account.tier])


def _require_not_oneself(actor: Principal, holder_personal_id: str | None, holder_email: str) -> None:
    """Nobody hands an account to itself, by its personal id or by the address its first-login code
    would reach (R-TIER-3): the account's rights would be the caller's own on top of its tier's."""
    own_id = actor.claims.get(PERSONAL_ID_CLAIM)
    own_email = actor.claims.get("email")
    if (holder_personal_id and holder_personal_id == own_id) or (
        isinstance(own_email, str) and own_email.casefold() == holder_email.strip().casefold()
    ):
        raise PermissionDenied("Không được giao tài khoản dùng chung cho chính mình")


async def _close_current(
    session: AsyncSession, account: PurposeAccount, day: date, field: str
) -> HolderAssignment | None:
    """Ends the current holding on `day`; a hand-over is recorded on the day it happens: not ahead
    of it, since the previous holder loses the account at once, nor after it, since what the account
    did in between was its holder's then and would be named as the next one's (ADR 0047)."""
    today = datetime.now(VIETNAM).date()
    if day > today:
        raise InvalidArgument.single(field, "Không được sau ngày hôm nay: bàn giao được ghi khi đã diễn ra")
    if day < today:
        raise InvalidArgument.single(
            field,
            "Không được trước ngày hôm nay: bàn giao không được ghi lùi ngày, "
            "vì những việc tài khoản đã làm trước đó thuộc về người giữ lúc ấy",
        )
    current = await session.scalar(
        select(HolderAssignment)
        .where(HolderAssignment.account_id == account.id, HolderAssignment.valid_to.is_(None))
        .with_for_update()
    )
    if current is not None:
        if day <= current.valid_from:
            raise InvalidArgument.single(field, f"Phải sau ngày người giữ hiện tại nhận ({current.valid_from})")
        current.valid_to = day
    return current


async def holders(
    session: AsyncSession, *, actor: Principal, account_id: str, on: date | None
) -> list[HolderAssignment]:
    """The whole history, or who held the account on a given day (valid_from ≤ day < valid_to):
    read where the unit is read (a Vụ or Cục of the General Department its own unit only, a civil
    servant's own account none)."""
    account = await _account(session, account_id)
    require(actor, Section.UNIT, Action.READ, account.unit_path)
    query = select(HolderAssignment).where(HolderAssignment.account_id == account.id)
    if on is not None:
        query = query.where(
            HolderAssignment.valid_from <= on, or_(HolderAssignment.valid_to.is_(None), HolderAssignment.valid_to > on)
        )
    return list((await session.scalars(query.order_by(HolderAssignment.valid_from))).all())


@dataclass(frozen=True)
class ListedAccount:
    account: PurposeAccount
    holder: HolderAssignment | None
    """Who holds it today (Vietnam's day); None: nobody since its last release, or not yet handed over."""
    manageable: bool
    """Whether the caller may hand it over or release it: the rule those steps apply."""


async def in_reach(
    session: AsyncSession, *, actor: Principal, unit_path: str | None, limit: int
) -> tuple[list[ListedAccount], int]:
    """The purpose accounts of the units the caller reads (where their holders are read), by unit then
    purpose, a unit's subtree when asked, with who holds each today; and how many there are in all.
    The scope is a condition of the query: a sector's accounts number in the thousands."""
    where = [sql_scope(actor, Section.UNIT, Action.READ, PurposeAccount.unit_path)]
    if unit_path:
        where.append(
            or_(
                PurposeAccount.unit_path == unit_path,
                PurposeAccount.unit_path.startswith(unit_path + "/", autoescape=True),
            )
        )
    total = int(await session.scalar(select(func.count()).select_from(PurposeAccount).where(*where)) or 0)
    accounts = (
        await session.scalars(
            select(PurposeAccount).where(*where).order_by(PurposeAccount.unit_path, PurposeAccount.purpose).limit(limit)
        )
    ).all()
    today = datetime.now(VIETNAM).date()
    current = await session.scalars(
        select(HolderAssignment).where(
            HolderAssignment.account_id.in_([a.id for a in accounts]),
            HolderAssignment.valid_from <= today,
            or_(HolderAssignment.valid_to.is_(None), HolderAssignment.valid_to > today),
        )
    )
    holders = {h.account_id: h for h in current}
    return [ListedAccount(a, holders.get(a.id), _may_manage(actor, a)) for a in accounts], total


async def one(session: AsyncSession, *, actor: Principal, account_id: str) -> ListedAccount:
    """One account with who holds it today, read where its holders are."""
    account = await _account(session, account_id)
    require(actor, Section.UNIT, Action.READ, account.unit_path)
    return ListedAccount(account, await _held_today(session, account.id), _may_manage(actor, account))


async def _held_today(session: AsyncSession, account_id: str) -> HolderAssignment | None:
    today = datetime.now(VIETNAM).date()
    held: HolderAssignment | None = await session.scalar(
        select(HolderAssignment).where(
            HolderAssignment.account_id == account_id,
            HolderAssignment.valid_from <= today,
            or_(HolderAssignment.valid_to.is_(None), HolderAssignment.valid_to > today),
        )
    )
    return held


def _may_manage(actor: Principal, account: PurposeAccount) -> bool:
    try:
        _require_head_or_issuer(actor, account)
    except PermissionDenied:
        return False
    return True
