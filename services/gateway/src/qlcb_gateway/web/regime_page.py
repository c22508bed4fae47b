"""A report regime's page (R-REP-2): its legal basis, its current template and every period; and,
for the tiers that issue regimes, the form that opens a period, which assigns the report to every
unit concerned. A periodic regime's period is named by its key (the period of today offered); any
other regime's is given a name, its data dates and its deadline. Reports decides, and what it
refuses is said beside the field it names; a period opened twice (the form sent twice) is said once
opened, nothing assigned twice."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import may_at_all
from qlcb_common.days import VIETNAM
from qlcb_gateway.routes.report_regimes import PeriodOpen, RegimePublic, get_regime, list_periods, open_period
from qlcb_gateway.web.entry_form import FormField, checked, refusal_faults, refused
from qlcb_gateway.web.pages import Visit, backends_of, error_page, posted_form, render, signed_in
from qlcb_gateway.web.reports import regime_kind
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

KEY_MAX = 32
EXAMPLES = {"month": "2026-11", "quarter": "2026-Q4", "half_year": "2026-H2", "year": "2026"}


def key_of(frequency: str, day: date) -> str:
    """The key of the period of a periodic regime's `frequency` that `day` falls in."""
    return {
        "month": f"{day.year}-{day.month:02d}",
        "quarter": f"{day.year}-Q{(day.month - 1) // 3 + 1}",
        "half_year": f"{day.year}-H{1 if day.month <= 6 else 2}",
    }.get(frequency, str(day.year))


def period_fields(regime: RegimePublic, today: date) -> list[FormField]:
    if regime.kind == "periodic" and regime.frequency:
        label = f"Kỳ (như {EXAMPLES[regime.frequency]})"
        return [FormField("period", label, "text", required=True, value=key_of(regime.frequency, today), max_length=32)]
    return [
        FormField("period", "Tên kỳ (chữ không dấu, số, dấu chấm, gạch)", "text", required=True, max_length=KEY_MAX),
        FormField("starts_on", "Số liệu từ ngày", "date", required=True),
        FormField("ends_on", "Số liệu đến ngày", "date", required=True),
        FormField("deadline", "Hạn gửi", "date", required=True),
    ]


def _opens_periods(visit: Visit) -> bool:
    return may_at_all(visit.principal, Section.REPORT_REGIMES, Action.CREATE)


def saved_notice(saved: str) -> str:
    """What the page says after the regime was issued, or a template version added, from the web."""
    if saved == "issued":
        return "Đã ban hành chế độ báo cáo."
    version = saved.removeprefix("version-")
    if saved.startswith("version-") and version.isascii() and version.isdigit() and len(version) < 7:
        return f"Đã lưu phiên bản mẫu {version}; các kỳ mở từ nay dùng phiên bản này."
    return ""


async def _page(
    request: Request,
    visit: Visit,
    regime_id: str,
    *,
    fields: list[FormField] | None = None,
    faults: list[str] | None = None,
    opened: str = "",
    assigned: int | None = None,
    saved: str = "",
    status_code: int = 200,
) -> Response:
    backends = backends_of(request)
    found, periods = await asyncio.gather(
        get_regime(regime_id, visit.principal, backends), list_periods(regime_id, visit.principal, backends)
    )
    today = datetime.now(VIETNAM).date()
    context: dict[str, Any] = {
        "regime": found,
        "kind": regime_kind(found),
        "template": found.templates[-1] if found.templates else None,
        "periods": periods,
        "open_fields": (fields or period_fields(found, today)) if _opens_periods(visit) else None,
        "faults": faults or [],
        "opened": next((p for p in periods if p.id == opened), None),
        "assigned": assigned,
        "saved": saved_notice(saved),
        "changes_templates": may_at_all(visit.principal, Section.REPORT_REGIMES, Action.UPDATE),
    }
    return render(request, visit, "regime.html", context, status_code=status_code)


@router.get("/reports/{regime_id}", name="web_regime")
async def regime(request: Request, regime_id: str, opened: str = "", assigned: str = "", saved: str = "") -> Response:
    visit = await signed_in(request)
    count = int(assigned) if assigned.isascii() and assigned.isdigit() and len(assigned) < 7 else None
    return await _page(request, visit, regime_id, opened=opened, assigned=count, saved=saved)


@router.post("/reports/{regime_id}/periods", name="web_period_open")
async def open_one(request: Request, regime_id: str) -> Response:
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    backends = backends_of(request)
    found = await get_regime(regime_id, visit.principal, backends)
    fields = period_fields(found, datetime.now(VIETNAM).date())
    given = checked(fields, sent)
    if given is None:
        return await _page(request, visit, regime_id, fields=fields, status_code=422)
    try:
        body = PeriodOpen.model_validate({k: v for k, v in given.items() if k not in ("values", "decision")})
    except ValidationError as exc:
        refused(fields, [(str(e["loc"][0]), "Chỉ gồm chữ không dấu, số, dấu chấm, gạch") for e in exc.errors()])
        return await _page(request, visit, regime_id, fields=fields, status_code=422)
    try:
        done = await open_period(regime_id, body, visit.principal, backends)
    except grpc.aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.PERMISSION_DENIED:
            return error_page(request, 403)
        if exc.code() is grpc.StatusCode.ALREADY_EXISTS:
            refused(fields, [("period", exc.details() or "Kỳ báo cáo này đã được mở")])
            return await _page(request, visit, regime_id, fields=fields, status_code=409)
        if exc.code() is not grpc.StatusCode.INVALID_ARGUMENT:
            raise
        faults = refusal_faults(fields, exc)
        return await _page(request, visit, regime_id, fields=fields, faults=faults, status_code=422)
    target = page_url(request, "web_regime", regime_id=regime_id).include_query_params(
        opened=done.period.id, assigned=done.assignments
    )
    return RedirectResponse(str(target), status_code=303)
