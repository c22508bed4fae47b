from __future__ import annotations

from collections.abc import Sequence

import grpc
from nats.js import JetStreamContext

from qlcb.reports.v1 import reports_pb2, reports_pb2_grpc
from qlcb_common.db import Database
from qlcb_common.events import streams, subjects
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.contracts import IDENTITY_EVENTS, PERSONNEL_EVENTS
from qlcb_common.faults import FaultPoints
from qlcb_common.grpc_runtime import GrpcApp
from qlcb_common.settings import OidcSettings
from qlcb_common.shutdown import Worker
from qlcb_reports.db_models import Base, make_delegations, make_inbox
from qlcb_reports.grpc_api import ReportsServicer
from qlcb_reports.headcount import projection
from qlcb_reports.settings import ReportsSettings

SERVICE = "reports"
PERSONNEL_CONSUMER = "reports-personnel"


def build_app() -> GrpcApp:
    inbox = make_inbox()
    delegations = make_delegations()
    faults = FaultPoints.from_settings()

    def register(server: grpc.aio.Server, db: Database) -> Sequence[str]:
        reports_pb2_grpc.add_ReportsServiceServicer_to_server(ReportsServicer(db, inbox, delegations), server)
        return [reports_pb2.DESCRIPTOR.services_by_name["ReportsService"].full_name]

    def background(db: Database, js: JetStreamContext) -> Sequence[Worker]:
        consumer = DurableConsumer(
            name=PERSONNEL_CONSUMER,
            stream=streams.PERSONNEL,
            filter_subjects=list(projection.SUBJECTS),
            db=db,
            inbox=inbox,
            js=js,
            contracts=PERSONNEL_EVENTS,
            handler=projection.apply,
            faults=faults,
        )
        follow_delegations = DurableConsumer(
            name="reports-delegations",
            stream=streams.IDENTITY,
            filter_subjects=[subjects.IDENTITY_DELEGATIONS],
            db=db,
            inbox=inbox,
            js=js,
            contracts=IDENTITY_EVENTS,
            handler=delegations.apply,
            faults=faults,
        )
        return [consumer.run, follow_delegations.run]

    return GrpcApp(
        name=SERVICE,
        settings=ReportsSettings(),  # type: ignore[call-arg]
        oidc=OidcSettings(),  # type: ignore[call-arg]
        metadata=Base.metadata,
        register=register,
        background=background,
    )
