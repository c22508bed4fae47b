"""PAdES signing and verification with pyHanko, over the deployment's authority.

A signature is PAdES B-B (`ETSI.CAdES.detached`, SHA-256) in a field of its own, with the signer's
certificate and the root in the signed data. Verification trusts the authority's root alone,
fetches nothing, and checks the end certificate against the revocation list it is given: pyHanko
reports a revoked certificate's signatures as REVOKED_NO_POE, because without a trusted time stamp
nothing proves a signature was made before the revocation (ADR 0020)."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.generic import TextStringObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.registry import SimpleCertificateStore

FIELD = "ChuKyDonVi"
REVOCATION = CertRevTrustPolicy(
    RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_REQUIRED,
        intermediate_ca_cert_rule=RevocationCheckingRule.NO_CHECK,
    )
)

# pyHanko logs each failed validation with its stack; the verification's answer says it already.
logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)

CMS_OVERHEAD = 4096
"""Bytes of a signature's CMS container besides the two certificates it carries: the signed
attributes (content type, digest, signing time, the signer certificate's hash), the signature and
the ASN.1 around them take under 1,000; the rest is margin."""


class NotSigned(ValueError):
    """Not a PDF, or a PDF without a signature this system reads."""


def _asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _asn1_key(key: ec.EllipticCurvePrivateKey) -> asn1_keys.PrivateKeyInfo:
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return asn1_keys.PrivateKeyInfo.load(der)


async def sign(
    pdf: bytes,
    *,
    key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
    root: x509.Certificate,
    reason: str,
    signer_name: str,
) -> bytes:
    signing_cert = _asn1_certificate(certificate)
    signer = signers.SimpleSigner(
        signing_cert=signing_cert,
        signing_key=_asn1_key(key),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_certificate(root)]),  # type: ignore[no-untyped-call]
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        name=signer_name,
    )
    # The room for the signature is given rather than estimated: pyHanko estimates by making a whole
    # signature once more, a third of each signing's time. Hex in the file: two characters a byte.
    reserved = 2 * (len(signing_cert.dump()) + len(_asn1_certificate(root).dump()) + CMS_OVERHEAD)
    out = io.BytesIO()
    await signers.PdfSigner(metadata, signer).async_sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)), bytes_reserved=reserved, output=out
    )
    return out.getvalue()


def _keywords(reader: PdfFileReader) -> str:
    try:
        words = reader.trailer_view["/Info"]["/Keywords"]
    except KeyError:
        return ""
    return str(words) if isinstance(words, TextStringObject | str) else ""


@dataclass(frozen=True)
class Checked:
    intact: bool
    trusted: bool
    revoked: bool
    certificate: x509.Certificate
    signed_at: datetime | None
    keywords: str


async def verify(content: bytes, *, root: x509.Certificate, revocation_list: bytes) -> Checked:
    """The state of the document's one signature (NotSigned when it has none or is no PDF)."""
    try:
        reader = PdfFileReader(io.BytesIO(content), strict=False)
        signatures = reader.embedded_signatures
        words = _keywords(reader)
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as error:
        raise NotSigned(f"Không đọc được tệp PDF: {error}") from None
    if len(signatures) != 1:
        raise NotSigned(f"Tệp phải có đúng một chữ ký số, có {len(signatures)}")
    context = ValidationContext(
        trust_roots=[_asn1_certificate(root)],
        crls=[revocation_list],
        allow_fetching=False,
        revinfo_policy=REVOCATION,
    )
    try:
        status = await async_validate_pdf_signature(signatures[0], context)
    except (PdfError, ValueError, KeyError, TypeError) as error:
        raise NotSigned(f"Chữ ký số không đọc được: {error}") from None
    certificate = x509.load_der_x509_certificate(status.signing_cert.dump())
    intact = bool(status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_FILE)
    try:
        certificate.verify_directly_issued_by(root)
        issued = True
    except (ValueError, TypeError, InvalidSignature):
        issued = False
    return Checked(
        intact=intact,
        # pyHanko validates the chain only of an intact signature; a changed file's signer is still
        # known to be the authority's (or not) by the certificate's own signature.
        trusted=issued and (bool(status.trusted) or bool(status.revoked) or not intact),
        revoked=bool(status.revoked),
        certificate=certificate,
        signed_at=status.signer_reported_dt,
        keywords=words,
    )
