"""The sections of a person's record over REST, one typed set of operations per section, built
from the section's declaration (`qlcb_common.record_sections`, ADR 0009).

For each section `s`: `GET /v1/persons/{id}/s` (as of a date, as known at a moment),
`POST` a change, `PUT /v1/persons/{id}/s/{entry_id}` a correction and `DELETE` a retraction (both
with `If-Match` carrying the version read, from the entry's `ETag`), and the versions of one entry.
`GET /v1/persons/{id}/record` reads the whole record in one call; `POST` to it records several
changes of any sections at once, all or nothing.

No `from __future__ import annotations` here: FastAPI reads the body and response types of the
generated operations from their annotations, which name models built at run time."""

import calendar
import datetime as dt
import json
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Literal, Union

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, create_model

from qlcb.personnel.v1 import record_pb2
from qlcb_common.days import IsoDay, IsoInstant
from qlcb_common.http_errors import problem
from qlcb_common.record_sections import (
    MAX_DECISION_TEXT,
    MAX_ENTRIES_AT_ONCE,
    MAX_SIGNER,
    SECTIONS,
    Kind,
    RecordSection,
)
from qlcb_common.text import MultiLineText, SingleLineText
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.routes.organisation import person_public
from qlcb_gateway.schemas import PersonPublic

router = APIRouter(prefix="/v1", tags=["Hồ sơ cán bộ: các mục"])

_PYTHON_TYPE: dict[Kind, Any] = {
    Kind.TEXT: SingleLineText,
    Kind.LONG_TEXT: MultiLineText,
    Kind.DATE: IsoDay,
    Kind.INTEGER: int,
    Kind.DECIMAL: SingleLineText,
    Kind.CODE: SingleLineText,
}
_TEXT_KINDS = frozenset({Kind.TEXT, Kind.LONG_TEXT, Kind.DECIMAL, Kind.CODE})


class Decision(BaseModel):
    """Quyết định: its effective date is the entry's `valid_from`."""

    model_config = ConfigDict(extra="forbid")

    number: SingleLineText = Field(default="", max_length=100, description="Số quyết định, ví dụ 125/QĐ-TCHQ")
    date: IsoDay | None = Field(default=None, description="Ngày ký")
    body: SingleLineText = Field(default="", max_length=MAX_DECISION_TEXT, description="Cơ quan ban hành")
    signer: SingleLineText = Field(default="", max_length=MAX_SIGNER, description="Người ký")
    signer_post: SingleLineText = Field(default="", max_length=MAX_DECISION_TEXT, description="Chức vụ người ký")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _values_model(section: RecordSection) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for spec in section.fields:
        python_type = _PYTHON_TYPE[spec.kind]
        constraints: dict[str, Any] = {"description": spec.label}
        if spec.kind in _TEXT_KINDS:
            constraints["max_length"] = spec.max_length
        if spec.minimum is not None:
            constraints["ge"] = spec.minimum
        if spec.maximum is not None:
            constraints["le"] = spec.maximum
        if spec.catalog is not None:
            constraints["json_schema_extra"] = {"x-catalog": spec.catalog}
            if spec.within is not None:
                constraints["json_schema_extra"]["x-within"] = spec.within
        if spec.kind is Kind.DECIMAL:
            constraints["examples"] = ["4.98"]
        if spec.required:
            fields[spec.name] = (python_type, Field(**constraints))
        else:
            fields[spec.name] = (python_type | None, Field(default=None, **constraints))
    return create_model(
        f"{_camel(section.name)}Values",
        __config__=ConfigDict(extra="forbid"),
        __doc__=section.label,
        **fields,
    )


def _input_model(section: RecordSection, values: type[BaseModel]) -> type[BaseModel]:
    fields: dict[str, Any] = {"values": (values, Field(description=section.label))}
    if section.dated:
        fields["valid_from"] = (IsoDay, Field(description="Có hiệu lực từ ngày"))
        fields["valid_to"] = (IsoDay | None, Field(default=None, description="Đến ngày (để trống: đến nay)"))
    fields["decision"] = (Decision, Field(default_factory=Decision, description="Quyết định"))
    return create_model(f"{_camel(section.name)}EntryInput", __config__=ConfigDict(extra="forbid"), **fields)


