"""Identity's account audit (R-AUD-1) as the pages show it: the newest entries, each action named in
Vietnamese. Identity decides who reads which: the system admin all of it, a local admin what concerns
its subtree's accounts, requests, delegations and quotas, every other tier none."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import Request

from qlcb_gateway.web.pages import Visit, identity_call

ACTION_LABELS = {
    "account.issue": "Cấp tài khoản",
    "account.grant": "Cấp quyền",
    "account.revoke": "Thu hồi quyền",
    "account.disable": "Khóa tài khoản",
    "account.enable": "Mở lại tài khoản",
    "account.sections": "Giao phần hồ sơ",
    "account.incident": "Báo mất, lộ mật khẩu",
    "account.reset": "Cấp lại mật khẩu lần đầu",
    "account.review": "Đưa vào danh sách chờ xử lý",
    "account.move": "Chuyển đơn vị theo hồ sơ",
    "account.tiers": "Bỏ các quyền của đơn vị cũ",
    "account.reinstatement": "Ghi nhận trở lại công tác (chưa mở lại)",
    "account_request.submit": "Lập đề nghị cấp tài khoản",
    "account_request.consent": "Đồng ý đề nghị cấp tài khoản",
    "account_request.approve": "Phê duyệt đề nghị cấp tài khoản",
    "account_request.reject": "Từ chối đề nghị cấp tài khoản",
    "purpose_account.issue": "Cấp tài khoản dùng chung",
    "purpose_account.assign": "Giao cho người giữ",
    "purpose_account.release": "Thu hồi từ người giữ",
    "delegation.grant": "Ủy quyền",
    "delegation.revoke": "Thu hồi ủy quyền",
    "delegation.follow_unit": "Ủy quyền theo đơn vị mới",
    "quota.set": "Đặt định mức tài khoản",
    "group.move": "Chuyển nhóm của đơn vị",
}
"""The actions as the pages name them (others: as identity names them)."""
LIMIT = 50
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def entries(request: Request, visit: Visit, *, limit: int = LIMIT, **asked: str) -> list[dict[str, Any]] | None:
    """The newest `limit` entries the caller reads that match `asked` (identity's filters: target,
    action, …); None for a caller identity gives none."""
    answer = await identity_call(request, visit, "GET", "/v1/audit", params=asked | {"limit": str(limit)})
    if answer.status_code != 200:
        return None
    return [
        entry
        | {
            "at": datetime.fromisoformat(entry["at"]),
            "label": ACTION_LABELS.get(entry["action"], entry["action"]),
            "account": _account_named(entry),
        }
        for entry in answer.json()
    ]


def _account_named(entry: dict[str, Any]) -> str | None:
    """The username an entry about an account names, for a link to its page; None when its target
    is a request, a unit, a quota or an id."""
    target = str(entry["target"])
    about_account = str(entry["action"]).startswith(("account.", "purpose_account."))
    if not about_account or UUID.fullmatch(target) or "/" in target:
        return None
    return target
