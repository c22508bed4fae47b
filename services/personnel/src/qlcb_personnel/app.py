from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import grpc
from nats.js import JetStreamContext
from sqlalchemy.exc import IntegrityError

from qlcb.personnel.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    deadlines_pb2,
    deadlines_pb2_grpc,
    decision_pb2,
    decision_pb2_grpc,
    imports_pb2,
    imports_pb2_grpc,
    personnel_pb2,
    personnel_pb2_grpc,
    quota_pb2,
    quota_pb2_grpc,
    record_pb2,
    record_pb2_grpc,
    resume_pb2,
    resume_pb2_grpc,
    search_pb2,
    search_pb2_grpc,
)
from qlcb_common.db import Database
from qlcb_common.events import streams, subjects
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.contracts import IDENTITY_EVENTS, REPORTS_EVENTS
from qlcb_common.events.relay import OutboxRelay
from qlcb_common.faults import FaultPoints
from qlcb_common.grpc_runtime import GrpcApp
from qlcb_common.settings import OidcSettings
from qlcb_common.shutdown import Stopping, Worker
from qlcb_personnel.audit import holders, reports_reads, sealer, trail
from qlcb_personnel.audit import models as _audit  # noqa: F401  (registers the tables)
from qlcb_personnel.audit.grpc_api import AuditServicer
from qlcb_personnel.audit.published import PublishedHeads
from qlcb_personnel.catalogs import models as _catalogs  # noqa: F401  (registers the table)
from qlcb_personnel.catalogs import service as catalogs
from qlcb_personnel.db_models import make_delegations, make_inbox, make_outbox
from qlcb_personnel.deadlines import models as _deadlines  # noqa: F401  (registers the table)
from qlcb_personnel.deadlines.grpc_api import EntryDeadlineServicer
from qlcb_personnel.decision_documents import applier
from qlcb_personnel.decision_documents import models as _decisions  # noqa: F401  (registers the tables)
from qlcb_personnel.decision_documents.grpc_api import DecisionServicer
from qlcb_personnel.grpc_api import PersonnelServicer
from qlcb_personnel.imports.grpc_api import RecordImportServicer
from qlcb_personnel.persons import models as _persons  # noqa: F401  (registers the table)
from qlcb_personnel.quotas import models as _quotas  # noqa: F401  (registers the table)
from qlcb_personnel.quotas.grpc_api import UnitQuotaServicer
from qlcb_personnel.record import models as _record  # noqa: F401  (registers the table)
from qlcb_personnel.record.grpc_api import PersonRecordServicer
from qlcb_personnel.resume.grpc_api import ResumeServicer
from qlcb_personnel.search import models as _search  # noqa: F401  (registers the table)
from qlcb_personnel.search.grpc_api import PersonSearchServicer
from qlcb_personnel.settings import PersonnelSettings
from qlcb_personnel.units import models as _units  # noqa: F401  (registers the table)

SERVICE = "personnel"


def build_app() -> GrpcApp:
    settings = PersonnelSettings()  # type: ignore[call-arg]
    outbox = make_outbox()
    inbox = make_inbox()
    delegations = make_delegations()
    faults = FaultPoints.from_settings()
    heads = PublishedHeads()

    def register(server: grpc.aio.Server, db: Database) -> Sequence[str]:
        personnel_pb2_grpc.add_PersonnelServiceServicer_to_server(PersonnelServicer(db, outbox, delegations), server)
        record_pb2_grpc.add_PersonRecordServiceServicer_to_server(PersonRecordServicer(db, outbox, delegations), server)
        decision_pb2_grpc.add_DecisionServiceServicer_to_server(DecisionServicer(db, outbox, delegations), server)
        search_pb2_grpc.add_PersonSearchServiceServicer_to_server(PersonSearchServicer(db, delegations), server)
        audit_pb2_grpc.add_AuditServiceServicer_to_server(AuditServicer(db, heads), server)
        quota_pb2_grpc.add_UnitQuotaServiceServicer_to_server(UnitQuotaServicer(db, outbox, delegations), server)
        deadlines_pb2_grpc.add_EntryDeadlineServiceServicer_to_server(EntryDeadlineServicer(db, delegations), server)
        imports_pb2_grpc.add_RecordImportServiceServicer_to_server(
            RecordImportServicer(db, outbox, delegations), server
        )
        resume_pb2_grpc.add_ResumeServiceServicer_to_server(ResumeServicer(db, delegations), server)
        return [
            personnel_pb2.DESCRIPTOR.services_by_name["PersonnelService"].full_name,
            record_pb2.DESCRIPTOR.services_by_name["PersonRecordService"].full_name,
            decision_pb2.DESCRIPTOR.services_by_name["DecisionService"].full_name,
            search_pb2.DESCRIPTOR.services_by_name["PersonSearchService"].full_name,
            audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name,
            quota_pb2.DESCRIPTOR.services_by_name["UnitQuotaService"].full_name,
            deadlines_pb2.DESCRIPTOR.services_by_name["EntryDeadlineService"].full_name,
            imports_pb2.DESCRIPTOR.services_by_name["RecordImportService"].full_name,
            resume_pb2.DESCRIPTOR.services_by_name["ResumeService"].full_name,
        ]

    async def seed_catalogs(db: Database) -> None:
        try:
            with trail.acting_as_system("catalog-seed"):
                async with db.unit_of_work() as session:
                    await catalogs.seed(session)
        except IntegrityError:
            # Another replica seeded the same values first: what the files hold is there.
            return

    def background(db: Database, js: JetStreamContext) -> Sequence[Worker]:
        heads.attach(js)
        follow = partial(DurableConsumer, db=db, inbox=inbox, js=js, faults=faults, policy=settings.consumer_policy())
        follow_delegations = follow(
            name="personnel-delegations",
            stream=streams.IDENTITY,
            filter_subjects=[subjects.IDENTITY_DELEGATIONS],
            contracts=IDENTITY_EVENTS,
            handler=delegations.apply,
        )

        follow_holders = follow(
            name="personnel-holders",
            stream=streams.IDENTITY,
            filter_subjects=[subjects.IDENTITY_HOLDER_RECORDED],
            contracts=IDENTITY_EVENTS,
            handler=holders.apply,
        )

        follow_reports_reads = follow(
            name="personnel-reports-reads",
            stream=streams.REPORTS,
            filter_subjects=list(subjects.REPORTS_STATISTICS_READS),
            contracts=REPORTS_EVENTS,
            handler=reports_reads.apply,
        )

        async def apply_decisions(stopping: Stopping) -> None:
            with trail.acting_as_system("decision-applier"):
                await applier.run(db, outbox, delegations, settings.decision_apply_interval_seconds, stopping)

        async def seal_audit(stopping: Stopping) -> None:
            sealing = sealer.Sealer(db, outbox, settings.audit_head_publish_interval_seconds)
            await sealing.run(settings.audit_seal_interval_seconds, stopping)

        return [
            OutboxRelay(service=SERVICE, db=db, outbox=outbox, js=js, faults=faults).run,
            follow_delegations.run,
            follow_holders.run,
            follow_reports_reads.run,
            apply_decisions,
            seal_audit,
        ]

    return GrpcApp(
        name=SERVICE,
        settings=settings,
        oidc=OidcSettings(),  # type: ignore[call-arg]
        package="qlcb_personnel",
        register=register,
        background=background,
        prepare=seed_catalogs,
        session_class=trail.audited_sessions(),
    )
