"""The check that links an account to a record (16.10): the personal id an account request names
must be a record personnel keeps, of someone working, in the requesting unit's subtree, under the
name the request gives."""

from __future__ import annotations

import unicodedata

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.errors import FailedPrecondition
from qlcb_common.tiers import in_subtree
from qlcb_identity.holders.models import Holder

ACTIVE = "active"


def _same_name(a: str, b: str) -> bool:
    return unicodedata.normalize("NFC", a).casefold().split() == unicodedata.normalize("NFC", b).casefold().split()


async def require_record(session: AsyncSession, *, personal_id: str, full_name: str, unit_path: str) -> Holder:
    holder = await session.get(Holder, personal_id)
    # One message for a record that does not exist and one outside the unit: the requester learns
    # nothing of other units' staff.
    if holder is None or not in_subtree(holder.unit_path, unit_path):
        raise FailedPrecondition(
            "holder_personal_id: không có hồ sơ cán bộ với số định danh này trong đơn vị đề nghị "
            "(hồ sơ vừa tạo cần vài giây để đến hệ thống tài khoản)"
        )
    if holder.status != ACTIVE:
        raise FailedPrecondition("holder_personal_id: người có số định danh này không còn đang công tác")
    if not _same_name(holder.full_name, full_name):
        raise FailedPrecondition("holder_name: không trùng với họ tên trong hồ sơ cán bộ có số định danh này")
    return holder
