"""A unit's purpose accounts quotas (R-ACC-3) and issuing one (R-ACC-2), reached from the purpose
accounts of a unit: how many accounts of each kind the unit may hold and has; for its account admin
(the system admin, or the local admin of a unit in its subtree) the form that issues one for a
purpose within the quota, and for the system admin the form that sets a quota. Identity decides
both and its refusals are said beside the fields or above the form; a new account goes to its page,
where it is handed to its first holder."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qlcb_common.tiers import Tier, in_subtree
from qlcb_gateway.routes.organisation import get_unit
from qlcb_gateway.schemas import UnitPublic
from qlcb_gateway.web.entry_form import FormField, checked, identity_faults
from qlcb_gateway.web.pages import (
    TIER_LABELS,
    BackendDown,
    Visit,
    backends_of,
    identity_call,
    posted_form,
    render,
    signed_in,
)
from qlcb_gateway.web.purpose_accounts import refused_read
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

KIND_LABELS = {"user": "Tài khoản người dùng", "admin": "Tài khoản quản trị"}
ISSUED_TIERS = {
    Tier.SYSTEM_ADMIN: (Tier.LOCAL_OFFICER, Tier.LOCAL_ADMIN, Tier.UNIT_LEADER, Tier.HQ_UNIT, Tier.HQ_DEPARTMENT),
    Tier.LOCAL_ADMIN: (Tier.LOCAL_OFFICER,),
}
"""The tiers the issue form offers each account admin (identity decides what it may grant)."""
LIMIT_MAX = 1000


def offered_tiers(visit: Visit, unit: UnitPublic) -> list[Tier]:
    """What the issue form offers: the system admin anywhere, a local admin in its own subtree."""
    principal = visit.principal
    if principal.has_any_role((Tier.SYSTEM_ADMIN,)):
        return list(ISSUED_TIERS[Tier.SYSTEM_ADMIN])
    if principal.has_any_role((Tier.LOCAL_ADMIN,)) and in_subtree(unit.path, principal.unit_path or ""):
        return list(ISSUED_TIERS[Tier.LOCAL_ADMIN])
    return []


def _issue_fields(tiers: list[Tier]) -> list[FormField]:
    choices = [(tier.value, TIER_LABELS[tier]) for tier in tiers]
    return [
        FormField("purpose", "Mục đích (như Nhân sự 1)", "text", required=True, max_length=100),
        FormField("tier", "Vai trò", "choice", required=True, choices=choices),
    ]


def _quota_fields() -> list[FormField]:
    return [
        FormField("kind", "Loại tài khoản", "choice", required=True, choices=list(KIND_LABELS.items())),
        FormField("limit", "Định mức", "integer", required=True, minimum=0, maximum=LIMIT_MAX),
    ]


async def _page(
    request: Request,
    visit: Visit,
    unit_id: str,
    *,
    issue_fields: list[FormField] | None = None,
    quota_fields: list[FormField] | None = None,
    faults: list[str] | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    unit = await get_unit(unit_id, visit.principal, backends_of(request))
    answer = await identity_call(request, visit, "GET", "/v1/quotas", params={"unit_path": unit.path})
    refused = refused_read(request, answer)
    if refused is not None:
        return refused
    quotas = [q | {"kind_label": KIND_LABELS.get(q["kind"], q["kind"])} for q in answer.json()]
    tiers = offered_tiers(visit, unit)
    context = {
        "unit": unit,
        "quotas": quotas,
        "issue_fields": (issue_fields or _issue_fields(tiers)) if tiers else None,
        "quota_fields": (quota_fields or _quota_fields())
        if visit.principal.has_any_role((Tier.SYSTEM_ADMIN,))
        else None,
        "faults": faults or [],
        "done": "Đã đặt định mức." if done == "quota" else "",
    }
    return render(request, visit, "unit_accounts.html", context, status_code=status_code)


@router.get("/purpose-accounts/units/{unit_id}", name="web_unit_accounts")
async def unit_accounts(request: Request, unit_id: str, done: str = "") -> Response:
    visit = await signed_in(request)
    return await _page(request, visit, unit_id, done=done)


async def _sent(request: Request, unit_id: str, what: str) -> Response:
    """Issues an account or sets a quota, as the form posted asks; identity's refusal said on the page."""
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    unit = await get_unit(unit_id, visit.principal, backends_of(request))
    fields = _issue_fields(offered_tiers(visit, unit)) if what == "issue" else _quota_fields()
    issue_fields, quota_fields = (fields, None) if what == "issue" else (None, fields)
    given = checked(fields, sent)
    if given is None:
        return await _page(
            request, visit, unit_id, issue_fields=issue_fields, quota_fields=quota_fields, status_code=422
        )
    body = {"unit_path": unit.path} | {k: v for k, v in given.items() if k not in ("values", "decision")}
    method, path = ("POST", "/v1/purpose-accounts") if what == "issue" else ("PUT", "/v1/quotas")
    answer = await identity_call(request, visit, method, path, json=body)
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    if answer.status_code >= 400:
        faults = identity_faults(fields, answer.json().get("detail"))
        return await _page(
            request,
            visit,
            unit_id,
            issue_fields=issue_fields,
            quota_fields=quota_fields,
            faults=faults,
            status_code=answer.status_code,
        )
    if what == "issue":
        account_id = answer.json()["account"]["id"]
        target = page_url(request, "web_purpose_account", account_id=account_id).include_query_params(done="issued")
    else:
        target = page_url(request, "web_unit_accounts", unit_id=unit_id).include_query_params(done="quota")
    return RedirectResponse(str(target), status_code=303)


@router.post("/purpose-accounts/units/{unit_id}/issue", name="web_unit_account_issue")
async def issue(request: Request, unit_id: str) -> Response:
    return await _sent(request, unit_id, "issue")


@router.post("/purpose-accounts/units/{unit_id}/quota", name="web_unit_account_quota")
async def set_quota(request: Request, unit_id: str) -> Response:
    return await _sent(request, unit_id, "quota")
