"""The roll-up to the national report system (R-REP-5, R-OPS-1): the deliveries of approved
top-level reports and where each stands, sending a failed one again, and recording a report that
reached the national system by other means; forwarded to reports' `ReportRollupService`. For the
system admin and the sector's reporting tier."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from qlcb.reports.v1 import rollup_pb2
from qlcb_common.days import IsoDay
from qlcb_common.text import SingleLineText
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.routes.report_regimes import _dict

router = APIRouter(prefix="/v1", tags=["Báo cáo"])

DeliveryStatus = Literal["pending", "sent", "failed", "withdrawn", "sent_outside"]


class SentOutsidePublic(BaseModel):
    assignment_id: str
    sent_on: IsoDay = Field(description="Ngày đã gửi ngoài hệ thống")
    channel: str = Field(description="Hình thức gửi, ví dụ: văn bản điện tử qua hệ thống quản lý văn bản")
    reference: str = Field(description="Số, ký hiệu văn bản hoặc mã tiếp nhận")
    note: str
    recorded_by: str
    recorded_at: datetime


class DeliveryPublic(BaseModel):
    id: str
    assignment_id: str
    report_version: int = Field(description="Phiên bản báo cáo đã duyệt được gửi")
    regime_id: str
    regime_code: str
    period_id: str
    period_key: str
    unit_id: str
    unit_name: str
    status: DeliveryStatus = Field(
        description="pending: chờ gửi; sent: hệ thống quốc gia đã nhận; failed: bị từ chối hoặc hết số lần thử; "
        "withdrawn: báo cáo được mở lại trước khi gửi được; sent_outside: đã gửi ngoài hệ thống"
    )
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None = Field(description="Mã HTTP của lần trả lời gần nhất")
    last_error: str | None = Field(description="Lỗi của lần thử gần nhất: lý do của bên nhận, hết thời gian chờ, …")
    idempotency_key: str
    created_at: datetime
    acknowledged_at: datetime | None = Field(description="Lúc hệ thống báo cáo quốc gia xác nhận đã nhận")
    sent_outside: SentOutsidePublic | None


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]


class SentOutsideBody(BaseModel):
    sent_on: IsoDay = Field(description="Ngày đã gửi (không sau hôm nay)")
    channel: SingleLineText = Field(min_length=1, max_length=255, description="Hình thức gửi")
    reference: SingleLineText = Field(min_length=1, max_length=255, description="Số, ký hiệu văn bản đã gửi")
    note: SingleLineText = Field(default="", max_length=2000)


class SentOutsideRecorded(BaseModel):
    sent_outside: SentOutsidePublic
    stopped: list[DeliveryPublic] = Field(description="Các lần gửi chưa được nhận đã dừng vì bản ghi này")


def _or_none(fields: dict[str, Any], *names: str) -> None:
    for name in names:
        fields[name] = fields[name] or None


def sent_outside_public(message: rollup_pb2.SentOutside) -> SentOutsidePublic:
    return SentOutsidePublic.model_validate(_dict(message))


def delivery_public(message: rollup_pb2.Delivery) -> DeliveryPublic:
    fields = _dict(message)
    _or_none(fields, "next_attempt_at", "last_status", "last_error", "acknowledged_at")
    fields["sent_outside"] = sent_outside_public(message.sent_outside) if message.HasField("sent_outside") else None
    return DeliveryPublic.model_validate(fields)


@router.get("/report-rollup/deliveries")
async def list_deliveries(
    principal: Caller,
    backends: BackendsDep,
    period_id: Annotated[str, Query(max_length=36, description="Chỉ của kỳ báo cáo này")] = "",
    status_filter: Annotated[DeliveryStatus | None, Query(alias="status", description="Chỉ ở trạng thái này")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeliveryList:
    """Các lần gửi báo cáo tổng hợp lên hệ thống báo cáo quốc gia, mới nhất trước: trạng thái, số
    lần thử, lỗi gần nhất, lúc được xác nhận đã nhận."""
    response = await backends.report_rollup.ListDeliveries(
        rollup_pb2.ListDeliveriesRequest(period_id=period_id, status=status_filter or "", limit=limit),
        **backends.call_options(principal.token),
    )
    return DeliveryList(items=[delivery_public(d) for d in response.deliveries])


@router.post(
    "/report-rollup/deliveries/{delivery_id}/retry",
    responses={
        404: {"description": "No delivery `delivery_id`"},
        409: {"description": "The delivery was acknowledged, withdrawn or sent outside the system"},
    },
)
async def retry_delivery(
    delivery_id: Annotated[str, Path(description="Lần gửi")], principal: Caller, backends: BackendsDep
) -> DeliveryPublic:
    """Gửi lại ngay một lần gửi bị lỗi (hoặc đang chờ, không đợi lần thử kế tiếp); số lần thử đếm lại từ đầu."""
    response = await backends.report_rollup.RetryDelivery(
        rollup_pb2.RetryDeliveryRequest(delivery_id=delivery_id), **backends.call_options(principal.token)
    )
    return delivery_public(response.delivery)


@router.post(
    "/report-assignments/{assignment_id}/sent-outside",
    status_code=status.HTTP_201_CREATED,
    responses={
        404: {"description": "No report `assignment_id`"},
        409: {
            "description": "Recorded already, acknowledged by the national system already, or a report with a "
            "report above it (sent within this system)"
        },
    },
)
async def record_sent_outside(
    assignment_id: Annotated[str, Path(description="Báo cáo được giao (cấp cao nhất của kỳ)")],
    body: SentOutsideBody,
    principal: Caller,
    backends: BackendsDep,
) -> SentOutsideRecorded:
    """Ghi nhận báo cáo đã gửi lên hệ thống báo cáo quốc gia bằng hình thức khác khi hệ thống gián
    đoạn (004 Điều 9.4): ngày, hình thức, số văn bản. Hệ thống sẽ không tự gửi báo cáo này nữa."""
    response = await backends.report_rollup.RecordSentOutside(
        rollup_pb2.RecordSentOutsideRequest(
            assignment_id=assignment_id,
            sent_on=body.sent_on.isoformat(),
            channel=body.channel,
            reference=body.reference,
            note=body.note,
        ),
        **backends.call_options(principal.token),
    )
    return SentOutsideRecorded(
        sent_outside=sent_outside_public(response.sent_outside),
        stopped=[delivery_public(d) for d in response.stopped],
    )
