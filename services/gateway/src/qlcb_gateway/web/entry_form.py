"""The form that adds an entry to a section of a person's record: its fields drawn from the section's
declaration (`qlcb_common.record_sections`), what the officer typed checked here first (in
Vietnamese, next to each field), then sent to personnel as the REST route sends it, whose own
refusals are shown next to the fields they name. Nothing is recorded unless personnel accepts the
whole entry."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qlcb.personnel.v1 import record_pb2
from qlcb_common.authz.matrix import Action
from qlcb_common.days import VIETNAM
from qlcb_common.record_sections import SECTIONS, Field, Kind, RecordSection
from qlcb_gateway.errors import field_violations
from qlcb_gateway.routes.organisation import get_person
from qlcb_gateway.schemas import PersonPublic
from qlcb_gateway.web.pages import (
    Visit,
    backends_of,
    delegations_of,
    error_page,
    form_version,
    may_change,
    posted_form,
    render,
    signed_in,
    unit_in_reach,
)
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

BY_NAME = {section.name: section for section in SECTIONS}
CHOICES_MAX = 400
"""A catalog longer than this (the communes) is typed as its code rather than picked from a list."""
DECISION_FIELDS = (
    ("number", "Số quyết định", 100),
    ("date", "Ngày quyết định", None),
    ("body", "Cơ quan ban hành", 255),
    ("signer", "Người ký", 255),
    ("signer_post", "Chức vụ người ký", 255),
)


@dataclass
class FormField:
    """One input of the form, as the template draws it."""

    name: str
    label: str
    kind: str  # text, textarea, date, datetime, integer, decimal, choice, code, or box (a check box)
    required: bool
    value: str = ""
    error: str = ""
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value sent, text shown)


def section_for(name: str) -> RecordSection | None:
    return BY_NAME.get(name)


def _kind(spec: Field, choices: list[tuple[str, str]] | None) -> str:
    if spec.kind is Kind.CODE:
        return "choice" if choices is not None else "code"
    return {Kind.LONG_TEXT: "textarea"}.get(spec.kind, spec.kind.value)


async def _choices(request: Request, visit: Visit, catalog: str, day: date | None) -> list[tuple[str, str]] | None:
    """The catalog's codes valid on `day` (None: today) with their labels, or None when there are
    too many to list."""
    backends = backends_of(request)
    response = await backends.record.ListCatalogValues(
        record_pb2.ListCatalogValuesRequest(catalog=catalog, as_of=day.isoformat() if day else ""),
        **backends.call_options(visit.principal.token),
    )
    if len(response.values) > CHOICES_MAX:
        return None
    return [(value.code, f"{value.label} ({value.code})") for value in response.values]


async def blank_form(
    request: Request, visit: Visit, section: RecordSection, day: date | None = None
) -> list[FormField]:
    """The section's form, its catalogs listing the codes valid on `day` (None: today): personnel
    checks a dated entry's codes against the catalog of its start, so an entry of 2010 keeps, and
    may be given, a code closed since."""
    catalogs = sorted({spec.catalog for spec in section.fields if spec.catalog is not None})
    listed = dict(
        zip(catalogs, await asyncio.gather(*(_choices(request, visit, c, day) for c in catalogs)), strict=True)
    )
    fields: list[FormField] = []
    if section.dated:
        fields.append(FormField("valid_from", "Từ ngày (ngày có hiệu lực)", "date", required=True))
        fields.append(FormField("valid_to", "Đến ngày (để trống: đến nay)", "date", required=False))
    for spec in section.fields:
        choices = listed.get(spec.catalog) if spec.catalog is not None else None
        fields.append(
            FormField(
                f"values.{spec.name}",
                spec.label,
                _kind(spec, choices),
                spec.required,
                max_length=spec.max_length
                if spec.kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.CODE, Kind.DECIMAL)
                else None,
                minimum=spec.minimum,
                maximum=spec.maximum,
                choices=choices or [],
            )
        )
    for name, label, max_length in DECISION_FIELDS:
        required = section.decision_required and name == "number"
        fields.append(
            FormField(f"decision.{name}", label, "date" if name == "date" else "text", required, max_length=max_length)
        )
    return fields


def _day(text: str) -> date | None:
    """A day as a date input sends it (yyyy-mm-dd) or as an officer types it (dd/mm/yyyy)."""
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


def _instant(text: str) -> datetime | None:
    """A moment in Vietnam's time as a datetime-local input sends it (yyyy-mm-ddThh:mm) or as an
    officer types it (dd/mm/yyyy hh:mm)."""
    day_text, _, time_text = text.replace("T", " ").partition(" ")
    day = _day(day_text)
    try:
        hour, minute = (int(part) for part in time_text.strip().split(":")[:2])
        return None if day is None else datetime.combine(day, time(hour, minute), VIETNAM)
    except ValueError:
        return None


def catalog_day(section: RecordSection, text: str) -> date | None:
    """The day whose catalogs a dated section's form lists: the entry's start as typed or stored;
    None (today's) for an undated section, or when no day, or no sensible one, is given."""
    if not section.dated or not text:
        return None
    day = _day(text)
    return day if day is not None and date(1900, 1, 1) <= day <= date(2999, 12, 31) else None


def _start(fields: list[FormField]) -> FormField:
    return next(f for f in fields if f.name == "valid_from")


def checked(fields: list[FormField], sent: dict[str, str], catalogs_on: date | None = None) -> dict[str, Any] | None:
    """Fills `fields` with what was sent and the fault of each; the entry's input as personnel takes
    it (values typed), or None when a field is at fault. The lists hold the codes of `catalogs_on`
    (None: today's)."""
    entry: dict[str, Any] = {"values": {}, "decision": {}}
    for form_field in fields:
        text = sent.get(form_field.name, "").strip()
        form_field.value = text
        if not text:
            if form_field.required:
                form_field.error = "Bắt buộc nhập"
            continue
        value: Any = text
        if form_field.kind == "date":
            day = _day(text)
            if day is None:
                form_field.error = "Không phải một ngày (ngày/tháng/năm)"
                continue
            value = day.isoformat()
        elif form_field.kind == "datetime":
            instant = _instant(text)
            if instant is None:
                form_field.error = "Không phải một thời điểm (giờ:phút ngày/tháng/năm)"
                continue
            value = instant.isoformat()
        elif form_field.kind == "integer":
            if not text.lstrip("-").isdigit():
                form_field.error = "Phải là một số nguyên"
                continue
            value = int(text)
            low = form_field.minimum if form_field.minimum is not None else value
            high = form_field.maximum if form_field.maximum is not None else value
            if not low <= value <= high:
                form_field.error = f"Phải từ {form_field.minimum} đến {form_field.maximum}"
                continue
        elif form_field.kind == "decimal":
            try:
                number = Decimal(text.replace(",", "."))
            except InvalidOperation:
                form_field.error = "Phải là một số, ví dụ 4,98"
                continue
            if not number.is_finite():
                form_field.error = "Phải là một số, ví dụ 4,98"
                continue
            value = str(number)
        elif form_field.kind == "choice" and text not in {code for code, _ in form_field.choices}:
            form_field.error = "Không có trong danh mục" + (f" ngày {catalogs_on:%d/%m/%Y}" if catalogs_on else "")
            continue
        if form_field.max_length is not None and isinstance(value, str) and len(value) > form_field.max_length:
            form_field.error = f"Dài quá {form_field.max_length} ký tự"
            continue
        group, _, name = form_field.name.partition(".")
        if name:
            entry.setdefault(group, {})[name] = value
        else:
            entry[group] = value
    if any(f.error for f in fields):
        return None
    return entry


def _input(entry: dict[str, Any]) -> record_pb2.RecordEntryInput:
    decision = entry["decision"]
    return record_pb2.RecordEntryInput(
        values_json=json.dumps(entry["values"], ensure_ascii=False),
        valid_from=entry.get("valid_from", ""),
        valid_to=entry.get("valid_to", ""),
        decision=record_pb2.RecordDecision(
            number=decision.get("number", ""),
            date=decision.get("date", ""),
            body=decision.get("body", ""),
            signer=decision.get("signer", ""),
            signer_post=decision.get("signer_post", ""),
        ),
    )


def filled(fields: list[FormField], entry: record_pb2.RecordEntry) -> None:
    """The form as the entry now stands, for its correction."""
    values = json.loads(entry.values_json)
    decision = entry.decision
    given = {
        "valid_from": entry.valid_from,
        "valid_to": entry.valid_to,
        **{f"values.{name}": value for name, value in values.items()},
        "decision.number": decision.number,
        "decision.date": decision.date,
        "decision.body": decision.body,
        "decision.signer": decision.signer,
        "decision.signer_post": decision.signer_post,
    }
    for form_field in fields:
        value = given.get(form_field.name)
        form_field.value = "" if value is None else str(value)


def refused(fields: list[FormField], violations: list[tuple[str, str]]) -> list[str]:
    """Puts each of personnel's reasons next to the field it names; those naming none are returned."""
    by_name = {f.name: f for f in fields}
    elsewhere = []
    for name, reason in violations:
        target = by_name.get(name)
        if target is None:
            elsewhere.append(reason)
        else:
            target.error = f"{target.error}; {reason}" if target.error else reason
    return elsewhere


def identity_faults(fields: list[FormField], detail: Any) -> list[str]:
    """Identity's refusal (its JSON `detail`) beside the field of the body each fault names; the
    rest, or its message when it names none, returned to be said above the form."""
    if not isinstance(detail, list):
        return [str(detail.get("message", "")) if isinstance(detail, dict) else str(detail)]
    by_name = {f.name: f for f in fields}
    elsewhere = []
    for fault in detail:
        where = [str(part) for part in fault.get("loc", [])]
        target = by_name.get(where[1]) if len(where) > 1 and where[0] == "body" else None
        if target is None:
            elsewhere.append(str(fault.get("msg", "")))
        else:
            target.error = str(fault.get("msg", ""))
    return elsewhere


def refusal_faults(fields: list[FormField], exc: grpc.aio.AioRpcError) -> list[str]:
    """Personnel's INVALID_ARGUMENT on a form: each reason next to the field it names; those naming
    no field of the form returned, or personnel's message when it named none at all."""
    faults = refused(fields, field_violations(exc))
    if not faults and not any(f.error for f in fields):
        faults = [exc.details() or ""]
    return faults


async def _person(request: Request, visit: Visit, person_id: str) -> tuple[PersonPublic, str | None]:
    """The person, and their unit's path when the caller may see the unit."""
    person = await get_person(person_id, visit.principal, backends_of(request))
    unit = await unit_in_reach(request, visit, person.unit_id)
    return person, unit.path if unit is not None else None


def _page(
    request: Request,
    visit: Visit,
    person: PersonPublic,
    section: RecordSection,
    fields: list[FormField],
    faults: list[str],
    status_code: int = 200,
    correcting: record_pb2.RecordEntry | None = None,
    version: str = "",
    catalogs_on: date | None = None,
) -> Response:
    return render(
        request,
        visit,
        "entry_form.html",
        {
            "person": person,
            "section": section,
            "fields": fields,
            "faults": faults,
            "correcting": correcting,
            "version": version,
            "catalogs_on": catalogs_on,
            "lists_codes": section.dated and any(f.kind == "choice" for f in fields),
        },
        status_code=status_code,
    )


async def _current(request: Request, visit: Visit, person_id: str, section: RecordSection, entry_id: str) -> Any:
    """The entry's current version, or None."""
    backends = backends_of(request)
    listed = await backends.record.ListRecordEntries(
        record_pb2.ListRecordEntriesRequest(person_id=person_id, section=section.name),
        **backends.call_options(visit.principal.token),
    )
    return next((e for e in listed.entries if e.entry_id == entry_id), None)


@router.get("/persons/{person_id}/{section_name}/new", name="web_entry_new")
async def new_entry(request: Request, person_id: str, section_name: str) -> Response:
    visit = await signed_in(request)
    section = section_for(section_name)
    if section is None:
        return error_page(request, 404)
    person, unit_path = await _person(request, visit, person_id)
    delegations = await delegations_of(request, visit)
    if not may_change(visit, section, unit_path, Action.CREATE, person=person, delegations=delegations):
        return error_page(request, 403)
    day = catalog_day(section, request.query_params.get("catalogs_on", ""))
    fields = await blank_form(request, visit, section, day)
    if day is not None:
        _start(fields).value = day.isoformat()
    return _page(request, visit, person, section, fields, [], catalogs_on=day)


@router.get("/persons/{person_id}/{section_name}/{entry_id}/correct", name="web_entry_correct")
async def correct_entry(request: Request, person_id: str, section_name: str, entry_id: str) -> Response:
    visit = await signed_in(request)
    section = section_for(section_name)
    if section is None:
        return error_page(request, 404)
    person, unit_path = await _person(request, visit, person_id)
    delegations = await delegations_of(request, visit)
    if not may_change(visit, section, unit_path, Action.UPDATE, person=person, delegations=delegations):
        return error_page(request, 403)
    entry = await _current(request, visit, person_id, section, entry_id)
    if entry is None:
        return error_page(request, 404)
    day = catalog_day(section, request.query_params.get("catalogs_on", "") or entry.valid_from)
    fields = await blank_form(request, visit, section, day)
    filled(fields, entry)
    if day is not None:
        _start(fields).value = day.isoformat()
    return _page(
        request, visit, person, section, fields, [], correcting=entry, version=str(entry.version), catalogs_on=day
    )


@router.post("/persons/{person_id}/{section_name}/new", name="web_entry_add")
async def add_entry(request: Request, person_id: str, section_name: str) -> Response:
    return await _submitted(request, person_id, section_name, None)


@router.post("/persons/{person_id}/{section_name}/{entry_id}/correct", name="web_entry_corrected")
async def corrected_entry(request: Request, person_id: str, section_name: str, entry_id: str) -> Response:
    return await _submitted(request, person_id, section_name, entry_id)


async def _submitted(request: Request, person_id: str, section_name: str, entry_id: str | None) -> Response:
    """Adds the entry (`entry_id` None) or corrects it at the version the form was filled from;
    personnel refuses a correction of a version someone else has corrected since (ABORTED)."""
    visit = await signed_in(request)
    section = section_for(section_name)
    if section is None:
        return error_page(request, 404)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    version = form_version(sent)
    if entry_id is not None and version is None:
        return error_page(request, 400, "Biểu mẫu không đúng", "Thiếu phiên bản của mục đang đính chính.")
    person, _unit_path = await _person(request, visit, person_id)
    correcting = await _current(request, visit, person_id, section, entry_id) if entry_id is not None else None
    if entry_id is not None and correcting is None:
        return error_page(request, 404)
    day = catalog_day(section, sent.get("valid_from", "").strip() or (correcting.valid_from if correcting else ""))
    fields = await blank_form(request, visit, section, day)

    def again(faults: list[str], status_code: int) -> Response:
        return _page(request, visit, person, section, fields, faults, status_code, correcting, str(version or ""), day)

    entry = checked(fields, sent, day)
    if entry is None:
        return again([], 422)
    backends = backends_of(request)
    options = backends.call_options(visit.principal.token)
    try:
        if entry_id is None:
            await backends.record.AddRecordEntry(
                record_pb2.AddRecordEntryRequest(person_id=person_id, section=section.name, input=_input(entry)),
                **options,
            )
        else:
            await backends.record.CorrectRecordEntry(
                record_pb2.CorrectRecordEntryRequest(
                    person_id=person_id,
                    section=section.name,
                    entry_id=entry_id,
                    expected_version=version or 0,
                    input=_input(entry),
                ),
                **options,
            )
    except grpc.aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.INVALID_ARGUMENT:
            faults = refusal_faults(fields, exc)
            return again(faults, 422)
        if exc.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS):
            return again([exc.details() or ""], 409)
        if exc.code() is grpc.StatusCode.ABORTED:
            return again([exc.details() or "", "Hãy mở lại mục này để xem bản hiện tại rồi đính chính."], 409)
        if exc.code() is grpc.StatusCode.PERMISSION_DENIED:
            # The section is the caller's to write, but not this entry (the decision it cites, the
            # post it names): said on the form, as filled, to be put right.
            return again([exc.details() or ""], 403)
        raise
    target = str(page_url(request, "web_person", person_id=person_id)) + f"#section-{section.name}"
    return RedirectResponse(target, status_code=303)