def _entry_model(section: RecordSection, values: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        f"{_camel(section.name)}Entry",
        id=(str, Field(description="Mã phiên bản này")),
        entry_id=(str, Field(description="Mã mục, giữ nguyên qua các lần đính chính")),
        version=(int, Field(description="Phiên bản; gửi lại trong If-Match khi đính chính hoặc rút")),
        valid_from=(IsoDay | None, None),
        valid_to=(IsoDay | None, None),
        values=(values, ...),
        decision=(Decision, ...),
        change=(str, Field(description="recorded, corrected, closed (bởi mục kế tiếp) hoặc retracted")),
        recorded_at=(datetime, ...),
        recorded_by=(str, ...),
        superseded_at=(datetime | None, None),
    )


def _entry(message: record_pb2.RecordEntry) -> dict[str, Any]:
    decision = message.decision
    return {
        "id": message.id,
        "entry_id": message.entry_id,
        "version": message.version,
        "valid_from": message.valid_from or None,
        "valid_to": message.valid_to or None,
        "values": json.loads(message.values_json),
        "decision": {
            "number": decision.number,
            "date": decision.date or None,
            "body": decision.body,
            "signer": decision.signer,
            "signer_post": decision.signer_post,
        },
        "change": message.change,
        "recorded_at": message.recorded_at,
        "recorded_by": message.recorded_by,
        "superseded_at": message.superseded_at or None,
    }


def _input(body: BaseModel) -> record_pb2.RecordEntryInput:
    data = body.model_dump(mode="json")
    decision = data["decision"]
    return record_pb2.RecordEntryInput(
        values_json=json.dumps({k: v for k, v in data["values"].items() if v is not None}, ensure_ascii=False),
        valid_from=data.get("valid_from") or "",
        valid_to=data.get("valid_to") or "",
        decision=record_pb2.RecordDecision(
            number=decision["number"],
            date=decision["date"] or "",
            body=decision["body"],
            signer=decision["signer"],
            signer_post=decision["signer_post"],
        ),
    )


def etag(version: int) -> str:
    return f'"{version}"'


class MissingPrecondition(Exception):
    pass


def version_in(if_match: str | None) -> int:
    """The version an `If-Match` header names (the entry's ETag, as read)."""
    if not if_match:
        raise MissingPrecondition(
            "If-Match: bắt buộc, là ETag của mục khi đọc (để không ghi đè sửa đổi của người khác)"
        )
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not _VERSION.fullmatch(tag) or int(tag) > MAX_VERSION:
        raise MissingPrecondition(f"If-Match: {if_match!r} không phải ETag của một mục hồ sơ")
    return int(tag)


_VERSION = re.compile(r"[0-9]{1,10}")
MAX_VERSION = 2**31 - 1
"""The largest version an entry or a decision can have (an int32 in the contract)."""


AsOf = Annotated[IsoDay | None, Query(description="Hồ sơ tại ngày này (mặc định: hôm nay)")]
KnownAt = Annotated[IsoInstant | None, Query(description="Như hệ thống biết tại thời điểm này (RFC 3339, có múi giờ)")]
IfMatch = Annotated[str | None, Header(description="ETag của mục khi đọc")]


