"""The form that records a decision (R-PER-3) for one person, from their decisions, or for people of
a unit picked from its staff, from the unit's: its kind chosen first (those the caller's tier and
delegations let it make), then the decision's own fields, what it writes into each person's record
(the kind's section, drawn from its declaration as the entry forms are) or the status it gives, and
the people. The values are the same for everyone, or, asked for once the people are ticked, each
person's own (a raise to each one's next step): a row per person, first filled with what was typed
for all. What the officer typed is checked here first, beside each field; personnel then checks
every person and records all of them or none, and its refusals are put beside the fields they name,
with the person's name when several are named (in a person's own row, beside its cell)."""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qlcb.personnel.v1 import decision_pb2, search_pb2
from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import Delegation, RecordRef, may_at_all, permits
from qlcb_common.decision_kinds import KINDS, MAX_PEOPLE, DecisionKind
from qlcb_gateway.errors import field_violations
from qlcb_gateway.routes.organisation import get_person, get_unit, person_public
from qlcb_gateway.schemas import PersonPublic, UnitPublic
from qlcb_gateway.web.entry_form import FormField, blank_form, checked, refused
from qlcb_gateway.web.pages import (
    Visit,
    backends_of,
    delegations_of,
    error_page,
    posted_form,
    render,
    signed_in,
    unit_in_reach,
)
from qlcb_gateway.web.person_labels import STATUS_LABELS
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

KIND_OF = {kind.name: kind for kind in KINDS}
TICK = "person."
"""The prefix of each person's checkbox (`person.<id>`)."""
OWN = "own."
"""The prefix of a person's own values (`own.<id>.values.step`)."""
NOT_YOURS = "Tài khoản của bạn không ghi được quyết định nào cho những người này."
_ITEM = re.compile(r"items\[(\d+)\]\.?(.*)")


def _header() -> list[FormField]:
    return [
        FormField("number", "Số quyết định", "text", required=True, max_length=100),
        FormField("decision_date", "Ngày ký", "date", required=True),
        FormField("effective_date", "Ngày có hiệu lực", "date", required=True),
        FormField("body", "Cơ quan ban hành", "text", required=True, max_length=255),
        FormField("signer", "Người ký", "text", required=True, max_length=150),
        FormField("signer_post", "Chức vụ người ký", "text", required=False, max_length=255),
        FormField("summary", "Trích yếu", "textarea", required=False, max_length=500),
    ]


def _authz(kind: DecisionKind) -> Section:
    section = kind.record_section
    return section.authz if section is not None else Section.MOVEMENT


def offered_kinds(
    visit: Visit, delegations: Sequence[Delegation], unit_path: str | None, person: PersonPublic | None = None
) -> list[DecisionKind]:
    """The kinds the caller may make for people of that unit (or that person): its tier or a
    delegation serving it may change the kind's section there; anywhere when the unit is not
    known. Personnel checks each person named again."""
    if unit_path is None:
        return [k for k in KINDS if may_at_all(visit.principal, _authz(k), Action.UPDATE, delegations)]
    ref = RecordRef(person.id, person.personal_id) if person is not None else None
    return [
        k
        for k in KINDS
        if permits(visit.principal, _authz(k), Action.UPDATE, unit_path, person=ref, delegations=delegations)
    ]


@dataclass(frozen=True)
class Target:
    """Whom the form names: one person, or people of one unit to pick from."""

    unit: UnitPublic | None
    person: PersonPublic | None
    people: list[PersonPublic]  # those offered, in the staff list's order

    @property
    def query(self) -> dict[str, str]:
        return {"person": self.person.id} if self.person is not None else {"unit": self.unit.id if self.unit else ""}

    @property
    def unit_path(self) -> str | None:
        return self.unit.path if self.unit is not None else None


async def _staff(request: Request, visit: Visit, unit_id: str, kind: DecisionKind | None) -> list[PersonPublic]:
    """The unit's people a decision of that kind may name, by name: those in service, or for a
    reinstatement those who are not."""
    backends = backends_of(request)
    reinstating = kind is not None and kind.status == "PERSON_STATUS_ACTIVE"
    found = await backends.search.SearchPersons(
        search_pb2.SearchPersonsRequest(
            unit_id=unit_id, status="" if reinstating else "active", page_size=MAX_PEOPLE, sort="name"
        ),
        **backends.call_options(visit.principal.token),
    )
    people = [person_public(p) for p in found.persons]
    return [p for p in people if (p.status.value == "active") != reinstating]


async def _target(request: Request, visit: Visit, asked: dict[str, str], kind: DecisionKind | None) -> Target:
    """The person or unit the query or form names; personnel's refusal of either is the page's."""
    backends = backends_of(request)
    if asked.get("person"):
        person = await get_person(asked["person"][:36], visit.principal, backends)
        return Target(await unit_in_reach(request, visit, person.unit_id), person, [person])
    unit = await get_unit(asked.get("unit", "")[:36], visit.principal, backends)
    return Target(unit, None, await _staff(request, visit, unit.id, kind))


