from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from qlcb.reports.v1 import reports_pb2, reports_pb2_grpc
from qlcb_common import authz
from qlcb_common.authz import Action, Section
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.events.inbox import Inbox
from qlcb_common.grpc_interceptor import current_principal
from qlcb_reports.headcount import service as headcounts

Context = Any


class ReportsServicer(reports_pb2_grpc.ReportsServiceServicer):
    def __init__(self, db: Database, inbox: Inbox, delegations: DelegationCopy) -> None:
        self._db = db
        self._inbox = inbox
        self._delegations = delegations

    async def GetHeadcount(
        self, request: reports_pb2.GetHeadcountRequest, context: Context
    ) -> reports_pb2.GetHeadcountResponse:
        actor = current_principal()
        async with self._db.unit_of_work() as session:
            count = await headcounts.headcount(
                session,
                actor=actor,
                delegations=await self._delegations.for_caller(session, actor),
                unit_id=request.unit_id,
                include_subtree=request.include_subtree,
            )
        return reports_pb2.GetHeadcountResponse(unit_id=request.unit_id, headcount=count)

    async def GetProjectionStatus(
        self, request: reports_pb2.GetProjectionStatusRequest, context: Context
    ) -> reports_pb2.GetProjectionStatusResponse:
        """A count over every unit's events: for the tiers that read the whole sector's reports
        (system-admin, sector-hr, sector-viewer), who learn from it whether those are current."""
        authz.require_sector_wide(current_principal(), Section.REPORTS, Action.READ, what="projection status")
        async with self._db.unit_of_work() as session:
            processed = await session.scalar(select(func.count()).select_from(self._inbox.table))
        return reports_pb2.GetProjectionStatusResponse(events_processed=int(processed or 0))
