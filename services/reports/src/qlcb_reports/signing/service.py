"""The signing authority in the reports database, and the signed documents of reports and templates.

The authority (one row) is made the first time a signature or its list is needed, in the caller's
transaction; a unit's key likewise, the first time the unit signs. A rotation supersedes the unit's
active key (its signatures stay valid: its certificate is neither revoked nor expired); a
revocation puts the key's certificate on the authority's revocation list, which verification
checks, and a new key signs from then on. Private keys leave this module only sealed."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.errors import FailedPrecondition, InvalidArgument, NotFound
from qlcb_reports.signing import authority, documents, pades
from qlcb_reports.signing.models import SignedDocument, SigningAuthority, UnitCertificate

ROOT_ID = "root"
SUBMISSION = "submission"
TEMPLATE = "template"
ACTIVE, ROTATED, REVOKED = "active", "rotated", "revoked"


@dataclass(frozen=True)
class Signing:
    """What signing needs from the settings."""

    sealer: authority.KeySealer
    authority_name: str
    root_days: int
    unit_days: int
    font_dir: Path


async def root(session: AsyncSession, signing: Signing) -> tuple[authority.Issued, SigningAuthority]:
    """The authority, made now if this is its first use (two replicas racing: one row wins)."""
    found = await session.get(SigningAuthority, ROOT_ID)
    if found is None:
        made = authority.new_root(signing.authority_name, days=signing.root_days)
        now = datetime.now(UTC)
        row = SigningAuthority(
            id=ROOT_ID,
            certificate_pem=authority.pem(made.certificate),
            sealed_key=signing.sealer.seal(made.key, ROOT_ID),
            created_at=now,
            crl_number=1,
            crl_der=authority.revocation_list(made, [], number=1, now=now),
            crl_updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:
            pass
        found = await session.get(SigningAuthority, ROOT_ID, populate_existing=True)
        assert found is not None
    return authority.Issued(
        signing.sealer.open(found.sealed_key, ROOT_ID), authority.load_pem(found.certificate_pem)
    ), found


def serial_text(serial: int) -> str:
    return f"{serial:x}"


async def _issue(
    session: AsyncSession, signing: Signing, *, unit_id: str, unit_name: str, actor: str
) -> tuple[UnitCertificate, authority.Issued]:
    made_root, _ = await root(session, signing)
    made = authority.issue_unit(made_root, unit_id=unit_id, unit_name=unit_name, days=signing.unit_days)
    serial = serial_text(made.certificate.serial_number)
    row = UnitCertificate(
        serial=serial,
        unit_id=unit_id,
        unit_name=unit_name,
        state=ACTIVE,
        certificate_pem=authority.pem(made.certificate),
        sealed_key=signing.sealer.seal(made.key, serial),
        issued_at=datetime.now(UTC),
        issued_by=actor,
    )
    async with session.begin_nested():
        session.add(row)
    return row, made


async def _active(session: AsyncSession, unit_id: str) -> UnitCertificate | None:
    """The unit's active certificate, with the unit's keys held until the transaction ends: its first
    issue, a rotation and a revocation take turns (two at once would both see no active key, or the
    one just superseded, and issue a second active one)."""
    key = int.from_bytes(hashlib.sha256(f"signing-key:{unit_id}".encode()).digest()[:8], "big", signed=True)
    if session.get_bind().dialect.name == "postgresql":  # SQLite (make up) has one writer at a time anyway
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    query = select(UnitCertificate).where(UnitCertificate.unit_id == unit_id, UnitCertificate.state == ACTIVE)
    return (await session.scalars(query.with_for_update())).first()


async def unit_key(
    session: AsyncSession, signing: Signing, *, unit_id: str, unit_name: str, actor: str
) -> tuple[UnitCertificate, authority.Issued]:
    """The unit's active key, issued now if it has none."""
    found = await _active(session, unit_id)
    if found is None:
        return await _issue(session, signing, unit_id=unit_id, unit_name=unit_name, actor=actor)
    key = signing.sealer.open(found.sealed_key, found.serial)
    return found, authority.Issued(key, authority.load_pem(found.certificate_pem))


async def rotate(
    session: AsyncSession, signing: Signing, *, unit_id: str, unit_name: str, actor: str
) -> tuple[UnitCertificate | None, UnitCertificate]:
    """Supersedes the unit's active key (if it has one) with a new one: (the superseded, the new)."""
    current = await _active(session, unit_id)
    if current is not None:
        current.state = ROTATED
        current.rotated_at = datetime.now(UTC)
        await session.flush()
    row, _ = await _issue(session, signing, unit_id=unit_id, unit_name=unit_name, actor=actor)
    return current, row


async def revoke(
    session: AsyncSession, signing: Signing, *, unit_id: str, unit_name: str, actor: str, reason: str
) -> tuple[UnitCertificate, UnitCertificate]:
    """Revokes the unit's active certificate, publishes a new revocation list, issues a new key:
    (the revoked, the new)."""
    current = await _active(session, unit_id)
    if current is None:
        raise FailedPrecondition("Đơn vị chưa có chứng thư ký số đang dùng để thu hồi")
    made_root, row = await root(session, signing)
    now = datetime.now(UTC)
    current.state = REVOKED
    current.revoked_at = now
    current.revoked_by = actor
    current.revocation_reason = reason
    await session.flush()
    revoked = await session.scalars(select(UnitCertificate).where(UnitCertificate.state == REVOKED))
    row.crl_number += 1
    row.crl_der = authority.revocation_list(
        made_root,
        [authority.Revoked(int(r.serial, 16), r.revoked_at or now) for r in revoked],
        number=row.crl_number,
        now=now,
    )
    row.crl_updated_at = now
    replacement, _ = await _issue(session, signing, unit_id=unit_id, unit_name=unit_name, actor=actor)
    return current, replacement


