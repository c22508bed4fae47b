"""Signed reports (R-REP-4): the PDF a unit's submission was signed as, and a template version's,
their verification (who signed, when, whether the file changed since), a copy checked against the
report, the units' signing certificates with their rotation and revocation, and the authority's
certificate and revocation list; forwarded to reports' `ReportSignatureService`.

A copy to check is the request's raw body (`application/pdf`; anything else is 415), up to the
ordinary body limit: a signed report is some tens of kilobytes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from qlcb.reports.v1 import signatures_pb2
from qlcb_common.http_errors import problem
from qlcb_common.text import SingleLineText
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.routes.report_regimes import _dict

router = APIRouter(prefix="/v1", tags=["Ký số báo cáo"])

PDF_TYPE = "application/pdf"
AssignmentId = Annotated[str, Path(description="Báo cáo được giao (một đơn vị, một kỳ)")]
RegimeId = Annotated[str, Path(description="Chế độ báo cáo")]
UnitId = Annotated[str, Path(description="Đơn vị")]
Version = Annotated[int, Query(ge=0, le=2**31, description="Phiên bản của báo cáo; 0: bản ký mới nhất")]
NO_DOCUMENT: dict[int | str, dict[str, Any]] = {
    404: {"description": "No report (or regime) within reach, or no signed document of that version"},
}
NO_UNIT: dict[int | str, dict[str, Any]] = {404: {"description": "No unit `unit_id`"}}


class VerificationPublic(BaseModel):
    valid: bool = Field(description="Nguyên vẹn, do cơ quan chứng thực của hệ thống cấp, đúng đơn vị, chưa thu hồi")
    intact: bool = Field(description="Không byte nào thay đổi từ khi ký")
    trusted: bool = Field(description="Chứng thư của người ký do cơ quan chứng thực của hệ thống cấp")
    revoked: bool
    revoked_at: datetime | None
    signer_unit_id: str | None = Field(description="Đơn vị ký")
    signer_unit_name: str
    certificate_serial: str
    signed_at: datetime | None = Field(description="Thời điểm ký ghi trong chữ ký")
    version: int = Field(description="Phiên bản của báo cáo (hoặc mẫu) mà tệp ghi")
    summary: str


class CertificatePublic(BaseModel):
    serial: str
    unit_id: str
    unit_name: str
    state: str = Field(description="active (đang dùng), rotated (đã thay, chữ ký cũ vẫn hợp lệ), revoked (đã thu hồi)")
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    revoked_at: datetime | None
    revocation_reason: str | None
    certificate_pem: str


class KeyChangePublic(BaseModel):
    id: str
    unit_id: str
    unit_name: str
    unit_path: str
    action: str = Field(description="rotated (thay khóa) hoặc revoked (thu hồi)")
    previous_serial: str | None = Field(description="Chứng thư bị thay hoặc thu hồi")
    serial: str = Field(description="Chứng thư được cấp thay")
    reason: str | None = Field(description="Lý do thu hồi")
    account: str = Field(description="Tài khoản thực hiện")
    holder_name: str | None = Field(description="Người giữ tài khoản dùng chung vào ngày đó")
    occurred_at: datetime


class Revocation(BaseModel):
    reason: SingleLineText = Field(min_length=1, max_length=2000, description="Lý do thu hồi (lộ khóa, ...)")


def _verification(message: signatures_pb2.Verification) -> VerificationPublic:
    fields = _dict(message)
    for name in ("revoked_at", "signed_at", "signer_unit_id"):
        fields[name] = fields[name] or None
    return VerificationPublic.model_validate(fields)


def _certificate(message: signatures_pb2.UnitCertificate) -> CertificatePublic:
    fields = _dict(message)
    fields["revoked_at"] = message.revoked_at or None
    fields["revocation_reason"] = message.revocation_reason or None
    return CertificatePublic.model_validate(fields)


def _pdf(document: signatures_pb2.SignedDocument) -> Response:
    return Response(
        document.content,
        media_type=PDF_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{document.file_name}"; '
            f"filename*=UTF-8''{quote(document.file_name)}",
            "Cache-Control": "no-store",
            "X-Report-Version": str(document.version),
        },
    )


@router.get(
    "/report-assignments/{assignment_id}/signed-document",
    responses={**NO_DOCUMENT, 200: {"content": {PDF_TYPE: {}}, "description": "Tệp PDF đã ký số (PAdES)"}},
    response_class=Response,
)
async def signed_submission(
    assignment_id: AssignmentId, principal: Caller, backends: BackendsDep, version: Version = 0
) -> Response:
    """Tệp PDF của báo cáo đã gửi, do đơn vị gửi ký số (PAdES), theo phiên bản (mặc định: bản mới nhất)."""
    found = await backends.report_signatures.GetSignedSubmission(
        signatures_pb2.GetSignedSubmissionRequest(assignment_id=assignment_id, version=version),
        **backends.call_options(principal.token),
    )
    return _pdf(found.document)


@router.get("/report-assignments/{assignment_id}/signed-document/verification", responses=NO_DOCUMENT)
async def verify_submission(
    assignment_id: AssignmentId, principal: Caller, backends: BackendsDep, version: Version = 0
) -> VerificationPublic:
    """Kiểm tra chữ ký của bản đã lưu: đơn vị ký, lúc ký, tệp còn nguyên vẹn, chứng thư bị thu hồi chưa."""
    found = await backends.report_signatures.VerifySubmission(
        signatures_pb2.VerifySubmissionRequest(assignment_id=assignment_id, version=version),
        **backends.call_options(principal.token),
    )
    return _verification(found.verification)


@router.post(
    "/report-assignments/{assignment_id}/signed-document/verification",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "Bản sao tệp PDF đã ký, gửi nguyên (không multipart)",
            "content": {PDF_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={
        **NO_DOCUMENT,
        415: {"description": "Không phải tệp PDF (application/pdf)"},
        422: {"description": "`document`: tệp không phải bản ký của báo cáo này, phiên bản mới nhất (lý do)"},
    },
)
async def verify_submission_copy(
    assignment_id: AssignmentId, request: Request, principal: Caller, backends: BackendsDep
) -> Any:
    """Kiểm tra một bản sao đang giữ (thân yêu cầu: tệp PDF): phải là bản do đơn vị của báo cáo ký,
    của phiên bản ký mới nhất, không thay đổi byte nào. Chữ ký giả, khóa lạ, bản của phiên bản cũ
    hay tệp đã sửa: 422 nêu `document` và lý do."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != PDF_TYPE:
        return problem(415, "UnsupportedMediaType", f"Chỉ nhận tệp PDF ({PDF_TYPE})")
    found = await backends.report_signatures.VerifySubmission(
        signatures_pb2.VerifySubmissionRequest(assignment_id=assignment_id, document=await request.body()),
        **backends.call_options(principal.token),
    )
    return _verification(found.verification)


