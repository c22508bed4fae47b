"""Decisions as documents over REST (R-PER-3): one request per decision, typed by its kind (the
items of an appointment carry appointment values, of a raise salary values…), built from the
declarations of `qlcb_common.decision_kinds` and the record's sections.

No `from __future__ import annotations` here: FastAPI reads the body type from the annotation,
which names a union of models built at run time."""

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal, Union, cast

import grpc
from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, create_model

from qlcb.personnel.v1 import decision_pb2
from qlcb_common.days import IsoDay
from qlcb_common.decision_kinds import KINDS, MAX_PEOPLE, DecisionKind
from qlcb_common.http_errors import problem
from qlcb_common.record_sections import MAX_DECISION_TEXT, MAX_SIGNER
from qlcb_common.text import SingleLineText
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.errors import refuse_query_fields
from qlcb_gateway.routes.record import VALUES_MODELS, MissingPrecondition, etag, version_in

router = APIRouter(prefix="/v1", tags=["Quyết định"])

STATES = ("pending", "applied", "failed", "cancelled")
_STATE_OF = {
    "pending": decision_pb2.DECISION_STATE_PENDING,
    "applied": decision_pb2.DECISION_STATE_APPLIED,
    "failed": decision_pb2.DECISION_STATE_FAILED,
    "cancelled": decision_pb2.DECISION_STATE_CANCELLED,
}
_STATE_NAME = {number: name for name, number in _STATE_OF.items()}
State = Literal["pending", "applied", "failed", "cancelled"]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _item_model(kind: DecisionKind) -> type[BaseModel]:
    fields: dict[str, Any] = {"person_id": (str, Field(max_length=36, description="Mã hồ sơ"))}
    if kind.section is not None:
        section = kind.record_section
        assert section is not None
        fields["values"] = (VALUES_MODELS[kind.section], Field(description=section.label))
        fields["valid_to"] = (IsoDay | None, Field(default=None, description="Đến ngày (để trống: đến nay)"))
    return create_model(f"{_camel(kind.name)}DecisionItem", __config__=ConfigDict(extra="forbid"), **fields)


def _request_model(kind: DecisionKind) -> type[BaseModel]:
    fields: dict[str, Any] = {
        "kind": (Literal[kind.name], Field(description=kind.label)),
        "number": (SingleLineText, Field(max_length=100, description="Số quyết định, ví dụ 125/QĐ-TCHQ")),
        "decision_date": (IsoDay, Field(description="Ngày ký")),
        "effective_date": (IsoDay, Field(description="Ngày có hiệu lực: hôm nay hoặc trước thì áp dụng ngay")),
        "body": (SingleLineText, Field(max_length=MAX_DECISION_TEXT, description="Cơ quan ban hành")),
        "signer": (SingleLineText, Field(max_length=MAX_SIGNER, description="Người ký")),
        "signer_post": (
            SingleLineText,
            Field(default="", max_length=MAX_DECISION_TEXT, description="Chức vụ người ký"),
        ),
        "summary": (SingleLineText, Field(default="", max_length=500, description="Trích yếu")),
        "items": (
            list[_item_model(kind)],  # type: ignore[misc]
            Field(min_length=1, max_length=MAX_PEOPLE, description="Những người được quyết định"),
        ),
    }
    return create_model(
        f"{_camel(kind.name)}DecisionInput", __config__=ConfigDict(extra="forbid"), __doc__=kind.label, **fields
    )


_REQUEST_MODELS = tuple(_request_model(kind) for kind in KINDS)
DecisionInput: Any = Annotated[Union[_REQUEST_MODELS], Field(discriminator="kind")]  # noqa: UP007


class DecisionItemPublic(BaseModel):
    person_id: str
    values: dict[str, Any] = Field(description="Giá trị mục hồ sơ quyết định ghi (theo mục của loại quyết định)")
    valid_to: IsoDay | None
    entry_id: str | None = Field(description="Mục hồ sơ đã ghi khi áp dụng")


