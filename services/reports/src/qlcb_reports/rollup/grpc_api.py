from __future__ import annotations

from typing import Any

from qlcb.reports.v1 import rollup_pb2, rollup_pb2_grpc
from qlcb_common.db import Database
from qlcb_common.grpc_interceptor import current_principal
from qlcb_reports.rollup import service
from qlcb_reports.rollup.messages import delivery_to_proto, sent_outside_to_proto

Context = Any


class ReportRollupServicer(rollup_pb2_grpc.ReportRollupServiceServicer):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ListDeliveries(
        self, request: rollup_pb2.ListDeliveriesRequest, context: Context
    ) -> rollup_pb2.ListDeliveriesResponse:
        async with self._db.unit_of_work() as session:
            found = await service.list_deliveries(
                session,
                actor=current_principal(),
                period_id=request.period_id,
                status=request.status,
                limit=request.limit,
            )
            return rollup_pb2.ListDeliveriesResponse(deliveries=[delivery_to_proto(d, mark) for d, mark in found])

    async def RetryDelivery(
        self, request: rollup_pb2.RetryDeliveryRequest, context: Context
    ) -> rollup_pb2.RetryDeliveryResponse:
        async with self._db.unit_of_work() as session:
            delivery = await service.retry(session, actor=current_principal(), delivery_id=request.delivery_id)
            return rollup_pb2.RetryDeliveryResponse(delivery=delivery_to_proto(delivery))

    async def RecordSentOutside(
        self, request: rollup_pb2.RecordSentOutsideRequest, context: Context
    ) -> rollup_pb2.RecordSentOutsideResponse:
        async with self._db.unit_of_work() as session:
            mark, stopped = await service.record_sent_outside(
                session,
                actor=current_principal(),
                assignment_id=request.assignment_id,
                sent_on=request.sent_on,
                channel=request.channel,
                reference=request.reference,
                note=request.note,
            )
            return rollup_pb2.RecordSentOutsideResponse(
                sent_outside=sent_outside_to_proto(mark), stopped=[delivery_to_proto(d, mark) for d in stopped]
            )
