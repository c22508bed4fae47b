"""A unit's staffing quota (biên chế, R-ORG-3) of a year, reached from the unit tree: what it was
given against the people in service today, what it handed to the units right below it, every time it
was given, changed or corrected; and, for those who give quotas (the level above, the sector's tiers
for a top unit), the form that gives it by a decision. Personnel decides whether the figure fits
what the parent has left and what the unit has already handed down, and says why not."""

from __future__ import annotations

import asyncio
from datetime import datetime

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qlcb.personnel.v1 import quota_pb2
from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import Delegation, permits
from qlcb_common.days import VIETNAM
from qlcb_common.personnel_rules import MAX_QUOTA, QUOTA_YEARS
from qlcb_gateway.routes.organisation import get_unit
from qlcb_gateway.routes.quotas import quota_history, quota_report
from qlcb_gateway.schemas import QuotaChangeKind, UnitPublic
from qlcb_gateway.web.entry_form import FormField, checked, refusal_faults
from qlcb_gateway.web.pages import (
    Visit,
    account_names,
    backends_of,
    delegations_of,
    posted_form,
    render,
    signed_in,
    unit_in_reach,
)
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

CHANGE_LABELS = {
    QuotaChangeKind.ASSIGNED: "Giao lần đầu",
    QuotaChangeKind.CHANGED: "Thay đổi",
    QuotaChangeKind.CORRECTED: "Đính chính",
}


def _this_year() -> int:
    return datetime.now(VIETNAM).year


def _year(asked: str) -> int:
    """The year a link or the year box asks for; this year for anything that is not one."""
    if asked.isascii() and asked.isdigit() and QUOTA_YEARS[0] <= int(asked) <= QUOTA_YEARS[1]:
        return int(asked)
    return _this_year()


def _form() -> list[FormField]:
    return [
        FormField("quota", "Số biên chế được giao", "integer", required=True, minimum=0, maximum=MAX_QUOTA),
        FormField("effective_date", "Ngày hiệu lực", "date", required=True),
        FormField("decision", "Số quyết định", "text", required=True, max_length=100),
    ]


def may_give(visit: Visit, unit: UnitPublic, parent: UnitPublic | None, delegations: list[Delegation]) -> bool:
    """Whether the page offers the form: the caller may change the unit and the unit it is given
    from (personnel checks both again, and for a top unit that the caller is of the sector)."""
    principal = visit.principal
    if not permits(principal, Section.UNIT, Action.UPDATE, unit.path, delegations=delegations):
        return False
    return parent is None or permits(principal, Section.UNIT, Action.UPDATE, parent.path, delegations=delegations)


async def _page(
    request: Request,
    visit: Visit,
    unit_id: str,
    year: int,
    fields: list[FormField] | None = None,
    faults: list[str] | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    backends = backends_of(request)
    unit, report, history, delegations = await asyncio.gather(
        get_unit(unit_id, visit.principal, backends),
        quota_report(unit_id, year, visit.principal, backends, include_subtree=True),
        quota_history(unit_id, year, visit.principal, backends),
        delegations_of(request, visit),
    )
    parent = await unit_in_reach(request, visit, unit.parent_id) if unit.parent_id else None
    names = await account_names(request, visit, [change.recorded_by for change in history])
    offered = may_give(visit, unit, parent, delegations)
    line = report.items[0]
    return render(
        request,
        visit,
        "unit_quota.html",
        {
            "unit": unit,
            "parent": parent,
            "year": year,
            "line": line,
            "as_of": report.as_of,
            "below": [item for item in report.items if item.parent_id == unit.id],
            "history": list(reversed(history)),
            "change_labels": CHANGE_LABELS,
            "names": names,
            "offered": offered,
            "fields": fields if fields is not None else _form(),
            "faults": faults or [],
            "done": done,
            "years": (year - 1, year + 1),
        },
        status_code=status_code,
    )


@router.get("/units/{unit_id}/quota", name="web_unit_quota")
async def quota(request: Request, unit_id: str, year: str = "", done: str = "") -> Response:
    visit = await signed_in(request)
    said = "Đã ghi biên chế." if done == "1" else ""
    return await _page(request, visit, unit_id, _year(year), done=said)


@router.post("/units/{unit_id}/quota", name="web_unit_quota_set")
async def give(request: Request, unit_id: str, year: str = "") -> Response:
    """Gives the unit its quota of the year by the decision typed; its refusals said beside the
    fields or above the form, what was typed kept."""
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    asked_year = _year(year)
    fields = _form()
    given = checked(fields, sent)
    if given is None:
        return await _page(request, visit, unit_id, asked_year, fields, status_code=422)
    backends = backends_of(request)
    try:
        await backends.quotas.SetUnitQuota(
            quota_pb2.SetUnitQuotaRequest(
                unit_id=unit_id,
                year=asked_year,
                quota=given["quota"],
                effective_date=given["effective_date"],
                decision=given["decision"],
            ),
            **backends.call_options(visit.principal.token),
        )
    except grpc.aio.AioRpcError as exc:
        refusals = {grpc.StatusCode.FAILED_PRECONDITION: 409, grpc.StatusCode.PERMISSION_DENIED: 403}
        if exc.code() is grpc.StatusCode.INVALID_ARGUMENT:
            faults = refusal_faults(fields, exc)
            return await _page(request, visit, unit_id, asked_year, fields, faults, status_code=422)
        if exc.code() not in refusals:
            raise
        faults = [exc.details() or ""]
        return await _page(request, visit, unit_id, asked_year, fields, faults, status_code=refusals[exc.code()])
    target = page_url(request, "web_unit_quota", unit_id=unit_id).include_query_params(year=asked_year, done=1)
    return RedirectResponse(str(target), status_code=303)