def _add_section_routes(section: RecordSection, entry_model: type[BaseModel], input_model: type[BaseModel]) -> None:
    """The section's operations: its entries listed, one added, corrected, retracted, its versions."""
    base = f"/persons/{{person_id}}/{section.name}"
    tags: list[str | Enum] = [f"Hồ sơ: {section.label}"]

    async def list_entries(
        person_id: str, principal: Caller, backends: BackendsDep, as_of: AsOf = None, known_at: KnownAt = None
    ) -> list[entry_model]:  # type: ignore[valid-type]
        response = await backends.record.ListRecordEntries(
            record_pb2.ListRecordEntriesRequest(
                person_id=person_id,
                section=section.name,
                as_of=as_of.isoformat() if as_of else "",
                known_at=known_at.isoformat() if known_at else "",
            ),
            **backends.call_options(principal.token),
        )
        return [entry_model.model_validate(_entry(e)) for e in response.entries]

    async def add_entry(
        person_id: str,
        body: input_model,  # type: ignore[valid-type]
        principal: Caller,
        backends: BackendsDep,
        response: Response,
    ) -> entry_model:  # type: ignore[valid-type]
        added = await backends.record.AddRecordEntry(
            record_pb2.AddRecordEntryRequest(person_id=person_id, section=section.name, input=_input(body)),
            **backends.call_options(principal.token),
        )
        response.headers["ETag"] = etag(added.entry.version)
        return entry_model.model_validate(_entry(added.entry))

    async def correct_entry(
        person_id: str,
        entry_id: str,
        body: input_model,  # type: ignore[valid-type]
        principal: Caller,
        backends: BackendsDep,
        response: Response,
        if_match: IfMatch = None,
    ) -> Any:
        try:
            expected = version_in(if_match)
        except MissingPrecondition as missing:
            return problem(status.HTTP_428_PRECONDITION_REQUIRED, "PreconditionRequired", str(missing))
        corrected = await backends.record.CorrectRecordEntry(
            record_pb2.CorrectRecordEntryRequest(
                person_id=person_id,
                section=section.name,
                entry_id=entry_id,
                expected_version=expected,
                input=_input(body),
            ),
            **backends.call_options(principal.token),
        )
        response.headers["ETag"] = etag(corrected.entry.version)
        return entry_model.model_validate(_entry(corrected.entry))

    async def retract_entry(
        person_id: str,
        entry_id: str,
        principal: Caller,
        backends: BackendsDep,
        if_match: IfMatch = None,
    ) -> Any:
        try:
            expected = version_in(if_match)
        except MissingPrecondition as missing:
            return problem(status.HTTP_428_PRECONDITION_REQUIRED, "PreconditionRequired", str(missing))
        retracted = await backends.record.RetractRecordEntry(
            record_pb2.RetractRecordEntryRequest(
                person_id=person_id, section=section.name, entry_id=entry_id, expected_version=expected
            ),
            **backends.call_options(principal.token),
        )
        return entry_model.model_validate(_entry(retracted.entry))

    async def entry_versions(
        person_id: str, entry_id: str, principal: Caller, backends: BackendsDep
    ) -> list[entry_model]:  # type: ignore[valid-type]
        response = await backends.record.ListRecordEntryVersions(
            record_pb2.ListRecordEntryVersionsRequest(person_id=person_id, section=section.name, entry_id=entry_id),
            **backends.call_options(principal.token),
        )
        return [entry_model.model_validate(_entry(e)) for e in response.entries]

    precondition = {
        412: {"description": "The entry changed since it was read: read it again"},
        428: {"description": "If-Match is missing or is not an entry's ETag"},
    }
    router.add_api_route(
        base,
        list_entries,
        methods=["GET"],
        tags=tags,
        name=f"list_{section.name}",
        summary=f"{section.label}: các mục",
        response_model=list[entry_model],  # type: ignore[valid-type]
    )
    router.add_api_route(
        base,
        add_entry,
        methods=["POST"],
        tags=tags,
        name=f"add_{section.name}",
        summary=f"{section.label}: ghi nhận thay đổi",
        status_code=status.HTTP_201_CREATED,
        response_model=entry_model,
    )
    router.add_api_route(
        f"{base}/{{entry_id}}",
        correct_entry,
        methods=["PUT"],
        tags=tags,
        name=f"correct_{section.name}",
        summary=f"{section.label}: đính chính một mục",
        response_model=entry_model,
        responses=precondition,  # type: ignore[arg-type]
    )
    router.add_api_route(
        f"{base}/{{entry_id}}",
        retract_entry,
        methods=["DELETE"],
        tags=tags,
        name=f"retract_{section.name}",
        summary=f"{section.label}: rút một mục ghi nhầm",
        response_model=entry_model,
        responses=precondition,  # type: ignore[arg-type]
    )
    router.add_api_route(
        f"{base}/{{entry_id}}/versions",
        entry_versions,
        methods=["GET"],
        tags=tags,
        name=f"versions_{section.name}",
        summary=f"{section.label}: các phiên bản của một mục",
        response_model=list[entry_model],  # type: ignore[valid-type]
    )


