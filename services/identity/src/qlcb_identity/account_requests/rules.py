"""Who may request, consent to, approve and issue accounts (R-ACC-4, R-TIER-3)."""

from __future__ import annotations

from collections.abc import Iterable

from qlcb_common.auth import Principal
from qlcb_common.errors import PermissionDenied
from qlcb_common.tiers import Tier, in_subtree

# What each account-admin tier may grant: never more than it holds (001 Điều 4.1).
GRANTABLE_BY: dict[Tier, frozenset[Tier]] = {
    Tier.SYSTEM_ADMIN: frozenset(Tier),
    Tier.LOCAL_ADMIN: frozenset({Tier.LOCAL_OFFICER, Tier.UNIT_LEADER, Tier.SELF}),
}
_REQUESTERS = (Tier.LOCAL_ADMIN, Tier.LOCAL_OFFICER, Tier.UNIT_LEADER)


def _inside(principal: Principal, unit_path: str) -> bool:
    return bool(principal.unit_path) and in_subtree(unit_path, principal.unit_path or "")


def require_requester(principal: Principal, unit_path: str) -> None:
    if principal.has_any_role((Tier.SYSTEM_ADMIN,)):
        return
    if principal.has_any_role(_REQUESTERS) and _inside(principal, unit_path):
        return
    raise PermissionDenied("Chỉ đề nghị cấp tài khoản cho đơn vị mình và cấp dưới")


def require_unit_head(principal: Principal, unit_path: str) -> None:
    if principal.has_any_role((Tier.UNIT_LEADER,)) and _inside(principal, unit_path):
        return
    raise PermissionDenied("Chỉ thủ trưởng đơn vị được đồng ý đề nghị cấp tài khoản")


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
