from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import quota_pb2, quota_pb2_grpc
from qlcb_common.authz import Delegation
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.quotas import service
from qlcb_personnel.quotas.service import Line

Context = Any


class UnitQuotaServicer(quota_pb2_grpc.UnitQuotaServiceServicer):
    def __init__(self, db: Database, outbox: Outbox, delegations: DelegationCopy) -> None:
        self._db = db
        self._outbox = outbox
        self._delegations = delegations

    async def _granted(self, session: AsyncSession) -> list[Delegation]:
        return await self._delegations.for_caller(session, current_principal())

    async def SetUnitQuota(
        self, request: quota_pb2.SetUnitQuotaRequest, context: Context
    ) -> quota_pb2.SetUnitQuotaResponse:
        async with self._db.unit_of_work() as session:
            row, previous = await service.set_quota(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                delegations=await self._granted(session),
                unit_id=request.unit_id,
                year=request.year,
                quota=request.quota,
                effective_date=request.effective_date,
                decision=request.decision,
            )
        return quota_pb2.SetUnitQuotaResponse(change=service.to_proto(row, previous))

    async def GetQuotaReport(
        self, request: quota_pb2.GetQuotaReportRequest, context: Context
    ) -> quota_pb2.GetQuotaReportResponse:
        async with self._db.unit_of_work() as session:
            day, lines = await service.report(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                unit_id=request.unit_id,
                year=request.year,
                as_of=request.as_of,
                include_subtree=request.include_subtree,
            )
        return quota_pb2.GetQuotaReportResponse(
            year=request.year, as_of=day.isoformat(), lines=[_line(line) for line in lines]
        )

    async def ListUnitQuotaChanges(
        self, request: quota_pb2.ListUnitQuotaChangesRequest, context: Context
    ) -> quota_pb2.ListUnitQuotaChangesResponse:
        async with self._db.unit_of_work() as session:
            found = await service.changes(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                unit_id=request.unit_id,
                year=request.year,
            )
        return quota_pb2.ListUnitQuotaChangesResponse(changes=[service.to_proto(row, p) for row, p in found])

    async def ListUnitsOverQuota(
        self, request: quota_pb2.ListUnitsOverQuotaRequest, context: Context
    ) -> quota_pb2.ListUnitsOverQuotaResponse:
        async with self._db.unit_of_work() as session:
            day, lines = await service.over(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                year=request.year,
                as_of=request.as_of,
            )
        return quota_pb2.ListUnitsOverQuotaResponse(
            year=request.year, as_of=day.isoformat(), lines=[_line(line) for line in lines]
        )


def _line(line: Line) -> quota_pb2.QuotaLine:
    message = quota_pb2.QuotaLine(
        unit_id=line.unit.id,
        code=line.unit.code,
        name=line.unit.name,
        path=line.unit.path,
        parent_id=line.unit.parent_id or "",
        allocated=line.allocated,
        headcount=line.headcount,
        own_headcount=line.own_headcount,
    )
    if line.quota is not None:
        message.quota = line.quota
    return message