VALUES_MODELS: dict[str, type[BaseModel]] = {}
"""Each section's typed values, by section name (decisions reuse them for their items)."""
_ENTRY_MODELS: dict[str, type[BaseModel]] = {}
_INPUT_MODELS: dict[str, type[BaseModel]] = {}
for _section in SECTIONS:
    _values = VALUES_MODELS[_section.name] = _values_model(_section)
    _ENTRY_MODELS[_section.name] = _entry_model(_section, _values)
    _INPUT_MODELS[_section.name] = _input_model(_section, _values)

RecordSections = create_model(  # type: ignore[call-overload]
    "RecordSections",
    **{name: (list[model] | None, Field(default=None)) for name, model in _ENTRY_MODELS.items()},  # type: ignore[valid-type]
)


class TermOfOfficePublic(BaseModel):
    """Thời hạn giữ chức vụ của một quyết định bổ nhiệm hoặc luân chuyển còn hiệu lực tại ngày xem."""

    entry_id: str
    section: Literal["appointments", "rotations"]
    post: str = Field(description="Chức vụ")
    ends_on: IsoDay = Field(description="Ngày cuối của thời hạn (ngày bắt đầu cộng số tháng, trừ một ngày)")


class WholeRecord(BaseModel):
    person: PersonPublic
    sections: RecordSections = Field(  # type: ignore[valid-type]
        description="Các mục người gọi được xem; mục không được xem thì không có"
    )
    next_regular_raise: IsoDay | None = Field(description="Ngày đến hạn nâng bậc lương thường xuyên")
    retirement_date: IsoDay | None = Field(description="Ngày nghỉ hưu theo tuổi (hết ngày cuối của tháng đủ tuổi)")
    terms: list[TermOfOfficePublic] = Field(
        description="Thời hạn giữ chức vụ của các quyết định bổ nhiệm, luân chuyển còn hiệu lực, sớm hết trước"
    )


@router.get("/persons/{person_id}/record", tags=["Hồ sơ cán bộ"])
async def whole_record(
    person_id: str, principal: Caller, backends: BackendsDep, as_of: AsOf = None, known_at: KnownAt = None
) -> WholeRecord:
    """Toàn bộ hồ sơ: mọi mục người gọi được xem, tại một ngày, như hệ thống biết tại một thời điểm."""
    response = await backends.record.GetRecord(
        record_pb2.GetRecordRequest(
            person_id=person_id,
            as_of=as_of.isoformat() if as_of else "",
            known_at=known_at.isoformat() if known_at else "",
        ),
        **backends.call_options(principal.token),
    )
    sections: dict[str, list[dict[str, Any]]] = {name: [] for name in response.sections}
    for entry in response.entries:
        sections[entry.section].append(_entry(entry))
    return WholeRecord.model_validate(
        {
            "person": person_public(response.person),
            "sections": sections,
            "next_regular_raise": response.next_regular_raise or None,
            "retirement_date": response.retirement_date or None,
            "terms": [_term(t) for t in response.terms],
        }
    )


def _with_section(name: str, model: type[BaseModel], role: str) -> type[BaseModel]:
    """`model` with the section it belongs to, by which a list of entries of any section is told apart."""
    section_type: Any = Literal[name]
    return create_model(
        f"{_camel(name)}{role}",
        __base__=model,
        section=(section_type, Field(description="Mục hồ sơ")),
    )


def _any_section(role: str, models: dict[str, type[BaseModel]]) -> Any:
    choices = tuple(_with_section(name, model, role) for name, model in models.items())
    return Annotated[Union[choices], Field(discriminator="section")]  # noqa: UP007


AnyEntryItem = _any_section("EntryItem", _INPUT_MODELS)
AnyRecordedEntry = _any_section("RecordedEntry", _ENTRY_MODELS)


class RecordEntriesInput(BaseModel):
    """Several changes to one record, recorded in this order (each timeline chronologically)."""

    model_config = ConfigDict(extra="forbid")

    entries: list[AnyEntryItem] = Field(  # type: ignore[valid-type]
        min_length=1, max_length=MAX_ENTRIES_AT_ONCE, description="Các mục, mỗi mục ghi rõ mục hồ sơ (section)"
    )


