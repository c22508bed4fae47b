"""The audit trail as a page (R-AUD-1, R-PER-7): who read, printed, exported or changed which
record, when, and who held a purpose account that day; searched by unit (and the units below),
person, account, holder, action and days, newest first, a page at a time. Personnel answers within
the caller's scope; the page only reads."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import Response

from qlcb.personnel.v1 import audit_pb2
from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import may_at_all
from qlcb_common.days import VIETNAM
from qlcb_gateway.routes.organisation import get_person, list_units
from qlcb_gateway.web.entry_form import FormField, checked, refusal_faults, refused
from qlcb_gateway.web.pages import backends_of, error_page, page_number, render, signed_in
from qlcb_gateway.web.session import PATH

router = APIRouter(prefix=PATH, include_in_schema=False)

PAGE_SIZE = 50
ACTION_LABELS = {
    "read": "Xem",
    "resume": "In sơ yếu lý lịch",
    "export": "Xuất dữ liệu",
    "import": "Nhập dữ liệu",
    "create": "Tạo",
    "update": "Sửa",
    "delete": "Xóa",
}
DETAILS_SHOWN = 300
"""Characters of an entry's details a row shows."""


@dataclass(frozen=True)
class ShownAuditEntry:
    occurred_at: str
    account: str
    holder: str
    action: str
    target: str
    person_id: str
    unit_path: str
    details: str


def _details(details: dict[str, Any]) -> str:
    """A write's changes as `field: before → after`; what a read or export names as compact JSON;
    cut to DETAILS_SHOWN characters."""
    changes = details.get("changes")
    if isinstance(changes, dict) and len(details) == 1:
        text = "; ".join(
            f"{name}: {pair[0]} → {pair[1]}" if isinstance(pair, list) and len(pair) == 2 else f"{name}: {pair}"
            for name, pair in changes.items()
        )
    else:
        text = json.dumps(details, ensure_ascii=False)
    return text if len(text) <= DETAILS_SHOWN else text[: DETAILS_SHOWN - 1] + "…"


def _shown(entry: audit_pb2.AuditEntry) -> ShownAuditEntry:
    moment = datetime.fromisoformat(entry.occurred_at).astimezone(VIETNAM)
    holder = entry.holder_name + (f" ({entry.holder_personal_id})" if entry.holder_personal_id else "")
    return ShownAuditEntry(
        moment.strftime("%d/%m/%Y %H:%M:%S"),
        entry.account,
        holder,
        ACTION_LABELS.get(entry.action, entry.action),
        entry.target,
        entry.person_id,
        entry.unit_path,
        _details(json.loads(entry.details_json or "{}")),
    )


def _criteria(units: list[tuple[str, str]]) -> list[FormField]:
    return [
        FormField("unit_id", "Đơn vị", "choice", required=False, choices=units),
        FormField("account", "Tài khoản", "text", required=False, max_length=255),
        FormField("holder", "Người giữ tài khoản dùng chung (họ tên hoặc số định danh)", "text", False, max_length=150),
        FormField("action", "Thao tác", "choice", required=False, choices=list(ACTION_LABELS.items())),
        FormField("occurred_from", "Từ ngày", "date", required=False),
        FormField("occurred_to", "Đến ngày (gồm cả ngày này)", "date", required=False),
    ]


def _start_of(day: date) -> str:
    """Midnight of the day in Vietnam, as the trail's instants are compared."""
    return datetime.combine(day, time(), VIETNAM).isoformat()


@router.get("/audit", name="web_audit")
async def audit(request: Request, person_id: str = "", subtree: str = "", page: str = "1") -> Response:
    visit = await signed_in(request)
    if not may_at_all(visit.principal, Section.AUDIT, Action.READ):
        return error_page(request, 403)
    backends = backends_of(request)
    found = sorted(await list_units(visit.principal, backends), key=lambda u: u.path.split("/"))
    fields = _criteria([(u.id, f"{u.name} ({u.code})") for u in found])
    given = checked(fields, dict(request.query_params))
    person = await get_person(person_id, visit.principal, backends) if person_id else None
    faults: list[str] = []
    if given is not None and given.get("occurred_from", "") > given.get("occurred_to", "9999"):
        refused(fields, [("occurred_to", "Trước ngày bắt đầu")])
        given = None
    number = page_number(page, 1_000_000)
    rows: list[ShownAuditEntry] = []
    total = 0
    if given is not None:
        # The last day is included: the trail is asked up to the next midnight (none after the last day there is).
        ending = date.fromisoformat(given["occurred_to"]) if "occurred_to" in given else date.max
        try:
            response = await backends.audit.ListAuditEntries(
                audit_pb2.ListAuditEntriesRequest(
                    person_id=person_id,
                    unit_id=given.get("unit_id", ""),
                    include_subtree=subtree == "1",
                    account=given.get("account", ""),
                    holder=given.get("holder", ""),
                    action=given.get("action", ""),
                    occurred_from=_start_of(date.fromisoformat(given["occurred_from"]))
                    if "occurred_from" in given
                    else "",
                    occurred_to=_start_of(ending + timedelta(days=1)) if ending < date.max else "",
                    page=number,
                    page_size=PAGE_SIZE,
                ),
                **backends.call_options(visit.principal.token),
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not grpc.StatusCode.INVALID_ARGUMENT:
                raise
            faults = refusal_faults(fields, exc)
        else:
            rows = [_shown(e) for e in response.entries]
            total = response.total
    pages = max(1, math.ceil(total / PAGE_SIZE))

    def page_link(to: int) -> str:
        asked = {k: v for k, v in request.query_params.items() if k != "page"}
        return f"{request.url.path}?{urlencode(asked | {'page': str(to)})}"

    invalid = bool(faults) or any(f.error for f in fields)
    return render(
        request,
        visit,
        "audit.html",
        {
            "fields": fields,
            "faults": faults,
            "person": person,
            "subtree": subtree == "1",
            "rows": rows,
            "total": total,
            "page": number,
            "pages": pages,
            "previous_link": page_link(number - 1) if number > 1 else None,
            "next_link": page_link(number + 1) if number < pages else None,
        },
        status_code=422 if invalid else 200,
    )
