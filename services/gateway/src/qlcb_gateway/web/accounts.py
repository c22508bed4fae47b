"""One account (R-ACC-9, the domain's tier table): its holder, unit, tiers, whether it is open, the
record sections a local officer was granted, and its reported lost or stolen passwords; for its
admin the sections form, the report of an incident and the reset that mails a new first-login
password to the holder (never to the page), and what was done to it (identity's account audit);
for its holder, the report of their own incident.
Identity decides who reads and changes what; the page only offers what the account's answer says
the caller is (its admin, or its holder)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qlcb_common.authz import GRANTABLE_SECTIONS
from qlcb_common.tiers import Tier
from qlcb_gateway.routes.organisation import list_units
from qlcb_gateway.web import account_audit
from qlcb_gateway.web.delegations import SECTION_LABELS
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
from qlcb_gateway.web.unit_accounts import ISSUED_TIERS
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

INCIDENT_KINDS = {"lost": "Mất mật khẩu", "stolen": "Nghi bị lộ, bị đánh cắp"}
GRANTABLE = [(value, label) for value, label in SECTION_LABELS.items() if value in GRANTABLE_SECTIONS] + [
    (s.value, s.value) for s in sorted(GRANTABLE_SECTIONS, key=lambda s: s.value) if s.value not in SECTION_LABELS
]
"""The record sections an officer may be granted, in the record's order."""
DONE = {
    "sections": "Đã lưu các phần hồ sơ được giao; có hiệu lực từ lần đăng nhập (làm mới phiên) tiếp theo.",
    "reported": "Đã ghi nhận báo cáo.",
    "reset": "Đã cấp lại mật khẩu lần đầu.",
    "disabled": "Đã khóa tài khoản; các phiên đăng nhập của nó đã đóng.",
    "enabled": "Đã mở lại tài khoản.",
    "granted": "Đã cấp quyền; có hiệu lực từ lần đăng nhập (làm mới phiên) tiếp theo.",
    "revoked": "Đã thu hồi quyền.",
}


def _incident_fields() -> list[FormField]:
    return [
        FormField("kind", "Sự cố", "choice", required=True, choices=list(INCIDENT_KINDS.items())),
        FormField("note", "Ghi chú (khi nào, ở đâu)", "textarea", required=False, max_length=1000),
    ]


