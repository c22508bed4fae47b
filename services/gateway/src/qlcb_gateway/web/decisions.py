"""Decisions and their effect (R-PER-3): the decisions about a unit's people (and those of the units
below) or about one person, newest first; one decision with the people it names that the caller may
read and what it recorded for each; and its cancellation (a reason, the cancelling decision's number,
at the version the page showed), which personnel applies to every record it changed or refuses."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

import grpc
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from qlcb.personnel.v1 import decision_pb2
from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import may_at_all
from qlcb_common.decision_kinds import KINDS, DecisionKind
from qlcb_gateway.routes.decisions import (
    DecisionPublic,
    DecisionsPage,
    get_decision,
    person_decisions,
    unit_decisions,
)
from qlcb_gateway.routes.organisation import get_person, get_unit
from qlcb_gateway.web.decision_form import offered_kinds
from qlcb_gateway.web.entry_form import FormField, checked, refusal_faults
from qlcb_gateway.web.names import people_names
from qlcb_gateway.web.pages import (
    Visit,
    account_names,
    backends_of,
    catalog_labels,
    delegations_of,
    error_page,
    form_version,
    posted_form,
    render,
    shown_values,
    signed_in,
    unit_in_reach,
)
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

KIND_OF = {kind.name: kind for kind in KINDS}
STATE_LABELS = {
    "pending": "Chờ ngày hiệu lực",
    "applied": "Đã áp dụng",
    "failed": "Không áp dụng được",
    "cancelled": "Đã hủy",
}
REASON_MAX = 500
NUMBER_MAX = 100


def _kind_label(name: str) -> str:
    kind = KIND_OF.get(name)
    return kind.label if kind is not None else name


def may_cancel(visit: Visit, decision: DecisionPublic) -> bool:
    """Whether the page offers the cancellation: the decision still stands and the caller's tier may
    change the kind's section somewhere (personnel checks every person it names)."""
    if decision.state not in ("pending", "applied"):
        return False
    kind = KIND_OF.get(decision.kind)
    section = kind.record_section if kind is not None else None
    return may_at_all(visit.principal, section.authz if section is not None else Section.MOVEMENT, Action.UPDATE)


@dataclass(frozen=True)
class ListedDecision:
    decision: DecisionPublic
    kind: str
    state: str


def _listed(found: list[DecisionPublic]) -> list[ListedDecision]:
    return [ListedDecision(d, _kind_label(d.kind), STATE_LABELS[d.state]) for d in found]


PAGE_SIZE = 50


def _pages(request: Request, page: DecisionsPage, after: str) -> dict[str, str | None]:
    """The links to the next page (the listing's own token) and back to the first."""
    asked = {k: v for k, v in request.query_params.items() if k != "after"}
    following = urlencode(asked | {"after": page.next_page_token}) if page.next_page_token else None
    return {
        "next_link": f"{request.url.path}?{following}" if following else None,
        "first_link": f"{request.url.path}?{urlencode(asked)}" if after else None,
    }


@router.get("/units/{unit_id}/decisions", name="web_unit_decisions")
async def of_unit(request: Request, unit_id: str, subtree: str = "", after: str = "") -> Response:
    visit = await signed_in(request)
    backends = backends_of(request)
    unit, delegations = await asyncio.gather(
        get_unit(unit_id, visit.principal, backends), delegations_of(request, visit)
    )
    try:
        found = await unit_decisions(
            unit_id,
            visit.principal,
            backends,
            include_subtree=subtree == "1",
            page_size=PAGE_SIZE,
            page_token=after[:200],
        )
    except RequestValidationError:
        return error_page(request, 422, "Không có trang này", "Hãy mở lại danh sách từ trang đầu.")
    context = {
        "title": f"Quyết định — {unit.name}",
        "unit": unit,
        "subtree": subtree == "1",
        "person": None,
        "may_decide": bool(offered_kinds(visit, delegations, unit.path)),
    }
    pages = _pages(request, found, after)
    return render(request, visit, "decisions.html", context | pages | {"decisions": _listed(found.items)})