async def certificates(session: AsyncSession, unit_id: str) -> list[UnitCertificate]:
    found = await session.scalars(
        select(UnitCertificate).where(UnitCertificate.unit_id == unit_id).order_by(UnitCertificate.issued_at.desc())
    )
    return list(found)


async def sign_document(
    session: AsyncSession,
    signing: Signing,
    *,
    kind: str,
    owner_id: str,
    version: int,
    unit_id: str,
    unit_name: str,
    pdf: bytes,
    actor: str,
    reason: str,
) -> SignedDocument:
    certificate, key = await unit_key(session, signing, unit_id=unit_id, unit_name=unit_name, actor=actor)
    made_root, _ = await root(session, signing)
    content = await pades.sign(
        pdf, key=key.key, certificate=key.certificate, root=made_root.certificate, reason=reason, signer_name=unit_name
    )
    row = SignedDocument(
        id=str(uuid.uuid4()),
        kind=kind,
        owner_id=owner_id,
        version=version,
        unit_id=unit_id,
        certificate_serial=certificate.serial,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        signed_at=datetime.now(UTC),
        signed_by=actor,
    )
    session.add(row)
    return row


async def document(session: AsyncSession, kind: str, owner_id: str, version: int) -> SignedDocument:
    """The signed document of that version (0: the latest)."""
    query = select(SignedDocument).where(SignedDocument.kind == kind, SignedDocument.owner_id == owner_id)
    if version:
        query = query.where(SignedDocument.version == version)
    found = (await session.scalars(query.order_by(SignedDocument.version.desc()).limit(1))).first()
    if found is None:
        what = "báo cáo" if kind == SUBMISSION else "mẫu báo cáo"
        raise NotFound(f"Chưa có bản ký số của {what}" + (f" phiên bản {version}" if version else ""))
    return found


@dataclass(frozen=True)
class Verification:
    valid: bool
    intact: bool
    trusted: bool
    revoked: bool
    revoked_at: datetime | None
    signer_unit_id: str
    signer_unit_name: str
    certificate_serial: str
    signed_at: datetime | None
    version: int
    summary: str


async def verify(
    session: AsyncSession, signing: Signing, *, content: bytes, expected: SignedDocument, copy: bool
) -> Verification:
    """Checks a document against the authority and what it should be (`expected`: the stored one).

    A copy (`copy`) that is not a genuine copy of the expected document is INVALID_ARGUMENT on
    `document`; the stored document answers with what it found, whatever that is."""
    made_root, row = await root(session, signing)
    try:
        checked = await pades.verify(content, root=made_root.certificate, revocation_list=row.crl_der)
    except pades.NotSigned as refused:
        raise InvalidArgument.single("document", str(refused)) from None
    unit_id, unit_name = authority.unit_of(checked.certificate)
    serial = serial_text(checked.certificate.serial_number)
    named = documents.parse_keywords(checked.keywords)
    version = named[2] if named is not None else 0
    issued = await session.get(UnitCertificate, serial) if checked.trusted else None
    if issued is not None:
        unit_name = issued.unit_name  # whole: the certificate's common name may be cut short
    problems: list[str] = []
    if not checked.trusted:
        problems.append("chữ ký không do khóa mà cơ quan chứng thực của hệ thống cấp (chữ ký giả hoặc khóa lạ)")
    elif not checked.intact:
        problems.append("tệp đã bị thay đổi sau khi ký")
    elif unit_id != expected.unit_id:
        problems.append(f"do đơn vị {unit_name} ký, không phải đơn vị của báo cáo")
    elif named is None or (named[0], named[1]) != (expected.kind, expected.owner_id):
        problems.append("không phải tài liệu này (tệp ký cho một báo cáo hoặc mẫu khác)")
    elif version != expected.version:
        problems.append(f"là bản của phiên bản {version}, đã cũ: bản ký mới nhất là phiên bản {expected.version}")
    if copy and problems:
        raise InvalidArgument.single("document", "Tệp không hợp lệ: " + problems[0])
    revoked_at = issued.revoked_at if issued is not None and checked.revoked else None
    if checked.revoked and not problems:
        problems.append(
            "chứng thư của đơn vị đã bị thu hồi"
            + (f" lúc {revoked_at:%H:%M:%S %d/%m/%Y} (UTC)" if revoked_at else "")
            + ": chữ ký không còn giá trị"
        )
    valid = not problems
    return Verification(
        valid=valid,
        intact=checked.intact,
        trusted=checked.trusted,
        revoked=checked.revoked,
        revoked_at=revoked_at,
        signer_unit_id=unit_id if checked.trusted else "",
        signer_unit_name=unit_name,
        certificate_serial=serial,
        signed_at=checked.signed_at,
        version=version,
        summary="Chữ ký hợp lệ, tài liệu nguyên vẹn" if valid else "Không hợp lệ: " + "; ".join(problems),
    )