def _shown(account: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    incidents = [
        {
            **i,
            "kind_label": INCIDENT_KINDS.get(i["kind"], i["kind"]),
            "reported": datetime.fromisoformat(i["reported_at"]),
            "reset": datetime.fromisoformat(i["reset_at"]) if i.get("reset_at") else None,
        }
        for i in account["incidents"]
    ]
    path = account.get("unit_path")
    return {
        **account,
        "unit_name": names.get(path, path) if path else "Không thuộc đơn vị nào",
        "tier_labels": [TIER_LABELS.get(Tier(t), t) for t in account["tiers"]],
        "section_labels": [SECTION_LABELS.get(s, s) for s in account["sections"]],
        "incidents": incidents,
        "open_incident": any(i["reset"] is None for i in incidents),
        "officer": Tier.LOCAL_OFFICER.value in account["tiers"],
    }


async def _page(
    request: Request,
    visit: Visit,
    username: str,
    *,
    incident_fields: list[FormField] | None = None,
    ticked: set[str] | None = None,
    faults: list[str] | None = None,
    done: str = "",
    sent_to: str = "",
    status_code: int = 200,
) -> Response:
    answer = await identity_call(request, visit, "GET", f"/v1/accounts/{quote(username, safe='')}")
    if answer.status_code in (401, 403):
        return error_page(request, 403)
    if answer.status_code in (404, 422):
        return error_page(request, 404)
    if answer.status_code >= 400:
        raise BackendDown(f"identity answered {answer.status_code}")
    names = {u.path: u.name for u in await list_units(visit.principal, backends_of(request))}
    account = _shown(answer.json(), names)
    context = {
        "account": account,
        "grantable": GRANTABLE,
        "ticked": ticked if ticked is not None else set(account["sections"]),
        "incident_fields": incident_fields or _incident_fields(),
        "faults": faults or [],
        "done": DONE.get(done, ""),
        "sent_to": sent_to if done == "reset" else "",
        "grantable_tiers": [(t.value, TIER_LABELS[t]) for t in granted_tiers(visit) if t.value not in account["tiers"]],
        "history": None if account.get("own") else await account_audit.entries(request, visit, target=username),
    }
    return render(request, visit, "account.html", context, status_code=status_code)


@router.get("/accounts/{username}", name="web_account")
async def account(request: Request, username: str, done: str = "", sent_to: str = "") -> Response:
    visit = await signed_in(request)
    return await _page(request, visit, username, done=done, sent_to=sent_to)


def _back(request: Request, username: str, **done: str) -> Response:
    target = page_url(request, "web_account", username=username)
    return RedirectResponse(f"{target}?{urlencode(done)}", status_code=303)


@router.post("/accounts/{username}/sections", name="web_account_sections")
async def sections(request: Request, username: str) -> Response:
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    chosen = sorted(value for value, _label in GRANTABLE if f"section.{value}" in sent)
    answer = await identity_call(
        request, visit, "PUT", f"/v1/accounts/{quote(username, safe='')}/sections", json={"sections": chosen}
    )
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    if answer.status_code >= 400:
        faults = identity_faults([], answer.json().get("detail"))
        return await _page(request, visit, username, ticked=set(chosen), faults=faults, status_code=answer.status_code)
    return _back(request, username, done="sections")


@router.post("/accounts/{username}/incidents", name="web_account_incident")
async def incident(request: Request, username: str) -> Response:
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    fields = _incident_fields()
    given = checked(fields, sent)
    if given is None:
        return await _page(request, visit, username, incident_fields=fields, status_code=422)
    body = {"kind": given["kind"], "note": given.get("note", "")}
    answer = await identity_call(
        request, visit, "POST", f"/v1/accounts/{quote(username, safe='')}/incidents", json=body
    )
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    if answer.status_code >= 400:
        faults = identity_faults(fields, answer.json().get("detail"))
        return await _page(
            request, visit, username, incident_fields=fields, faults=faults, status_code=answer.status_code
        )
    return _back(request, username, done="reported")


@router.post("/accounts/{username}/reset", name="web_account_reset")
async def reset(request: Request, username: str) -> Response:
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    answer = await identity_call(request, visit, "POST", f"/v1/accounts/{quote(username, safe='')}/reset")
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    if answer.status_code >= 400:
        faults = identity_faults([], answer.json().get("detail"))
        return await _page(request, visit, username, faults=faults, status_code=answer.status_code)
    return _back(request, username, done="reset", sent_to=answer.json().get("delivered_to", ""))


def granted_tiers(visit: Visit) -> list[Tier]:
    """The tiers the page offers to grant: what the caller's admin tier issues (identity decides)."""
    offered: list[Tier] = []
    for admin_tier, tiers in ISSUED_TIERS.items():
        if visit.principal.has_any_role((admin_tier,)):
            offered += [t for t in tiers if t not in offered]
    return offered


async def _act(request: Request, username: str, method: str, path: str | None, done: str) -> Response:
    """An account admin's change of the account, as identity decides it; its refusal above the page.
    `path` None: the tier to grant is the one the form chose."""
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    if path is None:
        tier = sent.get("tier", "")
        if tier not in {t.value for t in granted_tiers(visit)}:
            return await _page(request, visit, username, faults=["Chọn một quyền để cấp"], status_code=422)
        path = f"/tiers/{tier}"
    answer = await identity_call(request, visit, method, f"/v1/accounts/{quote(username, safe='')}{path}")
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    if answer.status_code >= 400:
        faults = identity_faults([], answer.json().get("detail"))
        return await _page(request, visit, username, faults=faults, status_code=answer.status_code)
    return _back(request, username, done=done)


@router.post("/accounts/{username}/disable", name="web_account_disable")
async def disable(request: Request, username: str) -> Response:
    return await _act(request, username, "POST", "/disable", "disabled")


@router.post("/accounts/{username}/enable", name="web_account_enable")
async def enable(request: Request, username: str) -> Response:
    return await _act(request, username, "POST", "/enable", "enabled")


@router.post("/accounts/{username}/tiers", name="web_account_grant")
async def grant(request: Request, username: str) -> Response:
    return await _act(request, username, "PUT", None, "granted")


@router.post("/accounts/{username}/tiers/{tier}/revoke", name="web_account_revoke")
async def revoke(request: Request, username: str, tier: str) -> Response:
    return await _act(request, username, "DELETE", f"/tiers/{quote(tier, safe='')}", "revoked")