@router.get(
    "/report-regimes/{regime_id}/versions/{version}/signed-document",
    responses={**NO_DOCUMENT, 200: {"content": {PDF_TYPE: {}}, "description": "Mẫu báo cáo đã ký số"}},
    response_class=Response,
)
async def signed_template(
    regime_id: RegimeId, version: Annotated[int, Path(ge=1, le=2**31)], principal: Caller, backends: BackendsDep
) -> Response:
    """Mẫu báo cáo (một phiên bản) do đơn vị ban hành ký số."""
    found = await backends.report_signatures.GetSignedTemplate(
        signatures_pb2.GetSignedTemplateRequest(regime_id=regime_id, version=version),
        **backends.call_options(principal.token),
    )
    return _pdf(found.document)


@router.get("/report-regimes/{regime_id}/versions/{version}/signed-document/verification", responses=NO_DOCUMENT)
async def verify_template(
    regime_id: RegimeId, version: Annotated[int, Path(ge=1, le=2**31)], principal: Caller, backends: BackendsDep
) -> VerificationPublic:
    """Kiểm tra chữ ký của mẫu báo cáo: đơn vị ban hành đã ký, tệp còn nguyên vẹn."""
    found = await backends.report_signatures.VerifyTemplate(
        signatures_pb2.VerifyTemplateRequest(regime_id=regime_id, version=version),
        **backends.call_options(principal.token),
    )
    return _verification(found.verification)