@router.get("/persons/{person_id}/decisions", name="web_person_decisions")
async def of_person(request: Request, person_id: str, after: str = "") -> Response:
    visit = await signed_in(request)
    backends = backends_of(request)
    person, delegations = await asyncio.gather(
        get_person(person_id, visit.principal, backends), delegations_of(request, visit)
    )
    unit = await unit_in_reach(request, visit, person.unit_id)
    try:
        found = await person_decisions(
            person_id, visit.principal, backends, page_size=PAGE_SIZE, page_token=after[:200]
        )
    except RequestValidationError:
        return error_page(request, 422, "Không có trang này", "Hãy mở lại danh sách từ trang đầu.")
    context = {
        "title": f"Quyết định — {person.full_name}",
        "unit": None,
        "subtree": False,
        "person": person,
        "may_decide": bool(offered_kinds(visit, delegations, unit.path if unit else None, person)),
    }
    pages = _pages(request, found, after)
    return render(request, visit, "decisions.html", context | pages | {"decisions": _listed(found.items)})


@dataclass(frozen=True)
class NamedItem:
    person_id: str
    name: str | None
    values: list[tuple[str, str]]
    valid_to: date | None
    recorded: bool


def _cancel_form() -> list[FormField]:
    return [
        FormField("reason", "Lý do hủy", "textarea", required=True, max_length=REASON_MAX),
        FormField("cancel_number", "Số quyết định hủy bỏ (nếu có)", "text", required=False, max_length=NUMBER_MAX),
    ]


async def _page(
    request: Request,
    visit: Visit,
    decision: DecisionPublic,
    fields: list[FormField],
    faults: list[str],
    status_code: int = 200,
) -> Response:
    kind: DecisionKind | None = KIND_OF.get(decision.kind)
    section = kind.record_section if kind is not None else None
    names, labels, accounts = await asyncio.gather(
        people_names(request, visit, [item.person_id for item in decision.items]),
        catalog_labels(request, visit, [section] if section is not None else []),
        account_names(request, visit, [decision.created_by, decision.cancelled_by or ""]),
    )
    items = [
        NamedItem(
            item.person_id,
            names.get(item.person_id),
            shown_values(section, item.values, labels) if section is not None else [],
            item.valid_to,
            item.entry_id is not None,
        )
        for item in decision.items
    ]
    return render(
        request,
        visit,
        "decision.html",
        {
            "decision": decision,
            "kind": _kind_label(decision.kind),
            "state": STATE_LABELS[decision.state],
            "items": items,
            "unseen": decision.people_total - len(items),
            "may_cancel": may_cancel(visit, decision),
            "created_by": accounts.get(decision.created_by, decision.created_by),
            "cancelled_by": accounts.get(decision.cancelled_by or "", decision.cancelled_by),
            "fields": fields,
            "faults": faults,
        },
        status_code=status_code,
    )


async def _decision(request: Request, visit: Visit, decision_id: str) -> DecisionPublic:
    return await get_decision(decision_id, visit.principal, backends_of(request), Response())


@router.get("/decisions/{decision_id}", name="web_decision")
async def one(request: Request, decision_id: str) -> Response:
    visit = await signed_in(request)
    return await _page(request, visit, await _decision(request, visit, decision_id), _cancel_form(), [])


@router.post("/decisions/{decision_id}/cancel", name="web_decision_cancel")
async def cancel(request: Request, decision_id: str) -> Response:
    """Cancels the decision at the version the page was drawn from; one changed or cancelled since
    (by another officer, or this form sent twice) is said on the page (409) with the decision as it
    now stands."""
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    version = form_version(sent)
    if version is None:
        return error_page(request, 400, "Biểu mẫu không đúng", "Thiếu phiên bản của quyết định đang hủy.")
    fields = _cancel_form()
    given = checked(fields, sent)
    backends = backends_of(request)
    if given is not None:
        try:
            await backends.decisions.CancelDecision(
                decision_pb2.CancelDecisionRequest(
                    decision_id=decision_id,
                    expected_version=version,
                    reason=given["reason"],
                    cancel_number=given.get("cancel_number", ""),
                ),
                **backends.call_options(visit.principal.token),
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.INVALID_ARGUMENT:
                faults = refusal_faults(fields, exc)
                return await _page(request, visit, await _decision(request, visit, decision_id), fields, faults, 422)
            if exc.code() in (grpc.StatusCode.ABORTED, grpc.StatusCode.FAILED_PRECONDITION):
                now = await _decision(request, visit, decision_id)
                return await _page(request, visit, now, fields, [exc.details() or ""], 409)
            raise
        return RedirectResponse(str(page_url(request, "web_decision", decision_id=decision_id)), status_code=303)
    return await _page(request, visit, await _decision(request, visit, decision_id), fields, [], 422)