class DecisionPublic(BaseModel):
    id: str
    kind: str
    number: str
    decision_date: IsoDay
    effective_date: IsoDay
    body: str
    signer: str
    signer_post: str
    summary: str
    state: State = Field(description="pending: chờ ngày hiệu lực; applied; failed: không áp dụng được; cancelled")
    items: list[DecisionItemPublic] = Field(description="Những người trong quyết định mà người gọi được xem")
    people_total: int = Field(description="Số người quyết định nêu")
    version: int = Field(description="Phiên bản; gửi lại trong If-Match khi hủy")
    created_by: str
    created_at: datetime
    applied_at: datetime | None
    failure: str | None = Field(description="Lý do không áp dụng được")
    cancelled_at: datetime | None
    cancelled_by: str | None
    cancel_reason: str | None
    cancel_number: str | None


class ReversedEntry(BaseModel):
    section: str
    entry_id: str
    version: int
    change: str = Field(description="retracted (mục quyết định đã ghi) hoặc reopened (mục trước đó được mở lại)")


class CancelledDecision(BaseModel):
    decision: DecisionPublic
    reversed: list[ReversedEntry]


class DecisionCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="Lý do hủy")
    cancel_number: str = Field(default="", max_length=100, description="Số quyết định hủy bỏ, nếu có")


class DecisionKindPublic(BaseModel):
    name: str
    label: str
    section: str | None = Field(description="Mục hồ sơ quyết định ghi cho mỗi người")
    status: str | None = Field(description="Hoặc tình trạng quyết định đặt cho mỗi người")


def _public(message: decision_pb2.Decision) -> DecisionPublic:
    return DecisionPublic(
        id=message.id,
        kind=message.kind,
        number=message.number,
        decision_date=date.fromisoformat(message.decision_date),
        effective_date=date.fromisoformat(message.effective_date),
        body=message.body,
        signer=message.signer,
        signer_post=message.signer_post,
        summary=message.summary,
        state=_STATE_NAME[message.state],  # type: ignore[arg-type]
        items=[
            DecisionItemPublic(
                person_id=item.person_id,
                values=json.loads(item.values_json or "{}"),
                valid_to=date.fromisoformat(item.valid_to) if item.valid_to else None,
                entry_id=item.entry_id or None,
            )
            for item in message.items
        ],
        people_total=message.people_total,
        version=message.version,
        created_by=message.created_by,
        created_at=datetime.fromisoformat(message.created_at),
        applied_at=datetime.fromisoformat(message.applied_at) if message.applied_at else None,
        failure=message.failure or None,
        cancelled_at=datetime.fromisoformat(message.cancelled_at) if message.cancelled_at else None,
        cancelled_by=message.cancelled_by or None,
        cancel_reason=message.cancel_reason or None,
        cancel_number=message.cancel_number or None,
    )


@router.get("/decision-kinds")
async def decision_kinds(principal: Caller) -> list[DecisionKindPublic]:
    """Các loại quyết định và mục hồ sơ (hoặc tình trạng) mỗi loại ghi."""
    return [DecisionKindPublic(name=k.name, label=k.label, section=k.section, status=k.status) for k in KINDS]


@router.post(
    "/decisions",
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "A person named is unknown or outside the caller's reach"}},
)
async def create_decision(
    body: DecisionInput,
    principal: Caller,
    backends: BackendsDep,
    response: Response,
) -> DecisionPublic:
    """Ghi nhận một quyết định cho một hay nhiều người: kiểm tra toàn bộ, áp dụng ngay nếu đã đến ngày
    hiệu lực, nếu chưa thì chờ đến ngày đó. Không ghi gì nếu có lỗi ở bất kỳ người nào."""
    data = cast(BaseModel, body).model_dump(mode="json")
    created = await backends.decisions.CreateDecision(
        decision_pb2.CreateDecisionRequest(
            kind=data["kind"],
            number=data["number"],
            decision_date=data["decision_date"],
            effective_date=data["effective_date"],
            body=data["body"],
            signer=data["signer"],
            signer_post=data["signer_post"],
            summary=data["summary"],
            items=[
                decision_pb2.DecisionItem(
                    person_id=item["person_id"],
                    values_json=json.dumps(
                        {k: v for k, v in item.get("values", {}).items() if v is not None}, ensure_ascii=False
                    ),
                    valid_to=item.get("valid_to") or "",
                )
                for item in data["items"]
            ],
        ),
        **backends.call_options(principal.token),
    )
    response.headers["ETag"] = etag(created.decision.version)
    return _public(created.decision)


