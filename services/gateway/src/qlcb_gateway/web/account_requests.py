"""Account requests (R-ACC-4, R-ACC-5) for those who take part in them: the open requests of the
caller's scope, soonest due first, each with the step it waits for and whether that step is the
caller's (the unit head consents; an admin who may grant every tier asked approves, another issues;
nobody takes two steps of one request); the step or a rejection with its reason taken from the
page. Identity decides every step, as its REST API does; the page only offers what it says is the
caller's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qlcb_common.tiers import Tier
from qlcb_gateway.routes.organisation import list_units
from qlcb_gateway.web.pages import (
    ACCOUNT_REQUEST_TIERS,
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

SHOWN = 200
STEPS = {"consent": "Đồng ý", "approve": "Phê duyệt", "issue": "Cấp tài khoản"}
"""The steps a request waits for, by identity's name, with the page's button."""
STATUS_LABELS = {
    "submitted": "Chờ thủ trưởng đơn vị đồng ý",
    "consented": "Chờ phê duyệt",
    "approved": "Chờ cấp tài khoản",
}
DONE = {
    "consent": "Đã đồng ý đề nghị.",
    "approve": "Đã phê duyệt đề nghị.",
    "issue": "Đã cấp tài khoản; mã nhận mật khẩu lần đầu đã gửi tới thư điện tử của người sử dụng.",
    "reject": "Đã từ chối đề nghị.",
}


async def open_requests(request: Request, visit: Visit, limit: int) -> dict[str, Any] | None:
    """Identity's list of open requests in the caller's scope; None for a tier that takes no part.
    Raises BackendDown when identity cannot answer."""
    if not visit.principal.has_any_role(ACCOUNT_REQUEST_TIERS):
        return None
    answer = await identity_call(request, visit, "GET", "/v1/account-requests", params={"limit": limit})
    if answer.status_code == 403:
        return None
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


REASON_MAX = 1000


@dataclass
class Rejecting:
    """A rejection the page sent back: its request, the reason typed and what is wrong with it."""

    request_id: str
    reason: str
    error: str = ""


def _reason_fault(reason: str) -> str:
    if not reason:
        return "Bắt buộc nhập"
    if len(reason) > REASON_MAX:
        return f"Dài quá {REASON_MAX} ký tự"
    return ""


def _refusals(answer: httpx.Response) -> list[tuple[str, str]]:
    """Identity's refusal as (field, reason) pairs; the field is empty when it names none."""
    detail = answer.json().get("detail")
    if isinstance(detail, list):
        return [(str(e.get("loc", [""])[-1]), str(e.get("msg", ""))) for e in detail]
    if isinstance(detail, dict):
        return [("", str(detail.get("message", "")))]
    return [("", str(detail))]


async def _page(
    request: Request,
    visit: Visit,
    *,
    faults: list[str] | None = None,
    rejecting: Rejecting | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    found = await open_requests(request, visit, SHOWN)
    if found is None:
        return error_page(request, 403)
    units = {u.path: u.name for u in await list_units(visit.principal, backends_of(request))}
    now = datetime.now(UTC)
    items = [
        {
            **item,
            "unit_name": units.get(item["unit_path"], item["unit_path"]),
            "tiers": [TIER_LABELS.get(Tier(t), t) for t in item["account_types"]],
            "late": datetime.fromisoformat(item["due_at"]) < now,
            "due": datetime.fromisoformat(item["due_at"]),
            "submitted": datetime.fromisoformat(item["submitted_at"]),
        }
        for item in found["items"]
    ]
    context = {
        "items": items,
        "total": found["total"],
        "yours": found["yours"],
        "steps": STEPS,
        "status_labels": STATUS_LABELS,
        "faults": faults or [],
        "rejecting": rejecting,
        "reason_max": REASON_MAX,
        "done": DONE.get(done, ""),
    }
    return render(request, visit, "account_requests.html", context, status_code=status_code)


@router.get("/account-requests", name="web_account_requests")
async def account_requests(request: Request, done: str = "") -> Response:
    visit = await signed_in(request)
    return await _page(request, visit, done=done)


@router.post("/account-requests/{request_id}/{step}", name="web_account_request_step")
async def account_request_step(request: Request, request_id: str, step: str) -> Response:
    """Takes the request's step (consent, approve, issue) or rejects it with the reason typed; a
    refusal (not the caller's step, taken meanwhile by someone else) is said on the page."""
    visit = await signed_in(request)
    if step not in (*STEPS, "reject"):
        return error_page(request, 404)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    body: dict[str, str] | None = None
    rejecting = None
    if step == "reject":
        rejecting = Rejecting(request_id, sent.get("reason", "").strip())
        rejecting.error = _reason_fault(rejecting.reason)
        if rejecting.error:
            return await _page(request, visit, rejecting=rejecting, status_code=422)
        body = {"reason": rejecting.reason}
    answer = await identity_call(request, visit, "POST", f"/v1/account-requests/{request_id}/{step}", json=body)
    if answer.status_code == 404:
        return error_page(request, 404)
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    if answer.status_code >= 400:
        faults = []
        for name, reason in _refusals(answer):
            if rejecting is not None and name == "reason":
                rejecting.error = reason
            else:
                faults.append(reason)
        return await _page(request, visit, faults=faults, rejecting=rejecting, status_code=answer.status_code)
    target = page_url(request, "web_account_requests").include_query_params(done=step)
    return RedirectResponse(f"{target}#request-{request_id}", status_code=303)
