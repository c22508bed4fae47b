"""Entries made after their deadline (R-PER-4) in a unit and those below it, over a period of entry
days (the last 30 by default): the sector's limits and their basis, how many entries each unit made
and how many late, and the late ones, earliest entered first, a page at a time. Personnel judges each
entry when it is made and answers inside the caller's scope; the home page counts the last 30 days'."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import Response

from qlcb.personnel.v1 import deadlines_pb2
from qlcb_common.days import VIETNAM
from qlcb_gateway.errors import field_violations
from qlcb_gateway.routes.organisation import get_unit
from qlcb_gateway.web.entry_form import section_for
from qlcb_gateway.web.pages import Visit, account_names, backends_of, error_page, render, signed_in
from qlcb_gateway.web.session import PATH

router = APIRouter(prefix=PATH, include_in_schema=False)

DAYS_SHOWN = 30
PAGE_SIZE = 100
KIND_LABELS = {"new_record": "Lập hồ sơ mới", "update": "Cập nhật hồ sơ"}
COUNTING_LABELS = {"working_days": "ngày làm việc", "calendar_days": "ngày"}


def last_days(today: date) -> tuple[date, date]:
    return today - timedelta(days=DAYS_SHOWN - 1), today


async def late_report(
    request: Request, visit: Visit, unit_id: str, period: tuple[date, date], *, page_size: int, page_token: str = ""
) -> deadlines_pb2.GetLateEntriesResponse:
    backends = backends_of(request)
    response: deadlines_pb2.GetLateEntriesResponse = await backends.deadlines.GetLateEntries(
        deadlines_pb2.GetLateEntriesRequest(
            unit_id=unit_id,
            include_subtree=True,
            from_date=period[0].isoformat(),
            to_date=period[1].isoformat(),
            page_size=page_size,
            page_token=page_token,
        ),
        **backends.call_options(visit.principal.token),
    )
    return response


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


NOT_SECTIONS = {
    "status": "Tình trạng (nghỉ hưu, thôi việc, từ trần, chuyển ra ngoài ngành, khôi phục)",
    "transfer": "Điều động, chuyển công tác trong ngành",
}
"""What the measure holds besides the record's sections."""


def _late(entry: deadlines_pb2.LateEntry, names: dict[str, str]) -> dict[str, Any]:
    section = section_for(entry.section)
    return {
        "person_id": entry.person_id,
        "person_name": entry.person_name,
        "section": section.label if section is not None else NOT_SECTIONS.get(entry.section, entry.section),
        "kind": KIND_LABELS.get(entry.kind, entry.kind),
        "event_date": date.fromisoformat(entry.event_date),
        "deadline": date.fromisoformat(entry.deadline),
        "entered_at": datetime.fromisoformat(entry.entered_at).astimezone(VIETNAM),
        "entered_by": names.get(entry.entered_by, entry.entered_by),
        "days_late": entry.days_late,
    }


@router.get("/units/{unit_id}/late-entries", name="web_late_entries")
async def late_entries(request: Request, unit_id: str, start: str = "", end: str = "", page: str = "") -> Response:
    """`start` and `end` are days of entry (yyyy-mm-dd, as the form's date boxes send them); a day that
    is not one is said beside its box with nothing asked; personnel's refusal of the period (longer
    than a year, ending before it starts) likewise."""
    visit = await signed_in(request)
    unit = await get_unit(unit_id, visit.principal, backends_of(request))
    default = last_days(datetime.now(VIETNAM).date())
    period = (_day(start) or default[0], _day(end) or default[1])
    errors = {name: "Không phải một ngày" for name, text in (("start", start), ("end", end)) if text and not _day(text)}
    context: dict[str, Any] = {"unit": unit, "period": period, "errors": errors, "report": None}
    if errors:
        return render(request, visit, "late_entries.html", context, status_code=422)
    try:
        report = await late_report(request, visit, unit_id, period, page_size=PAGE_SIZE, page_token=page[:100])
    except grpc.aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.PERMISSION_DENIED:
            return error_page(request, 403)
        if exc.code() is not grpc.StatusCode.INVALID_ARGUMENT:
            raise
        named = {"from_date": "start", "to_date": "end", "to": "end", "from": "start"}
        for name, reason in field_violations(exc) or [("", exc.details() or "")]:
            errors[named.get(name, "end")] = reason
        return render(request, visit, "late_entries.html", context, status_code=422)
    names = await account_names(request, visit, {e.entered_by for e in report.late_entries})
    kept = {"start": period[0].isoformat(), "end": period[1].isoformat()}
    context |= {
        "report": report,
        "limits": [
            f"{KIND_LABELS.get(x.kind, x.kind)}: {x.days} {COUNTING_LABELS.get(x.counting, x.counting)} ({x.basis})"
            for x in report.limits
        ],
        "late": [_late(e, names) for e in report.late_entries],
        "next_link": f"{request.url.path}?{urlencode(kept | {'page': report.next_page_token})}"
        if report.next_page_token
        else None,
        "first_link": f"{request.url.path}?{urlencode(kept)}" if page else None,
    }
    return render(request, visit, "late_entries.html", context)