class RecordEntriesRecorded(BaseModel):
    entries: list[AnyRecordedEntry] = Field(description="Các mục đã ghi, theo thứ tự gửi")  # type: ignore[valid-type]


@router.post("/persons/{person_id}/record", status_code=status.HTTP_201_CREATED, tags=["Hồ sơ cán bộ"])
async def add_record_entries(
    person_id: str, body: RecordEntriesInput, principal: Caller, backends: BackendsDep
) -> RecordEntriesRecorded:
    """Ghi nhiều mục của hồ sơ một lần (nhập hồ sơ giấy): theo thứ tự gửi, mỗi mục được kiểm tra như khi ghi
    riêng; một mục bị từ chối thì không mục nào được ghi, lỗi chỉ rõ `entries[i]`."""
    response = await backends.record.AddRecordEntries(
        record_pb2.AddRecordEntriesRequest(
            person_id=person_id,
            entries=[
                record_pb2.RecordEntryItem(section=item.section, input=_input(item))  # type: ignore[attr-defined]
                for item in body.entries
            ],
        ),
        **backends.call_options(principal.token),
    )
    return RecordEntriesRecorded.model_validate(
        {"entries": [_entry(e) | {"section": e.section} for e in response.entries]}
    )


class RetirementDuePublic(BaseModel):
    person: PersonPublic
    retires_on: IsoDay = Field(description="Ngày nghỉ hưu")


