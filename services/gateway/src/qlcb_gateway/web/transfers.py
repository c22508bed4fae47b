"""Transfers (R-PER-3): sending a person's record to another unit from the record page, and a unit's
transfers: those waiting for it to accept or decline, those it sent and may withdraw, and what became
of the rest; each action a form with the session's CSRF token, sent to personnel as the REST routes
send it, which decides (the unit's side, the person in reach, the transfer still open)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import permits
from qlcb_gateway.routes.organisation import get_person, get_unit, list_units, unit_directory
from qlcb_gateway.routes.transfers import (
    accept_transfer,
    decline_transfer,
    list_transfers,
    send_transfer,
    withdraw_transfer,
)
from qlcb_gateway.schemas import (
    PersonPublic,
    TransferDecline,
    TransferDirection,
    TransferPublic,
    TransferSend,
    TransferStatus,
    TransferWithdrawal,
    UnitPublic,
)
from qlcb_gateway.web.entry_form import FormField, checked, refusal_faults, refused
from qlcb_gateway.web.names import people_names, unit_names
from qlcb_gateway.web.pages import (
    Visit,
    backends_of,
    delegations_of,
    error_page,
    may_send,
    posted_form,
    render,
    signed_in,
)
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

STATUS_LABELS = {
    TransferStatus.SENT: "Chờ tiếp nhận",
    TransferStatus.ACCEPTED: "Đã tiếp nhận",
    TransferStatus.DECLINED: "Bị từ chối",
    TransferStatus.WITHDRAWN: "Đã thu hồi",
}
REASON_MAX = 1000
DECISION_MAX = 100


@dataclass(frozen=True)
class ShownTransfer:
    transfer: TransferPublic
    person: str | None  # None: outside what the caller may read (after the move, say)
    from_unit: str | None
    to_unit: str | None
    status: str


async def _names(visit: Visit, request: Request, transfers: list[TransferPublic]) -> dict[str, str]:
    """The people's and units' names the caller may read, by id."""
    people, units = await asyncio.gather(
        people_names(request, visit, [t.person_id for t in transfers]),
        unit_names(request, visit, [u for t in transfers for u in (t.from_unit_id, t.to_unit_id)]),
    )
    return people | units


def _waiting_first(transfers: list[TransferPublic]) -> list[TransferPublic]:
    """Those still open first; otherwise as personnel lists them (newest first)."""
    return sorted(transfers, key=lambda t: t.status is not TransferStatus.SENT)


@router.get("/units/{unit_id}/transfers", name="web_transfers")
async def transfers(request: Request, unit_id: str, subtree: str = "") -> Response:
    """`subtree=1`: also those of the units below (a move between two of them shows on both sides)."""
    visit = await signed_in(request)
    return await _page(request, visit, unit_id, subtree == "1", [])


async def _page(
    request: Request, visit: Visit, unit_id: str, subtree: bool, faults: list[str], status_code: int = 200
) -> Response:
    backends = backends_of(request)
    unit = await get_unit(unit_id, visit.principal, backends)

    async def listed(direction: TransferDirection) -> list[TransferPublic]:
        return await list_transfers(unit_id, visit.principal, backends, direction=direction, include_subtree=subtree)

    incoming, outgoing = await asyncio.gather(listed(TransferDirection.INCOMING), listed(TransferDirection.OUTGOING))
    names = await _names(visit, request, incoming + outgoing)

    def shown(items: list[TransferPublic]) -> list[ShownTransfer]:
        return [
            ShownTransfer(
                t, names.get(t.person_id), names.get(t.from_unit_id), names.get(t.to_unit_id), STATUS_LABELS[t.status]
            )
            for t in _waiting_first(items)
        ]

    return render(
        request,
        visit,
        "transfers.html",
        {
            "unit": unit,
            "incoming": shown(incoming),
            "outgoing": shown(outgoing),
            "subtree": subtree,
            "may_decide": permits(visit.principal, Section.MOVEMENT, Action.UPDATE, unit.path),
            "faults": faults,
            "reason_max": REASON_MAX,
        },
        status_code=status_code,
    )


@router.post("/units/{unit_id}/transfers/{transfer_id}/{action}", name="web_transfer_action")
async def act(request: Request, unit_id: str, transfer_id: str, action: str) -> Response:
    """Accepts, declines (with a reason) or withdraws (with a reason), then shows the unit's
    transfers again; a reason missing or too long, or a transfer already decided, is said on the page."""
    visit = await signed_in(request)
    if action not in ("accept", "decline", "withdraw"):
        return error_page(request, 404)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    backends = backends_of(request)
    subtree = sent.get("subtree") == "1"
    reason = sent.get("reason", "").strip()
    if action != "accept" and not reason:
        what = "từ chối" if action == "decline" else "thu hồi"
        return await _page(request, visit, unit_id, subtree, [f"Cần ghi lý do {what}"], status_code=422)
    if len(reason) > REASON_MAX:
        return await _page(request, visit, unit_id, subtree, [f"Lý do dài quá {REASON_MAX} ký tự"], status_code=422)
    try:
        if action == "accept":
            await accept_transfer(transfer_id, visit.principal, backends)
        elif action == "decline":
            await decline_transfer(transfer_id, TransferDecline(reason=reason), visit.principal, backends)
        else:
            await withdraw_transfer(transfer_id, TransferWithdrawal(reason=reason), visit.principal, backends)
    except ValidationError:
        return await _page(request, visit, unit_id, subtree, ["Lý do có ký tự không dùng được"], status_code=422)
    except grpc.aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT):
            return await _page(request, visit, unit_id, subtree, [exc.details() or ""], status_code=409)
        raise
    target = page_url(request, "web_transfers", unit_id=unit_id)
    return RedirectResponse(str(target.include_query_params(subtree="1") if subtree else target), status_code=303)


FIND_MAX = 100


@dataclass
class Receiving:
    """The send form, and the search of the sector's directory for a receiving unit outside the
    caller's tree: what was asked, how many it found, or why it was refused."""

    fields: list[FormField]
    find: str = ""
    found: int = 0
    find_fault: str = ""