async def _values_form(request: Request, visit: Visit, kind: DecisionKind) -> list[FormField]:
    """What the decision writes into each person's record: the section's fields as its entry form
    draws them, and the end of the entry; its start is the decision's effective date."""
    section = kind.record_section
    if section is None:
        return []
    fields = await blank_form(request, visit, section)
    return [f for f in fields if f.name.startswith("values.")] + [f for f in fields if f.name == "valid_to"]


@dataclass
class People:
    """The people part of the form: who is ticked, and what is said about them."""

    ticked: list[str]
    error: str = ""


def _ticked(sent: dict[str, str], target: Target) -> People:
    """The people ticked, in the order they were offered; one person's form names them."""
    if target.person is not None:
        return People([target.person.id])
    asked = {key.removeprefix(TICK) for key in sent if key.startswith(TICK)}
    offered = [p.id for p in target.people]
    return People([i for i in offered if i in asked] + sorted(asked - set(offered)))


def _placed(
    violations: Sequence[tuple[str, str]], ticked: Sequence[str], names: dict[str, str], *, own: bool = False
) -> tuple[list[tuple[str, str]], list[str]]:
    """Personnel's reasons named as the form names its fields: an item's `items[i].values.step` is
    the form's `values.step`, said with the person's name when the decision names several (with
    `own`, the person's own `own.<id>.values.step`); an item's person, or the items as a whole, the
    people's part."""
    placed: list[tuple[str, str]] = []
    about_people: list[str] = []
    for name, reason in violations:
        item = _ITEM.fullmatch(name)
        if item is None:
            if name == "items":
                about_people.append(reason)
            else:
                placed.append((name, reason))
            continue
        index, rest = int(item.group(1)), item.group(2)
        who = _name_of(index, ticked, names)
        if rest in ("", "person_id", "values"):
            about_people.append(f"{who}: {reason}" if who else reason)
        elif own and index < len(ticked):
            placed.append((f"{OWN}{ticked[index]}.{rest}", reason))
        else:
            placed.append((rest, f"{who}: {reason}" if who and len(ticked) > 1 else reason))
    return placed, about_people


def _name_of(index: int, ticked: Sequence[str], names: dict[str, str]) -> str:
    return names.get(ticked[index], "") if index < len(ticked) else ""


def _said(message: str, ticked: Sequence[str], names: dict[str, str]) -> str:
    """Personnel's message about one item (`items[2]: …`, `items[2].person_id: …`) with the person's
    name in place of the item's index."""
    item = re.match(r"items\[(\d+)\][^:]*: ", message)
    if item is None:
        return message
    who = _name_of(int(item.group(1)), ticked, names)
    return f"{who}: {message[item.end() :]}" if who else message


@dataclass(frozen=True)
class Item:
    person_id: str
    given: dict[str, Any]  # the values and the end of the entry, as `checked` gives them


def _request(kind: DecisionKind, header: dict[str, Any], items: Sequence[Item]) -> decision_pb2.CreateDecisionRequest:
    return decision_pb2.CreateDecisionRequest(
        kind=kind.name,
        number=header["number"],
        decision_date=header["decision_date"],
        effective_date=header["effective_date"],
        body=header["body"],
        signer=header["signer"],
        signer_post=header.get("signer_post", ""),
        summary=header.get("summary", ""),
        items=[
            decision_pb2.DecisionItem(
                person_id=item.person_id,
                values_json=json.dumps(item.given["values"], ensure_ascii=False) if kind.section is not None else "",
                valid_to=item.given.get("valid_to", ""),
            )
            for item in items
        ],
    )


@dataclass(frozen=True)
class OwnRow:
    """A person's own values: the values fields named and labelled for them."""

    person: PersonPublic
    fields: list[FormField]


def _own_rows(values: list[FormField], people: Sequence[PersonPublic], filled: dict[str, str]) -> list[OwnRow]:
    """A row per person, each field holding what `filled` gives under its own name (`own.<id>.…`)."""
    rows = []
    for person in people:
        fields = [
            replace(f, name=f"{OWN}{person.id}.{f.name}", label=f"{f.label} — {person.full_name}", value="", error="")
            for f in values
        ]
        for own in fields:
            own.value = filled.get(own.name, "")
        rows.append(OwnRow(person, fields))
    return rows


def _own_given(row: OwnRow, values: list[FormField]) -> dict[str, Any] | None:
    """The person's values checked as the shared ones are, each fault put beside its cell."""
    plain = [replace(f, value="", error="") for f in values]
    given = checked(plain, {f.name: own.value for f, own in zip(values, row.fields, strict=True)})
    for own, checked_field in zip(row.fields, plain, strict=True):
        own.value, own.error = checked_field.value, checked_field.error
    return given


