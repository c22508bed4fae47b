"""Who may do what in personnel, until the shared authorization matrix replaces it (issue 3).

Sector-wide tiers act anywhere; a local admin acts inside its own unit's subtree.
Read scopes live in the shared `qlcb_common.policy`.
"""

from __future__ import annotations

from qlcb_common.auth import Principal
from qlcb_common.errors import PermissionDenied
from qlcb_common.tiers import Tier, in_subtree

_UNIT_WRITERS = (Tier.SYSTEM_ADMIN, Tier.SECTOR_HR)
_SECTOR_WRITERS = (Tier.SYSTEM_ADMIN, Tier.SECTOR_HR)
_SUBTREE_WRITERS = (Tier.LOCAL_ADMIN,)


def require_unit_writer(principal: Principal) -> None:
    if not principal.has_any_role(_UNIT_WRITERS):
        raise PermissionDenied("Chỉ quản trị hệ thống hoặc Vụ TCCB được thành lập đơn vị")


def require_person_writer(principal: Principal, unit_path: str) -> None:
    if principal.has_any_role(_SECTOR_WRITERS):
        return
    if principal.has_any_role(_SUBTREE_WRITERS) and _within(principal, unit_path, subtree=True):
        return
    raise PermissionDenied("Không có quyền ghi hồ sơ của đơn vị này")


def _within(principal: Principal, unit_path: str, *, subtree: bool) -> bool:
    if not principal.unit_path:
        return False
    return unit_path == principal.unit_path or (subtree and in_subtree(unit_path, principal.unit_path))
