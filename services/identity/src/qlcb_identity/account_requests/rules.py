"""Who may request, consent to, approve and issue accounts (R-ACC-4, R-TIER-3)."""

from __future__ import annotations

from collections.abc import Iterable

from qlcb_common.auth import Principal
from qlcb_common.errors import PermissionDenied
from qlcb_common.tiers import Tier, in_subtree

# What each account-admin tier may grant: never more than it holds (001 Điều 4.1).
GRANTABLE_BY: dict[Tier, frozenset[Tier]] = {
    Tier.SYSTEM_ADMIN: frozenset(Tier),
    # Not the unit-leader tier: the leader's consent is what checks the local admin (001 Điều
    # 8.1.b), so the admin must neither create nor administer a leader's account.
    Tier.LOCAL_ADMIN: frozenset({Tier.LOCAL_OFFICER, Tier.SELF}),
}
REQUESTERS = (Tier.LOCAL_ADMIN, Tier.LOCAL_OFFICER, Tier.UNIT_LEADER)
ACCOUNT_ADMINS = tuple(GRANTABLE_BY)


def _inside(principal: Principal, unit_path: str) -> bool:
    return bool(principal.unit_path) and in_subtree(unit_path, principal.unit_path or "")


def require_requester(principal: Principal, unit_path: str) -> None:
    if principal.has_any_role((Tier.SYSTEM_ADMIN,)):
        return
    if principal.has_any_role(REQUESTERS) and _inside(principal, unit_path):
        return
    raise PermissionDenied("Chỉ đề nghị cấp tài khoản cho đơn vị mình và cấp dưới")


def require_unit_head(principal: Principal, unit_path: str) -> None:
    if principal.has_any_role((Tier.UNIT_LEADER,)) and _inside(principal, unit_path):
        return
    raise PermissionDenied("Chỉ thủ trưởng đơn vị được đồng ý đề nghị cấp tài khoản")


def administers_accounts(principal: Principal) -> bool:
    return principal.has_any_role(ACCOUNT_ADMINS)


def in_admin_scope(principal: Principal, unit_path: str) -> bool:
    """The unit's accounts are the caller's to administer (whatever their tiers)."""
    if principal.has_any_role((Tier.SYSTEM_ADMIN,)):
        return True
    return principal.has_any_role((Tier.LOCAL_ADMIN,)) and _inside(principal, unit_path)


def require_issuer(principal: Principal, unit_path: str, account_types: Iterable[str]) -> None:
    """The caller administers accounts of that unit and may grant every requested tier."""
    wanted = {Tier(t) for t in account_types}
    for tier, grantable in GRANTABLE_BY.items():
        if not principal.has_any_role((tier,)):
            continue
        if tier is not Tier.SYSTEM_ADMIN and not _inside(principal, unit_path):
            continue
        if wanted <= grantable:
            return
    raise PermissionDenied("Không được cấp tài khoản ngoài phạm vi hoặc cao hơn quyền của mình")


def may_issue(principal: Principal, unit_path: str, account_types: Iterable[str]) -> bool:
    try:
        require_issuer(principal, unit_path, account_types)
    except PermissionDenied:
        return False
    return True


def same_account(a: str, b: str) -> bool:
    """Keycloak usernames are case-insensitive: `QUANTRI` is `quantri`."""
    return a.casefold() == b.casefold()


def require_distinct(actor: Principal, step: str, earlier: dict[str, tuple[str | None, str | None]]) -> None:
    """One person may not take two steps of one request: the four-eyes rule of 001 Điều 8.1.b.
    `earlier` maps each earlier step's name to the subject and username that took it. Either
    matching refuses: a realm restore gives an account a new subject, not a new username, and
    tokens of the former subject verify for minutes after the switch (ADR 0029)."""
    for name, (subject, username) in earlier.items():
        if (subject is not None and subject == actor.subject) or (username and same_account(username, actor.username)):
            raise PermissionDenied(f"Người đã {name} đề nghị này không được {step}")
