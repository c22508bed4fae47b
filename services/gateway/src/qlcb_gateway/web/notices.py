"""Notices to every user (R-OPS-1), for the system admin: those posted in the last year, whether each
is still shown, the form to post one (an upgrade at least 24 hours ahead, an incident) and the
closing of each. Identity decides every post and close, as its REST API does; the page's own board
asks identity again at the next page, so the notice shows or goes at once here (other gateway
processes within `notice_board.REFRESH_SECONDS`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qlcb_gateway.web.entry_form import FormField, checked, identity_faults
from qlcb_gateway.web.notice_board import KIND_LABELS
from qlcb_gateway.web.pages import (
    BackendDown,
    Visit,
    error_page,
    identity_call,
    posted_form,
    render,
    signed_in,
    web_state,
)
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

DONE = {"posted": "Đã đăng thông báo.", "closed": "Đã đóng thông báo."}


def _blank() -> list[FormField]:
    return [
        FormField("kind", "Loại thông báo", "choice", required=True, choices=list(KIND_LABELS.items())),
        FormField("title", "Tiêu đề", "text", required=True, max_length=200),
        FormField("body", "Nội dung (việc gì, ảnh hưởng gì, người dùng cần làm gì)", "textarea", True, max_length=4000),
        FormField("starts_at", "Bắt đầu (nâng cấp: từ 24 giờ sau khi đăng)", "datetime", required=True),
        FormField("ends_at", "Dự kiến kết thúc (bắt buộc với nâng cấp)", "datetime", required=False),
    ]


def _shown(item: dict[str, Any], now: datetime) -> dict[str, Any]:
    ends = datetime.fromisoformat(item["ends_at"]) if item.get("ends_at") else None
    closed = datetime.fromisoformat(item["closed_at"]) if item.get("closed_at") else None
    return {
        **item,
        "kind_label": KIND_LABELS.get(item["kind"], item["kind"]),
        "starts": datetime.fromisoformat(item["starts_at"]),
        "ends": ends,
        "posted": datetime.fromisoformat(item["posted_at"]),
        "closed": closed,
        "shown": closed is None and (ends is None or ends > now),
    }


async def _page(
    request: Request,
    visit: Visit,
    *,
    fields: list[FormField] | None = None,
    faults: list[str] | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    answer = await identity_call(request, visit, "GET", "/v1/notices/posted")
    if answer.status_code in (401, 403):
        return error_page(request, 403)
    if answer.status_code >= 400:
        raise BackendDown(f"identity answered {answer.status_code}")
    now = datetime.now(UTC)
    context = {
        "items": [_shown(item, now) for item in answer.json()],
        "fields": fields if fields is not None else _blank(),
        "faults": faults or [],
        "done": DONE.get(done, ""),
    }
    return render(request, visit, "notices.html", context, status_code=status_code)


@router.get("/notices", name="web_notices")
async def notices(request: Request, done: str = "") -> Response:
    visit = await signed_in(request)
    return await _page(request, visit, done=done)


@router.post("/notices", name="web_notice_post")
async def post(request: Request) -> Response:
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    fields = _blank()
    given = checked(fields, sent)
    if given is None:
        return await _page(request, visit, fields=fields, status_code=422)
    body = {name: given.get(name) for name in ("kind", "title", "body", "starts_at", "ends_at")}
    answer = await identity_call(request, visit, "POST", "/v1/notices", json=body)
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    if answer.status_code >= 400:
        faults = identity_faults(fields, answer.json().get("detail"))
        return await _page(request, visit, fields=fields, faults=faults, status_code=answer.status_code)
    web_state(request).notices.forget()
    target = page_url(request, "web_notices").include_query_params(done="posted")
    return RedirectResponse(f"{target}#notice-row-{answer.json()['id']}", status_code=303)


@router.post("/notices/{notice_id}/close", name="web_notice_close")
async def close(request: Request, notice_id: str) -> Response:
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    answer = await identity_call(request, visit, "POST", f"/v1/notices/{notice_id}/close")
    if answer.status_code in (404, 422):
        return error_page(request, 404)
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    if answer.status_code >= 400:
        faults = identity_faults([], answer.json().get("detail"))
        return await _page(request, visit, faults=faults, status_code=answer.status_code)
    web_state(request).notices.forget()
    target = page_url(request, "web_notices").include_query_params(done="closed")
    return RedirectResponse(str(target), status_code=303)
