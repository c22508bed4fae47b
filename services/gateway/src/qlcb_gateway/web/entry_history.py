"""The history of one entry of a record (R-PER-2), as a timeline: every version, oldest first, with
what changed it (recorded, corrected, closed by its successor, reopened, retracted), when and by
whom it was recorded (the account named as identity tells), its period, values and decision; a
version superseded stays visible here."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from qlcb.personnel.v1 import record_pb2
from qlcb_gateway.routes.organisation import get_person
from qlcb_gateway.web.entry_form import section_for
from qlcb_gateway.web.pages import (
    CHANGE_LABELS,
    Visit,
    account_names,
    backends_of,
    catalog_labels,
    decided_text,
    error_page,
    render,
    shown_values,
    signed_in,
)
from qlcb_gateway.web.session import PATH

router = APIRouter(prefix=PATH, include_in_schema=False)


@dataclass(frozen=True)
class ShownVersion:
    version: int
    change: str
    recorded_at: datetime | None
    recorded_by: str
    superseded_at: datetime | None
    valid_from: date | None
    valid_to: date | None
    values: list[tuple[str, str]]
    decision: str
    decision_id: str


def _moment(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@router.get("/persons/{person_id}/{section_name}/{entry_id}/versions", name="web_entry_versions")
async def versions(request: Request, person_id: str, section_name: str, entry_id: str) -> Response:
    visit: Visit = await signed_in(request)
    section = section_for(section_name)
    if section is None:
        return error_page(request, 404)
    backends = backends_of(request)
    person = await get_person(person_id, visit.principal, backends)
    listed = await backends.record.ListRecordEntryVersions(
        record_pb2.ListRecordEntryVersionsRequest(person_id=person_id, section=section.name, entry_id=entry_id),
        **backends.call_options(visit.principal.token),
    )
    if not listed.entries:
        return error_page(request, 404)
    labels, names = await asyncio.gather(
        catalog_labels(request, visit, [section]),
        account_names(request, visit, [entry.recorded_by for entry in listed.entries]),
    )
    shown = [
        ShownVersion(
            entry.version,
            CHANGE_LABELS.get(entry.change, entry.change),
            _moment(entry.recorded_at),
            names.get(entry.recorded_by, entry.recorded_by),
            _moment(entry.superseded_at),
            _day(entry.valid_from),
            _day(entry.valid_to),
            shown_values(section, json.loads(entry.values_json or "{}"), labels),
            decided_text(entry.decision.number, entry.decision.date, entry.decision.body),
            entry.decision_id,
        )
        for entry in sorted(listed.entries, key=lambda e: e.version)
    ]
    return render(request, visit, "entry_versions.html", {"person": person, "section": section, "versions": shown})
