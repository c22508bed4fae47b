"""The home page of each tier, with what waits for the caller in their own unit and those below it
(transfers to take in; for a unit's tiers, people reaching retirement age soon; entries made after
their deadline in the last 30 days, for those who read its reports), in the report
workflow (reports to send, reports to approve) and in account requests (the steps that are the
caller's), and the list of those retirements. Each waiting
item is asked of the service that holds it with the caller's rights; one the caller may not see is
left out."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import Response

from qlcb_common.auth import Principal
from qlcb_common.authz.matrix import Action, Scope, Section
from qlcb_common.authz.policy import may_at_all, permits, scope_for
from qlcb_common.days import VIETNAM, vietnam_today
from qlcb_gateway.routes.organisation import get_unit, list_units
from qlcb_gateway.routes.record import RetirementDuePublic, listing_period, retirements_due
from qlcb_gateway.routes.report_workflow import waiting_reports
from qlcb_gateway.routes.transfers import list_transfers
from qlcb_gateway.schemas import TransferDirection, TransferStatus, UnitPublic
from qlcb_gateway.web.account_requests import open_requests
from qlcb_gateway.web.late_entries import DAYS_SHOWN, last_days, late_report
from qlcb_gateway.web.pages import BackendDown, Visit, backends_of, render, signed_in
from qlcb_gateway.web.person_labels import SEX_LABELS
from qlcb_gateway.web.session import PATH

router = APIRouter(prefix=PATH, include_in_schema=False)

RETIREMENT_MONTHS = 6
"""How far ahead the home page looks for people reaching retirement age."""
MONTH_CHOICES = (3, 6, 12, 24)
OUT_OF_REACH = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)


@dataclass(frozen=True)
class Waiting:
    """What waits in the caller's unit; None where the caller may not see or act on it."""

    transfers: int | None
    retirements: int | None
    reports_to_send: int | None
    reports_to_approve: int | None
    account_requests: int | None  # the steps of account requests that are the caller's to take
    late_entries: int | None  # entries made after their deadline in the last DAYS_SHOWN days

    def any(self) -> bool:
        shown = (
            self.transfers,
            self.retirements,
            self.reports_to_send,
            self.reports_to_approve,
            self.account_requests,
            self.late_entries,
        )
        return any(n is not None for n in shown)


async def _own_unit(request: Request, principal: Principal) -> UnitPublic | None:
    """The caller's own unit, if the caller may list it."""
    if not principal.unit_path:
        return None
    try:
        units = await list_units(principal, backends_of(request))
    except grpc.aio.AioRpcError as exc:
        if exc.code() in OUT_OF_REACH:
            return None
        raise
    return next((u for u in units if u.path == principal.unit_path), None)


async def _due(request: Request, visit: Visit, unit_id: str, months: int) -> list[RetirementDuePublic]:
    period = listing_period(vietnam_today(), months, include_subtree=True)
    return await retirements_due(unit_id, visit.principal, backends_of(request), period)


async def _waiting(request: Request, visit: Visit, unit: UnitPublic | None) -> Waiting:
    async def transfers() -> int | None:
        if unit is None or not permits(visit.principal, Section.MOVEMENT, Action.UPDATE, unit.path):
            return None
        found = await list_transfers(
            unit.id,
            visit.principal,
            backends_of(request),
            direction=TransferDirection.INCOMING,
            status=TransferStatus.SENT,
            include_subtree=True,
        )
        return len(found)

    async def retirements() -> int | None:
        if unit is None or scope_for(visit.principal, Section.IDENTITY, Action.READ) is Scope.SECTOR:
            return None  # the whole sector's would be tens of thousands of rows to count
        try:
            return len(await _due(request, visit, unit.id, RETIREMENT_MONTHS))
        except grpc.aio.AioRpcError as exc:
            if exc.code() in OUT_OF_REACH:
                return None
            raise

    async def reports() -> tuple[int | None, int | None]:
        principal = visit.principal
        sends = may_at_all(principal, Section.REPORTS, Action.UPDATE)
        approves = may_at_all(principal, Section.REPORTS, Action.OPERATE)
        if not (sends or approves):
            return None, None
        found = await waiting_reports(principal, backends_of(request), limit=1)
        return (found.to_send_total if sends else None), (found.to_approve_total if approves else None)

    async def account_requests() -> int | None:
        try:
            found = await open_requests(request, visit, limit=1)
        except BackendDown:
            return None  # the rest of what waits is still worth showing; the requests page says 503
        return None if found is None else int(found["yours"])

    async def late() -> int | None:
        if unit is None or not permits(visit.principal, Section.REPORTS, Action.READ, unit.path):
            return None
        period = last_days(datetime.now(VIETNAM).date())
        try:
            return (await late_report(request, visit, unit.id, period, page_size=1)).total.late
        except grpc.aio.AioRpcError as exc:
            if exc.code() in OUT_OF_REACH:
                return None
            raise

    waiting_transfers, waiting_retirements, (to_send, to_approve), requests, late_entries = await asyncio.gather(
        transfers(), retirements(), reports(), account_requests(), late()
    )
    return Waiting(waiting_transfers, waiting_retirements, to_send, to_approve, requests, late_entries)


@router.get("/", name="web_home")
async def home(request: Request) -> Response:
    visit = await signed_in(request)
    unit = await _own_unit(request, visit.principal)
    waiting = await _waiting(request, visit, unit)
    return render(
        request,
        visit,
        "home.html",
        {"unit": unit, "waiting": waiting, "retirement_months": RETIREMENT_MONTHS, "late_days": DAYS_SHOWN},
    )


@router.get("/units/{unit_id}/retirements", name="web_retirements")
async def retirements(request: Request, unit_id: str, months: str = "") -> Response:
    """The people of the unit and those below it reaching retirement age within the months asked
    (one of MONTH_CHOICES; anything else, the home page's six), soonest first."""
    visit = await signed_in(request)
    backends = backends_of(request)
    ahead = int(months) if months.isdigit() and int(months) in MONTH_CHOICES else RETIREMENT_MONTHS
    unit, due = await asyncio.gather(get_unit(unit_id, visit.principal, backends), _due(request, visit, unit_id, ahead))
    return render(
        request,
        visit,
        "retirements.html",
        {"unit": unit, "due": due, "months": ahead, "choices": MONTH_CHOICES, "sex_labels": SEX_LABELS},
    )
