"""Who may do what in personnel, until the shared authorization matrix replaces it (issue 3).

Sector-wide tiers act anywhere; a local admin acts inside its own unit's subtree.
"""

from __future__ import annotations

from qlcb_common.auth import Principal
from qlcb_common.errors import PermissionDenied
from qlcb_common.tiers import SECTOR_WIDE_READERS, Tier, in_subtree

_UNIT_WRITERS = (Tier.SYSTEM_ADMIN, Tier.SECTOR_HR)
_SECTOR_WRITERS = (Tier.SYSTEM_ADMIN, Tier.SECTOR_HR)
_SUBTREE_WRITERS = (Tier.LOCAL_ADMIN,)
_SUBTREE_READERS = (Tier.LOCAL_ADMIN, Tier.LOCAL_OFFICER, Tier.UNIT_LEADER)
_OWN_UNIT_READERS = (Tier.HQ_DEPARTMENT, Tier.HQ_UNIT)


def require_unit_writer(principal: Principal) -> None:
    if not principal.has_any_role(_UNIT_WRITERS):
        raise PermissionDenied("Chỉ quản trị hệ thống hoặc Vụ TCCB được thành lập đơn vị")


def require_person_writer(principal: Principal, unit_path: str) -> None:
    if principal.has_any_role(_SECTOR_WRITERS):
        return
    if principal.has_any_role(_SUBTREE_WRITERS) and _within(principal, unit_path, subtree=True):
        return
    raise PermissionDenied("Không có quyền ghi hồ sơ của đơn vị này")


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


def _within(principal: Principal, unit_path: str, *, subtree: bool) -> bool:
    if not principal.unit_path:
        return False
    return unit_path == principal.unit_path or (subtree and in_subtree(unit_path, principal.unit_path))
