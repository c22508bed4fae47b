"""ReportSignatureService: signed reports and templates, their verification, and the units' keys.

Who reads a report reads and verifies its signed PDF; who reads the regimes reads a template's;
the units' keys are managed by who manages the report regimes over the unit (the sector's
personnel department, the system admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.reports.v1 import signatures_pb2, signatures_pb2_grpc
from qlcb_common import authz
from qlcb_common.authz import Action, Section
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import current_principal
from qlcb_common.personnel_rules import short_text
from qlcb_common.working_days import WorkingCalendar
from qlcb_reports.headcount.models import UnitNode
from qlcb_reports.regimes import service as regimes
from qlcb_reports.signing import key_changes, service
from qlcb_reports.signing.authority import load_pem
from qlcb_reports.signing.models import SignedDocument, UnitCertificate
from qlcb_reports.workflow import service as workflow

Context = Any
MAX_DOCUMENT = 20 * 1024 * 1024
MAX_REASON = 2000


def _at(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _document(row: SignedDocument, name: str) -> signatures_pb2.SignedDocument:
    return signatures_pb2.SignedDocument(
        content=row.content,
        file_name=f"{name}-v{row.version}.pdf",
        version=row.version,
        signed_at=_at(row.signed_at),
        signer_unit_id=row.unit_id,
    )


def _verification(found: service.Verification) -> signatures_pb2.Verification:
    return signatures_pb2.Verification(
        valid=found.valid,
        intact=found.intact,
        trusted=found.trusted,
        revoked=found.revoked,
        revoked_at=_at(found.revoked_at),
        signer_unit_id=found.signer_unit_id,
        signer_unit_name=found.signer_unit_name,
        certificate_serial=found.certificate_serial,
        signed_at=_at(found.signed_at),
        version=found.version,
        summary=found.summary,
    )


def _certificate(row: UnitCertificate) -> signatures_pb2.UnitCertificate:
    parsed = load_pem(row.certificate_pem)
    return signatures_pb2.UnitCertificate(
        serial=row.serial,
        unit_id=row.unit_id,
        unit_name=row.unit_name,
        state=row.state,
        not_before=_at(parsed.not_valid_before_utc),
        not_after=_at(parsed.not_valid_after_utc),
        issued_at=_at(row.issued_at),
        revoked_at=_at(row.revoked_at),
        revocation_reason=row.revocation_reason or "",
        certificate_pem=row.certificate_pem,
    )


class ReportSignatureServicer(signatures_pb2_grpc.ReportSignatureServiceServicer):
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        delegations: DelegationCopy,
        working: WorkingCalendar,
        signing: service.Signing,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._delegations = delegations
        self._working = working
        self._signing = signing

    async def _caller(self, session: AsyncSession) -> workflow.Caller:
        actor = current_principal()
        return workflow.Caller(
            actor=actor,
            delegations=await self._delegations.for_caller(session, actor),
            outbox=self._outbox,
            working=self._working,
            signing=self._signing,
        )

    async def GetSignedSubmission(
        self, request: signatures_pb2.GetSignedSubmissionRequest, context: Context
    ) -> signatures_pb2.GetSignedSubmissionResponse:
        async with self._db.unit_of_work() as session:
            assignment = await workflow.readable_assignment(session, await self._caller(session), request.assignment_id)
            row = await service.document(session, service.SUBMISSION, assignment.id, request.version)
            return signatures_pb2.GetSignedSubmissionResponse(document=_document(row, f"bao-cao-{assignment.id}"))

    async def VerifySubmission(
        self, request: signatures_pb2.VerifySubmissionRequest, context: Context
    ) -> signatures_pb2.VerifySubmissionResponse:
        if len(request.document) > MAX_DOCUMENT:
            raise InvalidArgument.single("document", f"Tệp quá lớn (tối đa {MAX_DOCUMENT // 1024 // 1024} MB)")
        async with self._db.unit_of_work() as session:
            assignment = await workflow.readable_assignment(session, await self._caller(session), request.assignment_id)
            copy = bool(request.document)
            row = await service.document(session, service.SUBMISSION, assignment.id, 0 if copy else request.version)
            found = await service.verify(
                session, self._signing, content=request.document or row.content, expected=row, copy=copy
            )
            return signatures_pb2.VerifySubmissionResponse(verification=_verification(found))

    async def GetSignedTemplate(
        self, request: signatures_pb2.GetSignedTemplateRequest, context: Context
    ) -> signatures_pb2.GetSignedTemplateResponse:
        async with self._db.unit_of_work() as session:
            regime = await regimes.regime_for(session, current_principal(), request.regime_id)
            row = await service.document(session, service.TEMPLATE, regime.id, request.version)
            return signatures_pb2.GetSignedTemplateResponse(document=_document(row, f"mau-{regime.code}"))

    async def VerifyTemplate(
        self, request: signatures_pb2.VerifyTemplateRequest, context: Context
    ) -> signatures_pb2.VerifyTemplateResponse:
        async with self._db.unit_of_work() as session:
            regime = await regimes.regime_for(session, current_principal(), request.regime_id)
            row = await service.document(session, service.TEMPLATE, regime.id, request.version)
            found = await service.verify(session, self._signing, content=row.content, expected=row, copy=False)
            return signatures_pb2.VerifyTemplateResponse(verification=_verification(found))

    async def _unit(self, session: AsyncSession, unit_id: str, section: Section, action: Action) -> UnitNode:
        unit = await session.get(UnitNode, unit_id) if unit_id else None
        if unit is None:
            raise NotFound(f"Không có đơn vị {unit_id!r}")
        actor = current_principal()
        authz.require(actor, section, action, unit.path, delegations=await self._delegations.for_caller(session, actor))
        return unit

    async def ListUnitCertificates(
        self, request: signatures_pb2.ListUnitCertificatesRequest, context: Context
    ) -> signatures_pb2.ListUnitCertificatesResponse:
        async with self._db.unit_of_work() as session:
            unit = await self._unit(session, request.unit_id, Section.REPORTS, Action.READ)
            found = await service.certificates(session, unit.unit_id)
            return signatures_pb2.ListUnitCertificatesResponse(certificates=[_certificate(c) for c in found])

    async def ListSigningKeyChanges(
        self, request: signatures_pb2.ListSigningKeyChangesRequest, context: Context
    ) -> signatures_pb2.ListSigningKeyChangesResponse:
        async with self._db.unit_of_work() as session:
            unit = await self._unit(session, request.unit_id, Section.REPORTS, Action.READ)
            return signatures_pb2.ListSigningKeyChangesResponse(
                changes=await key_changes.of_unit(session, unit.unit_id)
            )

    async def RotateUnitKey(
        self, request: signatures_pb2.RotateUnitKeyRequest, context: Context
    ) -> signatures_pb2.RotateUnitKeyResponse:
        async with self._db.unit_of_work() as session:
            unit = await self._unit(session, request.unit_id, Section.REPORT_REGIMES, Action.UPDATE)
            actor = current_principal()
            previous, row = await service.rotate(
                session, self._signing, unit_id=unit.unit_id, unit_name=unit.name, actor=actor.username
            )
            await key_changes.record(
                session,
                self._outbox,
                actor,
                unit,
                action=service.ROTATED,
                previous_serial=previous.serial if previous is not None else "",
                serial=row.serial,
            )
            return signatures_pb2.RotateUnitKeyResponse(certificate=_certificate(row))

    async def RevokeUnitKey(
        self, request: signatures_pb2.RevokeUnitKeyRequest, context: Context
    ) -> signatures_pb2.RevokeUnitKeyResponse:
        found: list[FieldViolation] = []
        reason = short_text(request.reason, "reason", MAX_REASON, found, required=True)
        if found or reason is None:
            raise InvalidArgument(found)
        async with self._db.unit_of_work() as session:
            unit = await self._unit(session, request.unit_id, Section.REPORT_REGIMES, Action.UPDATE)
            actor = current_principal()
            revoked, row = await service.revoke(
                session,
                self._signing,
                unit_id=unit.unit_id,
                unit_name=unit.name,
                actor=actor.username,
                reason=reason,
            )
            await key_changes.record(
                session,
                self._outbox,
                actor,
                unit,
                action=service.REVOKED,
                previous_serial=revoked.serial,
                serial=row.serial,
                reason=reason,
            )
            return signatures_pb2.RevokeUnitKeyResponse(certificate=_certificate(row))

    async def GetAuthority(
        self, request: signatures_pb2.GetAuthorityRequest, context: Context
    ) -> signatures_pb2.GetAuthorityResponse:
        actor = current_principal()
        if not authz.may_at_all(actor, Section.REPORT_REGIMES, Action.READ):
            raise PermissionDenied("Không có quyền xem chế độ báo cáo")
        async with self._db.unit_of_work() as session:
            _, row = await service.root(session, self._signing)
            return signatures_pb2.GetAuthorityResponse(
                certificate_pem=row.certificate_pem,
                revocation_list=row.crl_der,
                revocation_list_updated_at=_at(row.crl_updated_at),
            )
