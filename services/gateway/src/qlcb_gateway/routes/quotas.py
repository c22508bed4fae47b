"""Staffing quotas (biên chế, R-ORG-3): given down the unit tree by decisions, read against the
people in service on any day; forwarded to personnel's `UnitQuotaService`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from qlcb.personnel.v1 import quota_pb2
from qlcb_common.days import IsoDay
from qlcb_common.personnel_rules import QUOTA_YEARS
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.schemas import (
    QuotaChangeKind,
    QuotaChangePublic,
    QuotaLinePublic,
    QuotaOverPage,
    QuotaReport,
    QuotaSet,
    QuotaState,
    QuotaTotal,
)

router = APIRouter(prefix="/v1", tags=["Biên chế"])

Year = Annotated[int, Path(ge=QUOTA_YEARS[0], le=QUOTA_YEARS[1], description="Năm giao biên chế")]
UnitId = Annotated[str, Path(description="Đơn vị")]
AsOf = Annotated[IsoDay | None, Query(description="Ngày tính biên chế và số có mặt; mặc định hôm nay")]


def _change(change: quota_pb2.UnitQuotaChange) -> QuotaChangePublic:
    return QuotaChangePublic(
        unit_id=change.unit_id,
        year=change.year,
        quota=change.quota,
        previous_quota=change.previous_quota if change.HasField("previous_quota") else None,
        change=QuotaChangeKind(change.change),
        effective_date=date.fromisoformat(change.effective_date),
        decision=change.decision,
        recorded_at=datetime.fromisoformat(change.recorded_at),
        recorded_by=change.recorded_by,
    )


def _line(line: quota_pb2.QuotaLine) -> QuotaLinePublic:
    quota = line.quota if line.HasField("quota") else None
    if quota is None:
        state = QuotaState.NO_QUOTA
    else:
        state = QuotaState.OVER if line.headcount > quota else QuotaState.WITHIN
    return QuotaLinePublic(
        unit_id=line.unit_id,
        code=line.code,
        name=line.name,
        path=line.path,
        parent_id=line.parent_id or None,
        quota=quota,
        allocated=line.allocated,
        remaining=quota - line.allocated if quota is not None else None,
        headcount=line.headcount,
        own_headcount=line.own_headcount,
        difference=line.headcount - quota if quota is not None else None,
        state=state,
    )


@router.put(
    "/units/{unit_id}/quotas/{year}",
    responses={
        404: {"description": "No unit `unit_id`"},
        409: {
            "description": "The unit is dissolved, its quota would exceed what its parent has left, or it would "
            "fall below what it has allocated to the units below it (the message names the units and figures)"
        },
    },
)
async def set_quota(
    unit_id: UnitId, year: Year, body: QuotaSet, principal: Caller, backends: BackendsDep
) -> QuotaChangePublic:
    """Giao, thay đổi hoặc đính chính biên chế của đơn vị trong năm, theo quyết định.

    Biên chế của đơn vị gốc do cấp ngành giao; của đơn vị khác được phân bổ từ biên chế của đơn vị
    cấp trên: tổng biên chế các đơn vị trực thuộc không vượt biên chế của đơn vị cấp trên. Mỗi lần
    giao là một dòng lịch sử; cùng ngày hiệu lực với lần gần nhất là đính chính lần đó."""
    response = await backends.quotas.SetUnitQuota(
        quota_pb2.SetUnitQuotaRequest(
            unit_id=unit_id,
            year=year,
            quota=body.quota,
            effective_date=body.effective_date.isoformat(),
            decision=body.decision,
        ),
        **backends.call_options(principal.token),
    )
    return _change(response.change)


@router.get("/units/{unit_id}/quotas/{year}", responses={404: {"description": "No unit `unit_id`"}})
async def quota_report(
    unit_id: UnitId,
    year: Year,
    principal: Caller,
    backends: BackendsDep,
    as_of: AsOf = None,
    include_subtree: Annotated[bool, Query(description="Cả các đơn vị trực thuộc trong phạm vi")] = False,
) -> QuotaReport:
    """Biên chế so với số có mặt: giao, đã phân bổ, còn lại, có mặt, thừa/thiếu, tại một ngày."""
    response = await backends.quotas.GetQuotaReport(
        quota_pb2.GetQuotaReportRequest(
            unit_id=unit_id, year=year, as_of=as_of.isoformat() if as_of else "", include_subtree=include_subtree
        ),
        **backends.call_options(principal.token),
    )
    items = [_line(line) for line in response.lines]
    top = items[0]
    return QuotaReport(
        year=response.year,
        as_of=date.fromisoformat(response.as_of),
        items=items,
        total=QuotaTotal(
            quota=top.quota,
            headcount=top.headcount,
            difference=top.difference,
            units_over=sum(1 for i in items if i.state is QuotaState.OVER),
            units_without_quota=sum(1 for i in items if i.state is QuotaState.NO_QUOTA and i.headcount > 0),
        ),
    )


@router.get("/units/{unit_id}/quotas/{year}/history", responses={404: {"description": "No unit `unit_id`"}})
async def quota_history(
    unit_id: UnitId, year: Year, principal: Caller, backends: BackendsDep
) -> list[QuotaChangePublic]:
    """Lịch sử giao biên chế của đơn vị trong năm, cũ nhất trước."""
    response = await backends.quotas.ListUnitQuotaChanges(
        quota_pb2.ListUnitQuotaChangesRequest(unit_id=unit_id, year=year), **backends.call_options(principal.token)
    )
    return [_change(change) for change in response.changes]


@router.get("/quotas/{year}/over")
async def units_over_quota(year: Year, principal: Caller, backends: BackendsDep, as_of: AsOf = None) -> QuotaOverPage:
    """Các đơn vị trong phạm vi của tài khoản có số có mặt vượt biên chế được giao, và các đơn vị
    có cán bộ mà chưa giao biên chế, theo thứ tự cây."""
    response = await backends.quotas.ListUnitsOverQuota(
        quota_pb2.ListUnitsOverQuotaRequest(year=year, as_of=as_of.isoformat() if as_of else ""),
        **backends.call_options(principal.token),
    )
    return QuotaOverPage(
        year=response.year, as_of=date.fromisoformat(response.as_of), items=[_line(line) for line in response.lines]
    )