def _page(
    request: Request,
    visit: Visit,
    target: Target,
    kinds: list[DecisionKind],
    kind: DecisionKind | None,
    fields: tuple[list[FormField], list[FormField]] = ([], []),
    people: People | None = None,
    faults: Sequence[str] = (),
    status_code: int = 200,
    rows: Sequence[OwnRow] = (),
) -> Response:
    header, values = fields
    return render(
        request,
        visit,
        "decision_form.html",
        {
            "target": target,
            "query": urlencode(target.query),
            "kinds": kinds,
            "kind": kind,
            "header": header,
            "values": values,
            "people": people or People([]),
            "faults": list(faults),
            "status_labels": STATUS_LABELS,
            "max_people": MAX_PEOPLE,
            "rows": list(rows),
            "own_fields": [f for row in rows for f in row.fields],
        },
        status_code=status_code,
    )


@router.get("/decisions/new", name="web_decision_new")
async def new(request: Request, unit: str = "", person: str = "", kind: str = "") -> Response:
    """The kinds to choose from, then, with one chosen, its form."""
    visit = await signed_in(request)
    chosen = KIND_OF.get(kind)
    target, delegations = await asyncio.gather(
        _target(request, visit, {"unit": unit, "person": person}, chosen), delegations_of(request, visit)
    )
    kinds = offered_kinds(visit, delegations, target.unit_path, target.person)
    if not kinds:
        return error_page(
            request, 403, "Không có quyền", "Tài khoản của bạn không ghi được quyết định cho những người này."
        )
    if chosen is None or chosen not in kinds:
        return _page(request, visit, target, kinds, None)
    fields = (_header(), await _values_form(request, visit, chosen))
    people = People([target.person.id] if target.person is not None else [])
    return _page(request, visit, target, kinds, chosen, fields, people)


@router.post("/decisions/new", name="web_decision_add")
async def add(request: Request) -> Response:
    """Records the decision and opens it; nothing is recorded unless personnel accepts it whole.
    With `then=own`, records nothing and shows a row of values for each person ticked instead."""
    visit = await signed_in(request)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    chosen = KIND_OF.get(sent.get("kind", ""))
    if chosen is None:
        return error_page(request, 400, "Biểu mẫu không đúng", "Thiếu loại quyết định.")
    target, delegations = await asyncio.gather(_target(request, visit, sent, chosen), delegations_of(request, visit))
    kinds = offered_kinds(visit, delegations, target.unit_path, target.person)
    header, values = _header(), await _values_form(request, visit, chosen)
    people = _ticked(sent, target)
    if not people.ticked:
        people.error = "Chọn ít nhất một người"
    elif len(people.ticked) > MAX_PEOPLE:
        people.error = f"Một quyết định nêu tối đa {MAX_PEOPLE} người"
    names = {p.id: p.full_name for p in target.people}
    own = bool(values) and target.person is None and (sent.get("own") == "1" or sent.get("then") == "own")
    if own and not people.error and any(i not in names for i in people.ticked):
        people.error = "Có người được chọn không còn trong danh sách của đơn vị"
    offered = [p for p in target.people if p.id in people.ticked]
    page = functools.partial(_page, request, visit, target, kinds, chosen, (header, values), people)
    if own and sent.get("then") == "own":
        for f in header + values:
            f.value = sent.get(f.name, "").strip()
        if people.error:
            return page(status_code=422)
        typed = {f"{OWN}{p.id}.{f.name}": sent.get(f.name, "").strip() for p in offered for f in values}
        return page(rows=_own_rows(values, offered, typed))
    rows = _own_rows(values, offered, {k: v.strip() for k, v in sent.items()}) if own else []
    header_given = checked(header, sent)
    items = _items(sent, values, people.ticked, rows)
    if header_given is None or items is None or people.error:
        return page(status_code=422, rows=rows)
    backends = backends_of(request)
    try:
        created = await backends.decisions.CreateDecision(
            _request(chosen, header_given, items), **backends.call_options(visit.principal.token)
        )
    except grpc.aio.AioRpcError as exc:
        fields = header + values + [f for row in rows for f in row.fields]
        if exc.code() is grpc.StatusCode.INVALID_ARGUMENT:
            placed, about_people = _placed(field_violations(exc), people.ticked, names, own=own)
            faults = refused(fields, placed)
            people.error = "; ".join(about_people)
            if not faults and not people.error and not any(f.error for f in fields):
                faults = [exc.details() or ""]
            return page(faults, 422, rows)
        refusals = {
            grpc.StatusCode.PERMISSION_DENIED: 403,
            grpc.StatusCode.NOT_FOUND: 404,
            grpc.StatusCode.FAILED_PRECONDITION: 409,
        }
        if exc.code() not in refusals:
            raise
        return page([_said(exc.details() or "", people.ticked, names)], refusals[exc.code()], rows)
    return RedirectResponse(str(page_url(request, "web_decision", decision_id=created.decision.id)), status_code=303)


def _items(
    sent: dict[str, str], values: list[FormField], ticked: Sequence[str], rows: Sequence[OwnRow]
) -> list[Item] | None:
    """Each person's values: their own row's, or those typed for all; None when any is at fault."""
    if rows:
        given = [_own_given(row, values) for row in rows]
        if any(g is None for g in given):
            return None
        return [Item(row.person.id, g) for row, g in zip(rows, given, strict=True) if g is not None]
    shared = checked(values, sent)
    return None if shared is None else [Item(person_id, shared) for person_id in ticked]
