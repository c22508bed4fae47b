"""gRPC channels and stubs of the backends; every call forwards the caller's token and has
a deadline. Each backend may run as several replicas: its channel balances over those that are
healthy and retries reads only (`qlcb_common.grpc_client`, ADR 0012)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import grpc
import httpx

from qlcb.backup.v1 import backup_pb2, backup_pb2_grpc
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
from qlcb_common.grpc_client import balanced_channel
from qlcb_gateway.settings import GatewaySettings


@dataclass
class Backends:
    personnel: personnel_pb2_grpc.PersonnelServiceStub
    record: record_pb2_grpc.PersonRecordServiceStub
    decisions: decision_pb2_grpc.DecisionServiceStub
    search: search_pb2_grpc.PersonSearchServiceStub
    audit: audit_pb2_grpc.AuditServiceStub
    quotas: quota_pb2_grpc.UnitQuotaServiceStub
    deadlines: deadlines_pb2_grpc.EntryDeadlineServiceStub
    imports: imports_pb2_grpc.RecordImportServiceStub
    resume: resume_pb2_grpc.ResumeServiceStub
    reports: reports_pb2_grpc.ReportsServiceStub
    report_regimes: regimes_pb2_grpc.ReportRegimeServiceStub
    report_assignments: workflow_pb2_grpc.ReportAssignmentServiceStub
    report_signatures: signatures_pb2_grpc.ReportSignatureServiceStub
    report_submissions: workflow_pb2_grpc.ReportSubmissionServiceStub
    report_rollup: rollup_pb2_grpc.ReportRollupServiceStub
    backup: backup_pb2_grpc.BackupServiceStub
    identity: httpx.AsyncClient
    timeout: float
    export_timeout: float
    import_timeout: float
    backup_timeout: float
    resume_batch_max: int
    channels: tuple[grpc.aio.Channel, ...]

    @classmethod
    def connect(cls, settings: GatewaySettings) -> Backends:
        credentials = channel_credentials(settings)
        personnel = balanced_channel(
            settings.personnel_target,
            [
                personnel_pb2.DESCRIPTOR.services_by_name["PersonnelService"],
                record_pb2.DESCRIPTOR.services_by_name["PersonRecordService"],
                decision_pb2.DESCRIPTOR.services_by_name["DecisionService"],
                search_pb2.DESCRIPTOR.services_by_name["PersonSearchService"],
                audit_pb2.DESCRIPTOR.services_by_name["AuditService"],
                quota_pb2.DESCRIPTOR.services_by_name["UnitQuotaService"],
                deadlines_pb2.DESCRIPTOR.services_by_name["EntryDeadlineService"],
                imports_pb2.DESCRIPTOR.services_by_name["RecordImportService"],
                resume_pb2.DESCRIPTOR.services_by_name["ResumeService"],
            ],
            credentials,
        )
        reports = balanced_channel(
            settings.reports_target,
            [
                reports_pb2.DESCRIPTOR.services_by_name["ReportsService"],
                regimes_pb2.DESCRIPTOR.services_by_name["ReportRegimeService"],
                workflow_pb2.DESCRIPTOR.services_by_name["ReportAssignmentService"],
                workflow_pb2.DESCRIPTOR.services_by_name["ReportSubmissionService"],
                rollup_pb2.DESCRIPTOR.services_by_name["ReportRollupService"],
                signatures_pb2.DESCRIPTOR.services_by_name["ReportSignatureService"],
            ],
            credentials,
        )
        backup = balanced_channel(
            settings.backup_target, [backup_pb2.DESCRIPTOR.services_by_name["BackupService"]], credentials
        )
        return cls(
            personnel=personnel_pb2_grpc.PersonnelServiceStub(personnel),
            record=record_pb2_grpc.PersonRecordServiceStub(personnel),
            decisions=decision_pb2_grpc.DecisionServiceStub(personnel),
            search=search_pb2_grpc.PersonSearchServiceStub(personnel),
            audit=audit_pb2_grpc.AuditServiceStub(personnel),
            quotas=quota_pb2_grpc.UnitQuotaServiceStub(personnel),
            deadlines=deadlines_pb2_grpc.EntryDeadlineServiceStub(personnel),
            imports=imports_pb2_grpc.RecordImportServiceStub(personnel),
            resume=resume_pb2_grpc.ResumeServiceStub(personnel),
            reports=reports_pb2_grpc.ReportsServiceStub(reports),
            report_regimes=regimes_pb2_grpc.ReportRegimeServiceStub(reports),
            report_assignments=workflow_pb2_grpc.ReportAssignmentServiceStub(reports),
            report_submissions=workflow_pb2_grpc.ReportSubmissionServiceStub(reports),
            report_rollup=rollup_pb2_grpc.ReportRollupServiceStub(reports),
            report_signatures=signatures_pb2_grpc.ReportSignatureServiceStub(reports),
            backup=backup_pb2_grpc.BackupServiceStub(backup),
            identity=httpx.AsyncClient(
                base_url=str(settings.identity_url),
                timeout=settings.call_timeout_seconds,
                verify=identity_verify(settings),
            ),
            timeout=settings.call_timeout_seconds,
            export_timeout=settings.export_timeout_seconds,
            import_timeout=settings.import_timeout_seconds,
            backup_timeout=settings.backup_timeout_seconds,
            resume_batch_max=settings.resume_batch_max,
            channels=(personnel, reports, backup),
        )

    def call_options(self, token: str) -> dict[str, Any]:
        return {"metadata": (("authorization", f"Bearer {token}"),), "timeout": self.timeout}

    def backup_call_options(self, token: str) -> dict[str, Any]:
        """For backup calls that read or write whole stores."""
        return self.call_options(token) | {"timeout": self.backup_timeout}

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()
        await self.identity.aclose()


def channel_credentials(settings: GatewaySettings) -> grpc.ChannelCredentials | None:
    """TLS to the backends, checking their certificates against the CA and presenting the client
    certificate if one is given; None for plaintext channels (no CA given: development only)."""
    if settings.grpc_tls_ca_file is None:
        return None
    cert, key = settings.grpc_tls_cert_file, settings.grpc_tls_key_file
    return grpc.ssl_channel_credentials(
        root_certificates=settings.grpc_tls_ca_file.read_bytes(),
        private_key=key.read_bytes() if key is not None else None,
        certificate_chain=cert.read_bytes() if cert is not None else None,
    )


def identity_verify(settings: GatewaySettings) -> ssl.SSLContext | bool:
    """How identity's certificate is checked: against its CA when given, else httpx's default bundle."""
    if settings.identity_tls_ca_file is None:
        return True
    return ssl.create_default_context(cafile=settings.identity_tls_ca_file)
