"""Delegated rights (R-TIER-4): the delegations in force as identity lists them to the caller (all of
them to the sector's tiers, those to its own unit to a unit's accounts), each with who may use it,
over which records, which sections and actions, from when to when and on what grounds; and, for the
system admin and the sector's HR department, which grant and revoke them, the form to grant one over
a unit subtree and the revocation of each. Identity decides every grant and revocation, as its REST
API does (no delegation of a right the grantor lacks; one in force within seconds everywhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qlcb_common.tiers import Tier
from qlcb_gateway.routes.organisation import list_units
from qlcb_gateway.schemas import UnitPublic
from qlcb_gateway.web.entry_form import FormField, checked
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

GRANTORS = (Tier.SYSTEM_ADMIN, Tier.SECTOR_HR)
"""The tiers identity lets grant and revoke delegations."""
DELEGABLE_TIERS = (Tier.HQ_DEPARTMENT, Tier.HQ_UNIT, Tier.LOCAL_ADMIN, Tier.LOCAL_OFFICER, Tier.UNIT_LEADER)
SECTION_LABELS = {
    "unit": "Tổ chức bộ máy",
    "identity": "Sơ yếu lý lịch",
    "work_history": "Quá trình công tác",
    "movement": "Biến động, điều động",
    "salary": "Ngạch, bậc, lương, phụ cấp",
    "training": "Đào tạo, bồi dưỡng",
    "evaluation": "Đánh giá, xếp loại",
    "rewards_discipline": "Khen thưởng, kỷ luật",
    "asset_declaration": "Kê khai tài sản",
    "labour_contract": "Hợp đồng lao động",
    "family": "Quan hệ gia đình",
    "reports": "Báo cáo",
}
ACTION_LABELS = {"read": "Xem", "create": "Thêm", "update": "Sửa", "export": "Xuất tệp"}
CHOSEN = {"tiers": "tier", "sections": "section", "actions": "action"}
"""Each list the form sends as checkboxes, by the prefix of their names (`tier.local-admin`)."""


@dataclass
class GrantForm:
    """The grant form as the page draws it: its typed fields, the boxes ticked and the fault of each list."""

    fields: list[FormField]
    ticked: dict[str, set[str]] = field(default_factory=lambda: {name: set() for name in CHOSEN})
    errors: dict[str, str] = field(default_factory=dict)


def _blank() -> GrantForm:
    return GrantForm(
        [
            FormField("unit_code", "Mã đơn vị được ủy quyền", "text", required=True, max_length=50),
            FormField("target_code", "Mã đơn vị có hồ sơ được ủy quyền (cả cây đơn vị)", "text", True, max_length=50),
            FormField("valid_from", "Hiệu lực từ ngày", "date", required=True),
            FormField("valid_to", "Hiệu lực đến hết ngày (trống: không thời hạn)", "date", required=False),
            FormField("reason", "Căn cứ ủy quyền (số, ngày quyết định)", "textarea", required=True, max_length=1000),
        ]
    )


def _shown(item: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    target = item.get("target_unit_path")
    return {
        **item,
        "unit_name": names.get(item["unit_path"], item["unit_path"]),
        "tier_labels": [TIER_LABELS.get(Tier(t), t) for t in item["tiers"]],
        "section_labels": [SECTION_LABELS.get(s, s) for s in item["sections"]],
        "action_labels": [ACTION_LABELS.get(a, a) for a in item["actions"]],
        "target_name": names.get(target, target) if target else None,
        "from_day": date.fromisoformat(item["valid_from"]),
        "to_day": date.fromisoformat(item["valid_to"]) if item.get("valid_to") else None,
        "granted": datetime.fromisoformat(item["granted_at"]),
    }


async def _page(
    request: Request,
    visit: Visit,
    *,
    form: GrantForm | None = None,
    faults: list[str] | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    answer = await identity_call(request, visit, "GET", "/v1/delegations")
    if answer.status_code in (401, 403):
        return error_page(request, 403)
    if answer.status_code >= 400:
        raise BackendDown(f"identity answered {answer.status_code}")
    units = await list_units(visit.principal, backends_of(request))
    names = {u.path: u.name for u in units}
    context = {
        "items": [_shown(item, names) for item in answer.json()],
        "grants": visit.principal.has_any_role(GRANTORS),
        "form": form or _blank(),
        "tiers": [(t.value, TIER_LABELS[t]) for t in DELEGABLE_TIERS],
        "sections": list(SECTION_LABELS.items()),
        "actions": list(ACTION_LABELS.items()),
        "faults": faults or [],
        "done": {"granted": "Đã ủy quyền.", "revoked": "Đã thu hồi ủy quyền."}.get(done, ""),
    }
    return render(request, visit, "delegations.html", context, status_code=status_code)


@router.get("/delegations", name="web_delegations")
async def delegations(request: Request, done: str = "") -> Response:
    visit = await signed_in(request)
    return await _page(request, visit, done=done)


def _path_of(units: list[UnitPublic], code: str) -> str | None:
    return next((u.path for u in units if u.code.casefold() == code.casefold()), None)


def _filled(sent: dict[str, str], units: list[UnitPublic]) -> tuple[GrantForm, dict[str, Any] | None]:
    """The form with what was sent and the fault of each field; identity's body when none is at fault."""
    form = _blank()
    given = checked(form.fields, sent)
    for name, prefix in CHOSEN.items():
        form.ticked[name] = {key.split(".", 1)[1] for key in sent if key.startswith(f"{prefix}.")}
        if not form.ticked[name]:
            form.errors[name] = "Chọn ít nhất một"
    by_name = {f.name: f for f in form.fields}
    paths = {}
    for name in ("unit_code", "target_code"):
        code = by_name[name].value
        paths[name] = _path_of(units, code) if code else None
        if code and paths[name] is None and not by_name[name].error:
            by_name[name].error = "Không có đơn vị mã này trong phạm vi của bạn"
    if given is None or form.errors or any(f.error for f in form.fields):
        return form, None
    body = {
        "unit_path": paths["unit_code"],
        "tiers": sorted(form.ticked["tiers"]),
        "records": {"unit_path": paths["target_code"]},
        "sections": sorted(form.ticked["sections"]),
        "actions": sorted(form.ticked["actions"]),
        "valid_from": given["valid_from"],
        "valid_to": given.get("valid_to") or None,
        "reason": given["reason"],
    }
    return form, body


