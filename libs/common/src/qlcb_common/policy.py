"""Read scopes of the tiers, shared by every service that answers about records.

The full matrix (tier × record section × action, plus delegations) arrives with issue 3;
until then this holds the read rows of the domain's tier table.
"""

from __future__ import annotations

from qlcb_common.auth import Principal
from qlcb_common.errors import PermissionDenied
from qlcb_common.tiers import SECTOR_WIDE_READERS, Tier, in_subtree

_SUBTREE_READERS = (Tier.LOCAL_ADMIN, Tier.LOCAL_OFFICER, Tier.UNIT_LEADER)
_OWN_UNIT_READERS = (Tier.HQ_DEPARTMENT, Tier.HQ_UNIT)


def read_scope(principal: Principal) -> tuple[str, bool] | None:
    """The unit path the caller may read and whether it extends to the subtree.

    None means the whole sector; a caller with no readable scope gets PermissionDenied.
    """
    if principal.has_any_role(tuple(SECTOR_WIDE_READERS)):
        return None
    if principal.unit_path and principal.has_any_role(_SUBTREE_READERS):
        return principal.unit_path, True
    if principal.unit_path and principal.has_any_role(_OWN_UNIT_READERS):
        return principal.unit_path, False
    raise PermissionDenied("Tài khoản không có phạm vi đọc hồ sơ")


def require_reader(principal: Principal, unit_path: str) -> None:
    scope = read_scope(principal)
    if scope is None:
        return
    path, subtree = scope
    if unit_path == path or (subtree and in_subtree(unit_path, path)):
        return
    raise PermissionDenied("Hồ sơ nằm ngoài phạm vi của tài khoản")