@router.get("/report-signing/units/{unit_id}/certificates", responses=NO_UNIT)
async def unit_certificates(unit_id: UnitId, principal: Caller, backends: BackendsDep) -> list[CertificatePublic]:
    """Các chứng thư ký số của đơn vị, mới nhất trước."""
    found = await backends.report_signatures.ListUnitCertificates(
        signatures_pb2.ListUnitCertificatesRequest(unit_id=unit_id), **backends.call_options(principal.token)
    )
    return [_certificate(c) for c in found.certificates]


@router.get("/report-signing/units/{unit_id}/key-changes", responses=NO_UNIT)
async def unit_key_changes(unit_id: UnitId, principal: Caller, backends: BackendsDep) -> list[KeyChangePublic]:
    """Nhật ký thay khóa và thu hồi chứng thư của đơn vị, mới nhất trước: ai, lúc nào, lý do, chứng thư nào
    thay chứng thư nào."""
    found = await backends.report_signatures.ListSigningKeyChanges(
        signatures_pb2.ListSigningKeyChangesRequest(unit_id=unit_id), **backends.call_options(principal.token)
    )
    changes = []
    for change in found.changes:
        fields = _dict(change)
        for name in ("previous_serial", "reason", "holder_name"):
            fields[name] = fields[name] or None
        changes.append(KeyChangePublic.model_validate(fields))
    return changes


@router.post("/report-signing/units/{unit_id}/rotate", responses=NO_UNIT)
async def rotate_unit_key(unit_id: UnitId, principal: Caller, backends: BackendsDep) -> CertificatePublic:
    """Cấp khóa và chứng thư mới cho đơn vị; khóa cũ thôi ký, các tài liệu đã ký vẫn hợp lệ."""
    found = await backends.report_signatures.RotateUnitKey(
        signatures_pb2.RotateUnitKeyRequest(unit_id=unit_id), **backends.call_options(principal.token)
    )
    return _certificate(found.certificate)


@router.post(
    "/report-signing/units/{unit_id}/revoke",
    responses={**NO_UNIT, 409: {"description": "The unit has no certificate in use"}},
)
async def revoke_unit_key(
    unit_id: UnitId, body: Revocation, principal: Caller, backends: BackendsDep
) -> CertificatePublic:
    """Thu hồi chứng thư đang dùng của đơn vị (lộ khóa): danh sách thu hồi nêu nó, mọi chữ ký của nó
    không còn hợp lệ; đơn vị được cấp chứng thư mới để ký từ nay. Trả về chứng thư mới."""
    found = await backends.report_signatures.RevokeUnitKey(
        signatures_pb2.RevokeUnitKeyRequest(unit_id=unit_id, reason=body.reason),
        **backends.call_options(principal.token),
    )
    return _certificate(found.certificate)


@router.get(
    "/report-signing/revocation-list",
    responses={200: {"content": {"application/pkix-crl": {}}, "description": "CRL (DER)"}},
    response_class=Response,
)
async def revocation_list(principal: Caller, backends: BackendsDep) -> Response:
    """Danh sách chứng thư bị thu hồi (CRL, DER) do cơ quan chứng thực của hệ thống ký; chứng thư gốc:
    `/v1/report-signing/authority`."""
    found = await backends.report_signatures.GetAuthority(
        signatures_pb2.GetAuthorityRequest(), **backends.call_options(principal.token)
    )
    return Response(found.revocation_list, media_type="application/pkix-crl", headers={"Cache-Control": "no-store"})


class AuthorityPublic(BaseModel):
    certificate_pem: str = Field(description="Chứng thư gốc của cơ quan chứng thực (PEM)")
    revocation_list_updated_at: datetime


@router.get("/report-signing/authority")
async def signing_authority(principal: Caller, backends: BackendsDep) -> AuthorityPublic:
    """Chứng thư gốc của cơ quan chứng thực ký số báo cáo, để kiểm tra chữ ký ở nơi khác."""
    found = await backends.report_signatures.GetAuthority(
        signatures_pb2.GetAuthorityRequest(), **backends.call_options(principal.token)
    )
    return AuthorityPublic(
        certificate_pem=found.certificate_pem,
        revocation_list_updated_at=datetime.fromisoformat(found.revocation_list_updated_at),
    )