FIELD_OF = {"unit_path": "unit_code", "records": "target_code", "valid_from": "valid_from", "valid_to": "valid_to"}
"""Identity's body fields, by the form field a refusal of each is shown beside."""


def _refused(form: GrantForm, detail: Any) -> list[str]:
    """Identity's refusal beside the field it names (by the first part of its location after the body)."""
    if not isinstance(detail, list):
        return [str(detail.get("message", "")) if isinstance(detail, dict) else str(detail)]
    by_name = {f.name: f for f in form.fields}
    elsewhere = []
    for fault in detail:
        where = [str(part) for part in fault.get("loc", [])[1:]]
        named = where[0] if where else ""
        message = str(fault.get("msg", ""))
        if named in CHOSEN:
            form.errors[named] = message
        elif named in FIELD_OF or named == "reason":
            target = by_name[FIELD_OF.get(named, named)]
            target.error = message
        else:
            elsewhere.append(message)
    return elsewhere


@router.post("/delegations", name="web_delegation_grant")
async def grant(request: Request) -> Response:
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    units = await list_units(visit.principal, backends_of(request))
    form, body = _filled(sent, units)
    if body is None:
        return await _page(request, visit, form=form, status_code=422)
    answer = await identity_call(request, visit, "POST", "/v1/delegations", json=body)
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    if answer.status_code >= 400:
        faults = _refused(form, answer.json().get("detail"))
        return await _page(request, visit, form=form, faults=faults, status_code=answer.status_code)
    target = page_url(request, "web_delegations").include_query_params(done="granted")
    return RedirectResponse(f"{target}#delegation-{answer.json()['id']}", status_code=303)


@router.post("/delegations/{delegation_id}/revoke", name="web_delegation_revoke")
async def revoke(request: Request, delegation_id: str) -> Response:
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    answer = await identity_call(request, visit, "DELETE", f"/v1/delegations/{delegation_id}")
    if answer.status_code == 404:
        return error_page(request, 404)
    if answer.status_code >= 500:
        raise BackendDown(f"identity answered {answer.status_code}")
    if answer.status_code >= 400:
        faults = _refused(_blank(), answer.json().get("detail"))
        return await _page(request, visit, faults=faults, status_code=answer.status_code)
    target = page_url(request, "web_delegations").include_query_params(done="revoked")
    return RedirectResponse(str(target), status_code=303)
