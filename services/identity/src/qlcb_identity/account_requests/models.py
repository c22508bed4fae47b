from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from qlcb_common.db import UtcDateTime
from qlcb_identity.db_models import Base


class RequestStatus(StrEnum):
    SUBMITTED = "submitted"  # Đã gửi
    CONSENTED = "consented"  # Thủ trưởng đơn vị đồng ý
    APPROVED = "approved"  # Đã phê duyệt
    ISSUED = "issued"  # Đã cấp tài khoản
    REJECTED = "rejected"  # Từ chối


class Step(StrEnum):
    CONSENT = "consent"  # Đồng ý (thủ trưởng đơn vị)
    APPROVE = "approve"  # Phê duyệt
    ISSUE = "issue"  # Cấp tài khoản


OPEN = (RequestStatus.SUBMITTED, RequestStatus.CONSENTED, RequestStatus.APPROVED)
NEXT_STEP = {
    RequestStatus.SUBMITTED: Step.CONSENT,
    RequestStatus.CONSENTED: Step.APPROVE,
    RequestStatus.APPROVED: Step.ISSUE,
}
_IS_OPEN = "status IN ({})".format(", ".join(f"'{status.value}'" for status in OPEN))


class AccountRequest(Base):
    """A request for an account with the fields of R-ACC-4 (002 Điều 6.4)."""

    __tablename__ = "account_requests"
    __table_args__ = (
        # One open request per holder and purpose, also between submissions racing each other:
        # the check before inserting cannot see a request another transaction has not committed.
        Index(
            "one_open_request_per_holder",
            "dedup_key",
            unique=True,
            postgresql_where=text(_IS_OPEN),
            sqlite_where=text(_IS_OPEN),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    holder_name: Mapped[str] = mapped_column(String(150))
    # The holder's số định danh cá nhân: links the account to the personnel record (R-ACC-8).
    holder_personal_id: Mapped[str | None] = mapped_column(String(12), index=True)
    # Where the first-login code goes (R-ACC-6): the holder, not whoever issues the account.
    holder_email: Mapped[str] = mapped_column(String(255))
    unit_path: Mapped[str] = mapped_column(String(1024), index=True)
    division: Mapped[str] = mapped_column(String(255))
    position: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str] = mapped_column(String(20))
    account_types: Mapped[list[str]] = mapped_column(JSON)
    reply_name: Mapped[str] = mapped_column(String(150))
    reply_unit: Mapped[str] = mapped_column(String(255))
    reply_email: Mapped[str] = mapped_column(String(255))
    reply_phone: Mapped[str] = mapped_column(String(20))
    requester_name: Mapped[str] = mapped_column(String(150))
    # Holder, unit and account types, normalised: one open request per holder and purpose.
    dedup_key: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Each step's account by its token's subject (history: a realm restore gives accounts new ids)
    # and by its username, which the four-eyes rule compares and which a restore keeps (ADR 0029).
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_by_username: Mapped[str] = mapped_column(String(255))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    consented_by: Mapped[str | None] = mapped_column(String(64))
    consented_by_username: Mapped[str | None] = mapped_column(String(255))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_by_username: Mapped[str | None] = mapped_column(String(255))
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    username: Mapped[str | None] = mapped_column(String(255), unique=True)
    keycloak_user_id: Mapped[str | None] = mapped_column(String(64))
    # When a realm restore left no account of this username in the live realm (ADR 0029).
    unlinked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(1000))


class CredentialDelivery(Base):
    """A first-login password, retrievable once before it expires (R-ACC-6), and its code until
    the mailer has handed it to the relay; both sealed with the credential key."""

    __tablename__ = "credential_deliveries"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str | None] = mapped_column(ForeignKey("account_requests.id"), index=True)
    username: Mapped[str] = mapped_column(String(255), index=True)
    recipient: Mapped[str] = mapped_column(String(255))
    sealed_password: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    mailed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    mail_attempts: Mapped[int] = mapped_column(Integer)
    last_mail_error: Mapped[str | None] = mapped_column(String(500))
    retrieved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Replaced by a newer delivery or expired: its password and code are gone.
    wiped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
