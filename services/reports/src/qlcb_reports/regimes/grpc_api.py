from __future__ import annotations

from typing import Any

from qlcb.reports.v1 import regimes_pb2, regimes_pb2_grpc
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.grpc_interceptor import current_principal
from qlcb_reports.regimes import service
from qlcb_reports.regimes.messages import indicator_from_proto, regime_to_proto
from qlcb_reports.signing.service import Signing

Context = Any


class ReportRegimeServicer(regimes_pb2_grpc.ReportRegimeServiceServicer):
    def __init__(self, db: Database, delegations: DelegationCopy, signing: Signing) -> None:
        self._db = db
        self._signing = signing
        self._delegations = delegations

    async def CreateRegime(
        self, request: regimes_pb2.CreateRegimeRequest, context: Context
    ) -> regimes_pb2.CreateRegimeResponse:
        draft = service.RegimeDraft(
            code=request.code,
            name=request.name,
            kind=request.kind,
            frequency=request.frequency,
            legal_basis=request.legal_basis,
            issuer_unit_id=request.issuer_unit_id,
            unit_kinds=list(request.unit_kinds),
            unit_levels=list(request.unit_levels),
            cutoff_day=request.cutoff_day,
            deadline_days=request.deadline_days,
            deadline_counting=request.deadline_counting,
            reminder_days=request.reminder_days,
            outline=request.outline,
            indicators=[indicator_from_proto(i) for i in request.indicators],
            opens_periods=request.opens_periods if request.HasField("opens_periods") else None,
        )
        actor = current_principal()
        async with self._db.unit_of_work() as session:
            regime, templates = await service.create_regime(
                session,
                actor=actor,
                delegations=await self._delegations.for_caller(session, actor),
                signing=self._signing,
                draft=draft,
            )
            return regimes_pb2.CreateRegimeResponse(regime=regime_to_proto(regime, templates))

    async def ListRegimes(
        self, request: regimes_pb2.ListRegimesRequest, context: Context
    ) -> regimes_pb2.ListRegimesResponse:
        async with self._db.unit_of_work() as session:
            found = await service.list_regimes(session, actor=current_principal())
            return regimes_pb2.ListRegimesResponse(regimes=[regime_to_proto(r, t) for r, t in found])

    async def GetRegime(self, request: regimes_pb2.GetRegimeRequest, context: Context) -> regimes_pb2.GetRegimeResponse:
        async with self._db.unit_of_work() as session:
            regime, templates = await service.get_regime(
                session, actor=current_principal(), regime_id=request.regime_id
            )
            return regimes_pb2.GetRegimeResponse(regime=regime_to_proto(regime, templates))

    async def AddTemplateVersion(
        self, request: regimes_pb2.AddTemplateVersionRequest, context: Context
    ) -> regimes_pb2.AddTemplateVersionResponse:
        actor = current_principal()
        async with self._db.unit_of_work() as session:
            regime, templates = await service.add_template_version(
                session,
                actor=actor,
                delegations=await self._delegations.for_caller(session, actor),
                signing=self._signing,
                regime_id=request.regime_id,
                outline=request.outline,
                indicators=[indicator_from_proto(i) for i in request.indicators],
            )
            return regimes_pb2.AddTemplateVersionResponse(regime=regime_to_proto(regime, templates))
