"""Purpose accounts (R-ACC-2, R-ACC-3; 001 Điều 5.2): the accounts issued to a unit for a purpose
("Nhân sự 1"), not to a person, as identity lists them to the caller (the units it reads), each with
who holds it today; one account's history of holders; and, where identity lets the caller (the unit's
head or its account admin), handing it to a civil servant from a day (the holder's first password
goes to their mailbox, never to the page) and releasing it. Identity decides every step."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qlcb_common.tiers import Tier
from qlcb_gateway.routes.organisation import list_units
from qlcb_gateway.web.entry_form import FormField, checked, identity_faults
from qlcb_gateway.web.pages import (
    TIER_LABELS,
    BackendDown,
    Visit,
    backends_of,
    error_page,
    identity_call,
    posted_form,
    render,
    signed_in,
)
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

LISTED = 500
"""Accounts a page lists; the total says when there are more (a unit subtree narrows them)."""
DONE = {
    "issued": "Đã cấp tài khoản. Hãy giao cho người giữ đầu tiên: người đó nhận mã lấy mật khẩu qua thư điện tử.",
    "handed": "Đã giao tài khoản cho người giữ mới.",
    "released": "Người giữ đã thôi giữ tài khoản.",
}


def _holder_fields() -> list[FormField]:
    return [
        FormField("holder_name", "Họ và tên người giữ", "text", required=True, max_length=150),
        FormField("holder_personal_id", "Số định danh cá nhân (nếu có hồ sơ)", "text", required=False, max_length=12),
        FormField("holder_email", "Thư điện tử nhận mật khẩu lần đầu", "text", required=True, max_length=255),
        FormField("since", "Giao từ ngày", "date", required=True),
    ]


def _release_fields() -> list[FormField]:
    return [FormField("until", "Thôi giữ từ ngày", "date", required=True)]


def _tier_label(tier: str) -> str:
    try:
        return TIER_LABELS[Tier(tier)]
    except ValueError:
        return tier


def _shown(item: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    holder = item.get("holder")
    return {
        **item,
        "unit_name": names.get(item["unit_path"], item["unit_path"]),
        "tier_label": _tier_label(item["tier"]),
        "issued": datetime.fromisoformat(item["issued_at"]),
        "holder_since": date.fromisoformat(holder["valid_from"]) if holder else None,
    }


def refused_read(request: Request, answer: Any) -> Response | None:
    """The page for identity's refusal of a read: 403 and 404 as pages, a failure as the system down."""
    if answer.status_code in (401, 403):
        return error_page(request, 403)
    if answer.status_code == 404:
        return error_page(request, 404)
    if answer.status_code >= 400:
        raise BackendDown(f"identity answered {answer.status_code}")
    return None


@router.get("/purpose-accounts", name="web_purpose_accounts")
async def purpose_accounts(request: Request, unit_id: str = "") -> Response:
    visit = await signed_in(request)
    units = sorted(await list_units(visit.principal, backends_of(request)), key=lambda u: u.path.split("/"))
    chosen = next((u for u in units if u.id == unit_id), None)
    asked: dict[str, Any] = {"limit": LISTED} | ({"unit_path": chosen.path} if chosen else {})
    answer = await identity_call(request, visit, "GET", "/v1/purpose-accounts", params=asked)
    refused = refused_read(request, answer)
    if refused is not None:
        return refused
    names = {u.path: u.name for u in units}
    found = answer.json()
    context = {
        "items": [_shown(item, names) for item in found["items"]],
        "total": found["total"],
        "units": [(u.id, f"{u.name} ({u.code})") for u in units if u.dissolved_on is None],
        "unit_id": chosen.id if chosen else "",
    }
    return render(request, visit, "purpose_accounts.html", context)


async def _account_page(
    request: Request,
    visit: Visit,
    account_id: str,
    *,
    holder_fields: list[FormField] | None = None,
    release_fields: list[FormField] | None = None,
    faults: list[str] | None = None,
    done: str = "",
    sent_to: str = "",
    status_code: int = 200,
) -> Response:
    answer = await identity_call(request, visit, "GET", f"/v1/purpose-accounts/{account_id}")
    refused = refused_read(request, answer)
    if refused is not None:
        return refused
    history = await identity_call(request, visit, "GET", f"/v1/purpose-accounts/{account_id}/holders")
    refused = refused_read(request, history)
    if refused is not None:
        return refused
    names = {u.path: u.name for u in await list_units(visit.principal, backends_of(request))}
    holders = [
        {
            **h,
            "from_day": date.fromisoformat(h["valid_from"]),
            "to_day": date.fromisoformat(h["valid_to"]) if h.get("valid_to") else None,
        }
        for h in reversed(history.json())
    ]
    context = {
        "account": _shown(answer.json(), names),
        "holders": holders,
        "holder_fields": holder_fields or _holder_fields(),
        "release_fields": release_fields or _release_fields(),
        "faults": faults or [],
        "done": DONE.get(done, ""),
        "sent_to": sent_to if done == "handed" else "",
    }
    return render(request, visit, "purpose_account.html", context, status_code=status_code)


@router.get("/purpose-accounts/{account_id}", name="web_purpose_account")
async def purpose_account(request: Request, account_id: str, done: str = "", sent_to: str = "") -> Response:
    visit = await signed_in(request)
    return await _account_page(request, visit, account_id, done=done, sent_to=sent_to)


async def _step(request: Request, account_id: str, step: str) -> Response:
    """Hands the account over or releases it, as the posted form asks; back to the account's page."""
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    fields = _holder_fields() if step == "holders" else _release_fields()
    given = checked(fields, sent)
    holder_fields, release_fields = (fields, None) if step == "holders" else (None, fields)
    if given is None:
        return await _account_page(
            request, visit, account_id, holder_fields=holder_fields, release_fields=release_fields, status_code=422
        )
    body = {k: v for k, v in given.items() if k not in ("values", "decision")}
    answer = await identity_call(request, visit, "POST", f"/v1/purpose-accounts/{account_id}/{step}", json=body)
    if answer.status_code == 404:
        return error_page(request, 404)
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    if answer.status_code >= 400:
        faults = identity_faults(fields, answer.json().get("detail"))
        return await _account_page(
            request,
            visit,
            account_id,
            holder_fields=holder_fields,
            release_fields=release_fields,
            faults=faults,
            status_code=answer.status_code,
        )
    if step == "holders":
        done = {"done": "handed", "sent_to": answer.json().get("delivered_to", "")}
    else:
        done = {"done": "released"}
    target = page_url(request, "web_purpose_account", account_id=account_id)
    return RedirectResponse(f"{target}?{urlencode(done)}", status_code=303)


@router.post("/purpose-accounts/{account_id}/holders", name="web_purpose_account_hand_over")
async def hand_over(request: Request, account_id: str) -> Response:
    return await _step(request, account_id, "holders")


@router.post("/purpose-accounts/{account_id}/release", name="web_purpose_account_release")
async def release(request: Request, account_id: str) -> Response:
    return await _step(request, account_id, "release")
