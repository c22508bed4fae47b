"""First-login passwords delivered once (R-ACC-6): sealed until the holder takes them with a
one-time token, which expires."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.errors import Gone, NotFound
from qlcb_identity.account_requests.models import CredentialDelivery

LIFETIME = timedelta(hours=72)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def deliver(
    session: AsyncSession, *, sealer: Fernet, username: str, password: str, request_id: str | None = None
) -> str:
    """Seals the password and returns the token that retrieves it once."""
    token = secrets.token_urlsafe(32)
    session.add(
        CredentialDelivery(
            token_sha256=_digest(token),
            request_id=request_id,
            username=username,
            sealed_password=sealer.encrypt(password.encode()),
            expires_at=datetime.now(UTC) + LIFETIME,
        )
    )
    return token


async def retrieve(session: AsyncSession, *, token: str, sealer: Fernet) -> tuple[str, str]:
    """Hands out the first-login password once; afterwards, or once expired, it is gone."""
    delivery = await session.scalar(
        select(CredentialDelivery).where(CredentialDelivery.token_sha256 == _digest(token)).with_for_update()
    )
    if delivery is None:
        raise NotFound("Không có thông tin đăng nhập nào ứng với mã này")
    if delivery.sealed_password is None:
        raise Gone("Thông tin đăng nhập đã được nhận; hãy báo mất để cấp lại")
    if delivery.expires_at.replace(tzinfo=delivery.expires_at.tzinfo or UTC) < datetime.now(UTC):
        raise Gone("Mã nhận thông tin đăng nhập đã hết hạn")
    password = sealer.decrypt(delivery.sealed_password).decode()
    delivery.sealed_password = None
    delivery.retrieved_at = datetime.now(UTC)
    return delivery.username, password
