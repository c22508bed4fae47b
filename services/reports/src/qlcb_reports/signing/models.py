from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_reports.db_models import Base


class SigningAuthority(Base):
    """The deployment's certificate authority: one row, made on first use; its key sealed."""

    __tablename__ = "signing_authority"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    certificate_pem: Mapped[str] = mapped_column(Text)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The number of the last revocation list issued (RFC 5280 CRLNumber grows with each).
    crl_number: Mapped[int] = mapped_column(Integer)
    crl_der: Mapped[bytes] = mapped_column(LargeBinary)
    crl_updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UnitCertificate(Base):
    """A key and certificate the authority issued to a unit. `state`: active (the one the unit signs
    with; at most one per unit), rotated (superseded, its signatures still valid) or revoked."""

    __tablename__ = "signing_unit_certificates"
    __table_args__ = (Index("ix_signing_unit_active", "unit_id", unique=True, postgresql_where="state = 'active'"),)

    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(36), index=True)
    unit_name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    certificate_pem: Mapped[str] = mapped_column(Text)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    issued_by: Mapped[str] = mapped_column(String(255))
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(255))
    revocation_reason: Mapped[str | None] = mapped_column(Text)


class SignedDocument(Base):
    """A signed PDF: a report's submission (kind `submission`, keyed by the assignment and its
    version) or a template version (kind `template`, keyed by the regime and the version)."""

    __tablename__ = "signed_documents"
    __table_args__ = (UniqueConstraint("kind", "owner_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str] = mapped_column(String(36))
    certificate_serial: Mapped[str] = mapped_column(ForeignKey("signing_unit_certificates.serial"))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    signed_by: Mapped[str] = mapped_column(String(255))