def _period_end(start: date, months: int) -> date:
    """The last day of the `months` months from `start` (the last day there is, far in the future)."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    if year > date.max.year:
        return date.max
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - dt.timedelta(days=1)


@dataclass(frozen=True)
class ListingPeriod:
    """A listing period as the request gives it: its first and last days, in the unit or its subtree."""

    include_subtree: bool
    from_date: str
    to_date: str


def listing_period(
    from_date: Annotated[IsoDay, Query(alias="from", description="Từ ngày")],
    months: Annotated[int, Query(ge=1, le=60, description="Trong số tháng (đến 5 năm)")] = 12,
    include_subtree: bool = False,
) -> ListingPeriod:
    return ListingPeriod(include_subtree, from_date.isoformat(), _period_end(from_date, months).isoformat())


PeriodDep = Annotated[ListingPeriod, Depends(listing_period)]


@router.get("/units/{unit_id}/retirements-due", tags=["Hồ sơ cán bộ"])
async def retirements_due(
    unit_id: str, principal: Caller, backends: BackendsDep, period: PeriodDep
) -> list[RetirementDuePublic]:
    """Cán bộ đến tuổi nghỉ hưu trong kỳ (Nghị định 135/2020/NĐ-CP), sớm nhất trước."""
    response = await backends.record.ListRetirementsDue(
        record_pb2.ListRetirementsDueRequest(unit_id=unit_id, **asdict(period)),
        **backends.call_options(principal.token),
    )
    return [
        RetirementDuePublic(person=person_public(item.person), retires_on=date.fromisoformat(item.retires_on))
        for item in response.items
    ]


class TermEndingPublic(BaseModel):
    person: PersonPublic
    term: TermOfOfficePublic


@router.get("/units/{unit_id}/terms-ending", tags=["Hồ sơ cán bộ"])
async def terms_ending(
    unit_id: str, principal: Caller, backends: BackendsDep, period: PeriodDep
) -> list[TermEndingPublic]:
    """Cán bộ hết thời hạn giữ chức vụ (bổ nhiệm, luân chuyển) trong kỳ, sớm nhất trước: người cần
    chuẩn bị bổ nhiệm lại."""
    response = await backends.record.ListTermsEnding(
        record_pb2.ListTermsEndingRequest(unit_id=unit_id, **asdict(period)),
        **backends.call_options(principal.token),
    )
    return [TermEndingPublic(person=person_public(item.person), term=_term(item.term)) for item in response.items]


def _term(term: record_pb2.TermOfOffice) -> TermOfOfficePublic:
    return TermOfOfficePublic.model_validate(
        {"entry_id": term.entry_id, "section": term.section, "post": term.post, "ends_on": term.ends_on}
    )


class CatalogValuePublic(BaseModel):
    code: str
    label: str
    stat_group: str | None = Field(description="Nhóm thống kê trên các biểu mẫu báo cáo")
    valid_from: IsoDay
    valid_to: IsoDay | None
    attributes: dict[str, Any]
    legal_basis: str


CatalogParent = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$",
        description="Chỉ các giá trị thuộc mã này của danh mục cấp trên (communes: mã tỉnh, thành phố)",
    ),
]


@router.get("/catalogs/{catalog}", tags=["Danh mục"])
async def catalog_values(
    catalog: str, principal: Caller, backends: BackendsDep, as_of: AsOf = None, parent: CatalogParent = None
) -> list[CatalogValuePublic]:
    """Các giá trị của một danh mục còn hiệu lực tại một ngày; với `parent`, chỉ các giá trị thuộc
    đơn vị cấp trên đó (các xã, phường, đặc khu của một tỉnh)."""
    response = await backends.record.ListCatalogValues(
        record_pb2.ListCatalogValuesRequest(
            catalog=catalog, as_of=as_of.isoformat() if as_of else "", parent=parent or ""
        ),
        **backends.call_options(principal.token),
    )
    return [_catalog_public(v) for v in response.values]


class CatalogValueInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: SingleLineText = Field(min_length=1, max_length=255, description="Tên")
    valid_from: IsoDay = Field(description="Có hiệu lực từ ngày")
    legal_basis: SingleLineText = Field(min_length=1, max_length=1000, description="Căn cứ pháp lý")
    stat_group: SingleLineText = Field(default="", max_length=32, description="Nhóm thống kê")
    attributes: dict[str, Any] = Field(default_factory=dict, description="Thuộc tính (ví dụ hệ số các bậc của ngạch)")


class CatalogValueEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_to: IsoDay = Field(description="Ngày cuối còn hiệu lực")


def _catalog_public(value: record_pb2.CatalogValue) -> CatalogValuePublic:
    return CatalogValuePublic(
        code=value.code,
        label=value.label,
        stat_group=value.stat_group or None,
        valid_from=date.fromisoformat(value.valid_from),
        valid_to=date.fromisoformat(value.valid_to) if value.valid_to else None,
        attributes=json.loads(value.attributes_json),
        legal_basis=value.legal_basis,
    )


CatalogCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$", description="Mã")]


@router.put("/catalogs/{catalog}/{code}", tags=["Danh mục"])
async def put_catalog_value(
    catalog: str, code: CatalogCode, body: CatalogValueInput, principal: Caller, backends: BackendsDep
) -> CatalogValuePublic:
    """Thêm mã, hoặc phiên bản mới của mã từ một ngày (phiên bản trước kết thúc hôm trước): Vụ TCCB."""
    response = await backends.record.PutCatalogValue(
        record_pb2.PutCatalogValueRequest(
            catalog=catalog,
            code=code,
            label=body.label,
            valid_from=body.valid_from.isoformat(),
            legal_basis=body.legal_basis,
            stat_group=body.stat_group,
            attributes_json=json.dumps(body.attributes, ensure_ascii=False),
        ),
        **backends.call_options(principal.token),
    )
    return _catalog_public(response.value)


@router.post("/catalogs/{catalog}/{code}/end", tags=["Danh mục"])
async def end_catalog_value(
    catalog: str, code: CatalogCode, body: CatalogValueEnd, principal: Caller, backends: BackendsDep
) -> CatalogValuePublic:
    """Ngày cuối một mã còn hiệu lực (hình thức bị bãi bỏ…): hồ sơ cũ vẫn giữ mã đó cho các ngày nó còn hiệu lực."""
    response = await backends.record.EndCatalogValue(
        record_pb2.EndCatalogValueRequest(catalog=catalog, code=code, valid_to=body.valid_to.isoformat()),
        **backends.call_options(principal.token),
    )
    return _catalog_public(response.value)


# The sections' operations come after the routes above: a request is matched against the routes in
# order, and the whole record, read far more often than any one section, should not first be tried
# against the sections' hundred-odd.
for _section in SECTIONS:
    _add_section_routes(_section, _ENTRY_MODELS[_section.name], _INPUT_MODELS[_section.name])
