"""`GET /v1/units/{unit_id}/late-entries`: the deadlines for entering data (R-PER-4), per unit and
period, forwarded to personnel's `GetLateEntries`, which judges every entry when it is entered and
keeps the answer inside the caller's scope."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import grpc
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from qlcb.personnel.v1 import deadlines_pb2
from qlcb_common.days import IsoDay
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.errors import refuse_query_fields

router = APIRouter(prefix="/v1")

MAX_PAGE_SIZE = 500


class DeadlineLimit(BaseModel):
    kind: str = Field(description="new_record (lập hồ sơ mới) or update (cập nhật hồ sơ đã có)")
    days: int
    counting: str = Field(description="working_days (ngày làm việc theo lịch Việt Nam) or calendar_days")
    basis: str = Field(description="Căn cứ: văn bản quy định thời hạn")


class EntryTimeliness(BaseModel):
    unit_id: str | None = Field(description="None on the total")
    unit_code: str | None
    unit_name: str | None
    entries: int = Field(description="Số mục nhập trong kỳ có thời hạn")
    late: int = Field(description="Số mục nhập quá hạn")
    late_rate: float = Field(description="Tỷ lệ quá hạn: late / entries, 0 khi không có mục nào")


class LateEntryPublic(BaseModel):
    entry_id: str
    person_id: str
    person_name: str
    unit_id: str = Field(description="Đơn vị của cán bộ khi mục được nhập")
    section: str = Field(description="Mục hồ sơ")
    kind: str = Field(description="new_record or update")
    event_date: IsoDay = Field(description="Ngày phát sinh (ngày hiệu lực)")
    deadline: IsoDay = Field(description="Hạn nhập")
    entered_at: datetime = Field(description="Thời điểm nhập (mục do quyết định ghi: thời điểm nhập quyết định)")
    entered_by: str = Field(description="Tài khoản đã nhập")
    days_late: int = Field(description="Số ngày trễ sau hạn")


class LateEntriesReport(BaseModel):
    unit_id: str
    include_subtree: bool
    from_date: IsoDay = Field(description="Kỳ: từ ngày (query `from`)")
    to_date: IsoDay = Field(description="Kỳ: đến ngày (query `to`)")
    rule: str = Field(description="customs or province")
    limits: list[DeadlineLimit]
    units: list[EntryTimeliness] = Field(description="Từng đơn vị có mục nhập trong kỳ, theo thứ tự cây")
    total: EntryTimeliness
    late_entries: list[LateEntryPublic] = Field(description="Một trang các mục quá hạn, nhập sớm nhất trước")
    next_page_token: str | None


def _timeliness(found: deadlines_pb2.EntryTimeliness) -> EntryTimeliness:
    return EntryTimeliness(
        unit_id=found.unit_id or None,
        unit_code=found.unit_code or None,
        unit_name=found.unit_name or None,
        entries=found.entries,
        late=found.late,
        late_rate=found.late_rate,
    )


@router.get("/units/{unit_id}/late-entries", tags=["Thống kê"])
async def late_entries(
    unit_id: str,
    principal: Caller,
    backends: BackendsDep,
    from_date: Annotated[IsoDay, Query(alias="from", description="Từ ngày nhập (tính theo giờ Việt Nam)")],
    to_date: Annotated[IsoDay, Query(alias="to", description="Đến ngày nhập, kể cả ngày đó; kỳ dài nhất 366 ngày")],
    include_subtree: bool = False,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Số mục quá hạn mỗi trang")] = 100,
    page_token: Annotated[str, Query(max_length=100, description="next_page_token của trang trước")] = "",
) -> LateEntriesReport:
    """Nhập dữ liệu quá hạn (R-PER-4): số mục nhập trong kỳ, số quá hạn và tỷ lệ, theo đơn vị và
    tổng cộng, và danh sách các mục quá hạn, trong phạm vi của tài khoản.

    An entry is due within the sector's limit from its event date (its effective date): customs, 3
    working days on the Vietnamese calendar; province, 30 days for a new record, 15 for an update.
    422 names `to` for a period ending before it starts or longer than 366 days; 403 for a unit
    whose reports the caller does not read."""
    try:
        response = await backends.deadlines.GetLateEntries(
            deadlines_pb2.GetLateEntriesRequest(
                unit_id=unit_id,
                include_subtree=include_subtree,
                from_date=from_date.isoformat(),
                to_date=to_date.isoformat(),
                page_size=page_size,
                page_token=page_token,
            ),
            **backends.call_options(principal.token),
        )
    except grpc.aio.AioRpcError as refused:
        refuse_query_fields(refused)
    return LateEntriesReport(
        unit_id=unit_id,
        include_subtree=include_subtree,
        from_date=from_date,
        to_date=to_date,
        rule=response.rule,
        limits=[DeadlineLimit(kind=x.kind, days=x.days, counting=x.counting, basis=x.basis) for x in response.limits],
        units=[_timeliness(u) for u in response.units],
        total=_timeliness(response.total),
        late_entries=[
            LateEntryPublic(
                entry_id=e.entry_id,
                person_id=e.person_id,
                person_name=e.person_name,
                unit_id=e.unit_id,
                section=e.section,
                kind=e.kind,
                event_date=date.fromisoformat(e.event_date),
                deadline=date.fromisoformat(e.deadline),
                entered_at=datetime.fromisoformat(e.entered_at),
                entered_by=e.entered_by,
                days_late=e.days_late,
            )
            for e in response.late_entries
        ],
        next_page_token=response.next_page_token or None,
    )
