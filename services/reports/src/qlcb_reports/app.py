from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import grpc
from nats.js import JetStreamContext

from qlcb.reports.v1 import (
    regimes_pb2,
    regimes_pb2_grpc,
    reports_pb2,
    reports_pb2_grpc,
    rollup_pb2,
    rollup_pb2_grpc,
    signatures_pb2,
    signatures_pb2_grpc,
    workflow_pb2,
    workflow_pb2_grpc,
)
from qlcb_common.db import Database
from qlcb_common.events import streams, subjects
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.contracts import IDENTITY_EVENTS, PERSONNEL_EVENTS
from qlcb_common.events.relay import OutboxRelay
from qlcb_common.faults import FaultPoints
from qlcb_common.grpc_runtime import GrpcApp
from qlcb_common.settings import OidcSettings
from qlcb_common.shutdown import Stopping, Worker
from qlcb_reports.audit import holders
from qlcb_reports.audit import models as _audit  # noqa: F401  (registers the tables)
from qlcb_reports.db_models import make_delegations, make_inbox, make_outbox
from qlcb_reports.grpc_api import ReportsServicer
from qlcb_reports.headcount import projection
from qlcb_reports.regimes import models as _regimes  # noqa: F401  (registers the tables)
from qlcb_reports.regimes.grpc_api import ReportRegimeServicer
from qlcb_reports.rollup import models as _rollup  # noqa: F401  (registers the tables)
from qlcb_reports.rollup.connector import NationalConnector
from qlcb_reports.rollup.grpc_api import ReportRollupServicer
from qlcb_reports.settings import ReportsSettings
from qlcb_reports.signing import models as _signing  # noqa: F401  (registers the tables)
from qlcb_reports.signing.authority import KeySealer
from qlcb_reports.signing.grpc_api import ReportSignatureServicer
from qlcb_reports.signing.service import Signing
from qlcb_reports.statistics import forms as layouts
from qlcb_reports.statistics.generations import Supervisor
from qlcb_reports.workflow import models as _workflow  # noqa: F401  (registers the tables)
from qlcb_reports.workflow import period_opening, reminders
from qlcb_reports.workflow.grpc_api import ReportAssignmentServicer, ReportSubmissionServicer

SERVICE = "reports"
PERSONNEL_CONSUMER = "reports-personnel"


def build_app() -> GrpcApp:
    settings = ReportsSettings()  # type: ignore[call-arg]
    layouts.use_folder(settings.statistics_forms_dir)
    working = settings.working_calendar()
    inbox = make_inbox()
    outbox = make_outbox()
    delegations = make_delegations()
    faults = FaultPoints.from_settings()
    signing = Signing(
        sealer=KeySealer(settings.signing_secret.get_secret_value()),
        authority_name=settings.signing_authority_name,
        root_days=settings.signing_root_days,
        unit_days=settings.signing_unit_days,
        font_dir=settings.font_dir,
    )

    def register(server: grpc.aio.Server, db: Database) -> Sequence[str]:
        reports_pb2_grpc.add_ReportsServiceServicer_to_server(
            ReportsServicer(db, inbox, outbox, delegations, sector_founded=settings.sector_founded), server
        )
        regimes_pb2_grpc.add_ReportRegimeServiceServicer_to_server(
            ReportRegimeServicer(db, delegations, signing), server
        )
        workflow_pb2_grpc.add_ReportAssignmentServiceServicer_to_server(
            ReportAssignmentServicer(db, outbox, delegations, working, signing), server
        )
        workflow_pb2_grpc.add_ReportSubmissionServiceServicer_to_server(
            ReportSubmissionServicer(db, outbox, delegations, working, signing), server
        )
        signatures_pb2_grpc.add_ReportSignatureServiceServicer_to_server(
            ReportSignatureServicer(db, outbox, delegations, working, signing), server
        )
        rollup_pb2_grpc.add_ReportRollupServiceServicer_to_server(ReportRollupServicer(db), server)
        return [
            reports_pb2.DESCRIPTOR.services_by_name["ReportsService"].full_name,
            rollup_pb2.DESCRIPTOR.services_by_name["ReportRollupService"].full_name,
            regimes_pb2.DESCRIPTOR.services_by_name["ReportRegimeService"].full_name,
            workflow_pb2.DESCRIPTOR.services_by_name["ReportAssignmentService"].full_name,
            workflow_pb2.DESCRIPTOR.services_by_name["ReportSubmissionService"].full_name,
            signatures_pb2.DESCRIPTOR.services_by_name["ReportSignatureService"].full_name,
        ]

    def background(db: Database, js: JetStreamContext) -> Sequence[Worker]:
        follow = partial(DurableConsumer, db=db, inbox=inbox, js=js, faults=faults, policy=settings.consumer_policy())
        consumer = follow(
            name=PERSONNEL_CONSUMER,
            stream=streams.PERSONNEL,
            filter_subjects=list(projection.SUBJECTS),
            contracts=PERSONNEL_EVENTS,
            handler=projection.apply,
        )
        follow_delegations = follow(
            name="reports-delegations",
            stream=streams.IDENTITY,
            filter_subjects=[subjects.IDENTITY_DELEGATIONS],
            contracts=IDENTITY_EVENTS,
            handler=delegations.apply,
        )
        follow_holders = follow(
            name="reports-holders",
            stream=streams.IDENTITY,
            filter_subjects=[subjects.IDENTITY_HOLDER_RECORDED],
            contracts=IDENTITY_EVENTS,
            handler=holders.apply,
        )

        async def remind(stopping: Stopping) -> None:
            await reminders.run(db, outbox, working, settings.reminder_interval_seconds, stopping)

        async def open_periods(stopping: Stopping) -> None:
            await period_opening.run(db, outbox, working, settings.period_opening_interval_seconds, stopping)

        statistics = Supervisor(
            db=db,
            inbox=inbox,
            js=js,
            poll_seconds=settings.statistics_poll_seconds,
            stored_years=settings.statistics_stored_years,
            policy=settings.consumer_policy(),
            faults=faults,
        )
        workers: list[Worker] = [
            consumer.run,
            statistics.run,
            follow_delegations.run,
            follow_holders.run,
            OutboxRelay(service=SERVICE, db=db, outbox=outbox, js=js, faults=faults).run,
            remind,
            open_periods,
        ]
        if settings.national_url is not None:
            # Off without an endpoint: the deliveries wait, pending, until one is configured.
            workers.append(NationalConnector(db=db, outbox=outbox, settings=settings, faults=faults).run)
        return workers

    return GrpcApp(
        name=SERVICE,
        settings=settings,
        oidc=OidcSettings(),  # type: ignore[call-arg]
        package="qlcb_reports",
        register=register,
        background=background,
    )