async def _send_form(request: Request, visit: Visit, person: PersonPublic, find: str = "") -> Receiving:
    """The receiving unit is picked among the units the caller reaches, in tree order, but the
    person's own and those dissolved; and, when a unit outside was asked for by code or name,
    among those the directory finds (one found is picked already)."""
    found = await list_units(visit.principal, backends_of(request))
    receiving = [
        (u.id, f"{u.name} ({u.code})")
        for u in sorted(found, key=lambda u: u.path.split("/"))
        if u.id != person.unit_id and u.dissolved_on is None
    ]
    form = Receiving([], find.strip()[:FIND_MAX])
    if form.find:
        try:
            outside = await unit_directory(visit.principal, backends_of(request), q=form.find, limit=50)
        except RequestValidationError as exc:
            form.find_fault = "; ".join(str(e.get("msg", "")) for e in exc.errors()) or "Không tìm được"
            outside = []
        known = {value for value, _ in receiving}
        extra = [(u.id, f"{u.name} ({u.code}) — ngoài phạm vi") for u in outside if u.id not in known]
        extra = [(i, label) for i, label in extra if i != person.unit_id]
        form.found = len(outside)
        receiving = extra + receiving
    form.fields = [
        FormField(
            "to_unit_id",
            "Đơn vị nhận",
            "choice",
            required=True,
            choices=receiving,
            value=receiving[0][0] if form.find and form.found == 1 and receiving else "",
        ),
        FormField("effective_date", "Ngày hiệu lực", "date", required=True),
        FormField("decision", "Số quyết định điều động", "text", required=True, max_length=DECISION_MAX),
    ]
    return form


def _send_page(
    request: Request,
    visit: Visit,
    person: PersonPublic,
    unit: UnitPublic,
    form: Receiving,
    faults: list[str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        visit,
        "transfer_send.html",
        {"person": person, "unit": unit, "form": form, "fields": form.fields, "faults": faults},
        status_code=status_code,
    )


async def _sender(request: Request, visit: Visit, person_id: str) -> tuple[PersonPublic, UnitPublic] | Response:
    backends = backends_of(request)
    person = await get_person(person_id, visit.principal, backends)
    unit = await get_unit(person.unit_id, visit.principal, backends)
    if not may_send(visit, person, unit, await delegations_of(request, visit)):
        return error_page(request, 403)
    return person, unit


@router.get("/persons/{person_id}/transfer", name="web_transfer_new")
async def new_transfer(request: Request, person_id: str, find: str = "") -> Response:
    visit = await signed_in(request)
    found = await _sender(request, visit, person_id)
    if isinstance(found, Response):
        return found
    person, unit = found
    form = await _send_form(request, visit, person, find)
    return _send_page(request, visit, person, unit, form, [], 422 if form.find_fault else 200)


@router.post("/persons/{person_id}/transfer", name="web_transfer_send")
async def send(request: Request, person_id: str) -> Response:
    """Sends the record, then shows the sending unit's transfers. A second send of the same form
    (twice clicked, or sent again from the browser's history) is refused by personnel, which keeps
    one open transfer a person, and said on the form (409)."""
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    found = await _sender(request, visit, person_id)
    if isinstance(found, Response):
        return found
    person, unit = found
    form = await _send_form(request, visit, person, sent.get("find", ""))
    fields = form.fields

    def again(faults: list[str], status_code: int) -> Response:
        return _send_page(request, visit, person, unit, form, faults, status_code)

    given = checked(fields, sent)
    if given is None:
        return again([], 422)
    try:
        body = TransferSend(
            person_id=person.id,
            to_unit_id=given["to_unit_id"],
            effective_date=given["effective_date"],
            decision=given["decision"],
        )
    except ValidationError as exc:
        refused(fields, [(str(error["loc"][0]), "Có ký tự không dùng được") for error in exc.errors()])
        return again([], 422)
    try:
        transfer = await send_transfer(body, visit.principal, backends_of(request))
    except grpc.aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.INVALID_ARGUMENT:
            faults = refusal_faults(fields, exc)
            return again(faults, 422)
        if exc.code() is grpc.StatusCode.FAILED_PRECONDITION:
            return again([exc.details() or ""], 409)
        raise
    target = str(page_url(request, "web_transfers", unit_id=unit.id)) + f"#outgoing-{transfer.id}"
    return RedirectResponse(target, status_code=303)