KindName: Any = Literal[tuple(kind.name for kind in KINDS)]


class DecisionsPage(BaseModel):
    items: list[DecisionPublic]
    next_page_token: str | None = Field(description="Hỏi trang sau bằng mã này; null ở trang cuối")


PageSize = Annotated[int, Query(ge=1, le=200, description="Số quyết định mỗi trang")]
PageToken = Annotated[str, Query(max_length=200, description="next_page_token của trang trước")]


async def _listed(
    principal: Caller,
    backends: BackendsDep,
    request: decision_pb2.ListDecisionsRequest,
    state: State | None,
    kind: str | None,
) -> DecisionsPage:
    request.state = _STATE_OF[state] if state else decision_pb2.DECISION_STATE_UNSPECIFIED
    request.kind = kind or ""
    try:
        response = await backends.decisions.ListDecisions(request, **backends.call_options(principal.token))
    except grpc.aio.AioRpcError as error:
        refuse_query_fields(error)
    return DecisionsPage(
        items=[_public(d) for d in response.decisions], next_page_token=response.next_page_token or None
    )


@router.get("/persons/{person_id}/decisions")
async def person_decisions(
    person_id: str,
    principal: Caller,
    backends: BackendsDep,
    state: State | None = None,
    kind: KindName | None = None,
    page_size: PageSize = 50,
    page_token: PageToken = "",
) -> DecisionsPage:
    """Các quyết định về một người, mới nhất trước, từng trang."""
    request = decision_pb2.ListDecisionsRequest(person_id=person_id, page_size=page_size, page_token=page_token)
    return await _listed(principal, backends, request, state, kind)


@router.get("/units/{unit_id}/decisions")
async def unit_decisions(
    unit_id: str,
    principal: Caller,
    backends: BackendsDep,
    include_subtree: bool = False,
    state: State | None = None,
    kind: KindName | None = None,
    page_size: PageSize = 50,
    page_token: PageToken = "",
) -> DecisionsPage:
    """Các quyết định về người hiện thuộc đơn vị (và các đơn vị trực thuộc), mới nhất trước, từng trang."""
    request = decision_pb2.ListDecisionsRequest(
        unit_id=unit_id, include_subtree=include_subtree, page_size=page_size, page_token=page_token
    )
    return await _listed(principal, backends, request, state, kind)


@router.get("/decisions/{decision_id}")
async def get_decision(
    decision_id: str, principal: Caller, backends: BackendsDep, response: Response
) -> DecisionPublic:
    """Một quyết định, với những người trong đó mà người gọi được xem."""
    found = await backends.decisions.GetDecision(
        decision_pb2.GetDecisionRequest(decision_id=decision_id), **backends.call_options(principal.token)
    )
    response.headers["ETag"] = etag(found.decision.version)
    return _public(found.decision)


@router.post(
    "/decisions/{decision_id}/cancel",
    response_model=CancelledDecision,
    responses={
        412: {"description": "The decision changed since it was read: read it again"},
        428: {"description": "If-Match is missing or is not a decision's ETag"},
    },
)
async def cancel_decision(
    decision_id: str,
    body: DecisionCancel,
    principal: Caller,
    backends: BackendsDep,
    response: Response,
    if_match: Annotated[str | None, Header(description="ETag của quyết định khi đọc")] = None,
) -> Any:
    """Hủy quyết định: chưa áp dụng thì không bao giờ áp dụng; đã áp dụng thì rút mọi mục đã ghi (mở lại
    mục trước đó) và trả lại tình trạng cũ."""
    try:
        expected = version_in(if_match)
    except MissingPrecondition as missing:
        return problem(status.HTTP_428_PRECONDITION_REQUIRED, "PreconditionRequired", str(missing))
    cancelled = await backends.decisions.CancelDecision(
        decision_pb2.CancelDecisionRequest(
            decision_id=decision_id, expected_version=expected, reason=body.reason, cancel_number=body.cancel_number
        ),
        **backends.call_options(principal.token),
    )
    response.headers["ETag"] = etag(cancelled.decision.version)
    return CancelledDecision(
        decision=_public(cancelled.decision),
        reversed=[
            ReversedEntry(section=e.section, entry_id=e.entry_id, version=e.version, change=e.change)
            for e in cancelled.reversed
        ],
    )
