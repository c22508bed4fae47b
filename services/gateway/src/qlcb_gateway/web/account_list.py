"""The accounts page (R-ACC-9, 001 Điều 7): for an account admin, the accounts of a unit it
administers (the system admin any unit, a local admin its own and those below), with the units below
it if asked, found by name or
username, each with its holder, tiers, whether it is open and whether it is a purpose account,
linked to its own page where the admin may change it; for everyone, the box that opens an account by
its username and the link to one's own. Identity lists the accounts and decides who may see them."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qlcb_common.tiers import Tier, in_subtree
from qlcb_gateway.routes.organisation import list_units
from qlcb_gateway.schemas import UnitPublic
from qlcb_gateway.web import account_audit
from qlcb_gateway.web.pages import (
    ACCOUNT_ADMIN_TIERS,
    TIER_LABELS,
    BackendDown,
    Visit,
    backends_of,
    error_page,
    identity_call,
    page_number,
    render,
    signed_in,
)
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

PAGE_SIZE = 50
SEARCH_MAX = 100
USERNAME_MAX = 255


def administered_units(visit: Visit, units: list[UnitPublic]) -> list[UnitPublic]:
    """The units whose accounts the page offers to list: identity refuses the rest."""
    principal = visit.principal
    if principal.has_any_role((Tier.SYSTEM_ADMIN,)):
        return units
    if principal.has_any_role((Tier.LOCAL_ADMIN,)) and principal.unit_path:
        return [u for u in units if in_subtree(u.path, principal.unit_path)]
    return []


def _shown(account: dict[str, Any]) -> dict[str, Any]:
    return account | {"tier_labels": [TIER_LABELS.get(Tier(t), t) for t in account["tiers"]]}


@router.get("/accounts", name="web_accounts")
async def accounts(
    request: Request, username: str = "", unit: str = "", q: str = "", page: str = "1", subtree: str = ""
) -> Response:
    """The query string is read leniently, as the staff list's is: a page number that is not one
    shows the first page."""
    visit = await signed_in(request)
    wanted = username.strip()
    if wanted and len(wanted) <= USERNAME_MAX:
        return RedirectResponse(str(page_url(request, "web_account", username=wanted)), status_code=303)
    errors = {"username": f"Dài quá {USERNAME_MAX} ký tự"} if wanted else {}
    below = subtree == "1"
    context: dict[str, Any] = {"errors": errors, "units": [], "chosen": None, "query": q.strip(), "subtree": below}
    if visit.principal.has_any_role(ACCOUNT_ADMIN_TIERS):
        listing = await _listing(request, visit, unit, q.strip(), page, errors, below)
        if isinstance(listing, Response):
            return listing
        recent = await account_audit.entries(request, visit, limit=RECENT)
        context |= listing | {"reviews": await _reviews(request, visit), "recent": recent}
    return render(request, visit, "accounts.html", context, status_code=422 if errors else 200)


RECENT = 20
"""The account audit's newest entries the accounts page shows."""
REVIEW_REASONS = {
    "qlcb.personnel.person.retired": "Người giữ đã nghỉ hưu",
    "qlcb.personnel.person.resigned": "Người giữ đã thôi việc",
    "qlcb.personnel.person.died": "Người giữ đã từ trần",
    "qlcb.personnel.person.moved_out": "Người giữ đã chuyển công tác ra ngoài ngành",
    "appointments.head_ended": "Người giữ không còn giữ chức vụ cấp trưởng",
}


async def _reviews(request: Request, visit: Visit) -> list[dict[str, Any]]:
    """The accounts waiting for the caller to disable them or take a tier away (R-ACC-8), each with
    its deadline (one working day, R-ACC-5), oldest first."""
    answer = await identity_call(request, visit, "GET", "/v1/account-reviews")
    if answer.status_code >= 400:
        raise BackendDown(f"identity answered {answer.status_code}")
    return [
        review
        | {
            "reason_label": REVIEW_REASONS.get(review["reason"], review["reason"]),
            "asked": f"Thu hồi quyền {TIER_LABELS.get(Tier(tier), tier)}"
            if (tier := review.get("revoke_tier"))
            else "Khóa tài khoản",
            "due": datetime.fromisoformat(review["due_at"]),
        }
        for review in answer.json()
    ]


async def _listing(
    request: Request, visit: Visit, unit_id: str, query: str, page: str, errors: dict[str, str], subtree: bool
) -> dict[str, Any] | Response:
    """The chosen unit's accounts (the caller's own unit first), or what is wrong with the criteria
    in `errors`, with nothing asked of identity."""
    units = administered_units(visit, await list_units(visit.principal, backends_of(request)))
    own = next((u for u in units if u.path == visit.principal.unit_path), units[0] if units else None)
    chosen = next((u for u in units if u.id == unit_id), None) if unit_id else own
    listing: dict[str, Any] = {"units": units, "chosen": chosen}
    if chosen is None:
        if unit_id:
            errors["unit"] = "Không phải đơn vị bạn quản trị tài khoản"
        return listing
    if len(query) > SEARCH_MAX:
        errors["q"] = f"Dài quá {SEARCH_MAX} ký tự"
        return listing
    number = page_number(page)
    params = {"unit_path": chosen.path, "q": query, "offset": (number - 1) * PAGE_SIZE, "limit": PAGE_SIZE}
    params |= {"subtree": "true"} if subtree else {}
    answer = await identity_call(request, visit, "GET", "/v1/accounts", params=params)
    if answer.status_code == 404:
        return listing | {"accounts": [], "total": 0}
    if answer.status_code in (401, 403):
        return error_page(request, 403)
    if answer.status_code == 422:
        errors["q"] = "Không tìm được theo các điều kiện này"
        return listing
    if answer.status_code >= 400:
        raise BackendDown(f"identity answered {answer.status_code}")
    body = answer.json()
    pages = max(1, math.ceil(body["total"] / PAGE_SIZE))
    kept = {"unit": chosen.id, "q": query} | ({"subtree": "1"} if subtree else {})
    names = {u.path: u.name for u in units}

    def page_link(to: int) -> str:
        return f"{request.url.path}?{urlencode(kept | {'page': str(to)})}"

    return listing | {
        "accounts": [_shown(a) | {"unit_name": names.get(a["unit_path"], a["unit_path"])} for a in body["items"]],
        "total": body["total"],
        "truncated": body["truncated"],
        "page": number,
        "pages": pages,
        "previous_link": page_link(number - 1) if number > 1 else None,
        "next_link": page_link(number + 1) if number < pages else None,
    }
