"""First-login passwords delivered once, to their holder (R-ACC-6: the sealed envelope).

The password is sealed in identity's store; a one-time code that retrieves it is mailed to the
holder's address and never appears in the response of the admin who issued or reset the account,
so no admin learns a password it could log in with. A new delivery for an account replaces the
open ones; an unretrieved or unused one expires, and then its password no longer works.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.fernet import MultiFernet
from keycloak import KeycloakAdmin
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.errors import FailedPrecondition, Gone, NotFound
from qlcb_identity.account_requests.models import AccountRequest, CredentialDelivery
from qlcb_identity.purpose_accounts.models import HolderAssignment, PurposeAccount


@dataclass
class Courier:
    """What a delivery needs: the key that seals, how long a code holds, and the mailer's bell,
    rung once a delivery is committed so the code leaves at once rather than at the next poll."""

    sealer: MultiFernet
    lifetime: timedelta
    posted: asyncio.Event = field(default_factory=asyncio.Event)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def masked(address: str) -> str:
    """ "ha.vu@haiquan.gov.vn" → "h***@haiquan.gov.vn": enough for the admin to tell where it went."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


async def deliver(
    session: AsyncSession,
    *,
    courier: Courier,
    username: str,
    password: str,
    recipient: str,
    request_id: str | None = None,
) -> str:
    """Seals the password and its code for the mailer; returns the masked recipient."""
    username = username.lower()  # as Keycloak keeps it, whatever case the caller typed
    now = datetime.now(UTC)
    await session.execute(
        update(CredentialDelivery)
        .where(CredentialDelivery.username == username, CredentialDelivery.wiped_at.is_(None))
        .values(sealed_password=None, sealed_token=None, wiped_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        CredentialDelivery(
            token_sha256=_digest(token),
            request_id=request_id,
            username=username,
            recipient=recipient,
            sealed_password=courier.sealer.encrypt(password.encode()),
            sealed_token=courier.sealer.encrypt(token.encode()),
            created_at=now,
            expires_at=now + courier.lifetime,
            mail_attempts=0,
        )
    )
    event.listen(session.sync_session, "after_commit", lambda _: courier.posted.set(), once=True)
    return masked(recipient)


async def retrieve(session: AsyncSession, *, token: str, sealer: MultiFernet) -> tuple[str, str]:
    """Hands out the first-login password once; afterwards, once replaced or expired, it is gone."""
    delivery = await session.scalar(
        select(CredentialDelivery).where(CredentialDelivery.token_sha256 == _digest(token)).with_for_update()
    )
    if delivery is None:
        raise NotFound("Không có thông tin đăng nhập nào ứng với mã này")
    if delivery.retrieved_at is not None:
        raise Gone("Thông tin đăng nhập đã được nhận; hãy báo mất để cấp lại")
    if delivery.wiped_at is not None or delivery.sealed_password is None:
        raise Gone("Mã nhận thông tin đăng nhập đã hết hạn hoặc đã được thay bằng mã mới")
    if delivery.expires_at < datetime.now(UTC):
        raise Gone("Mã nhận thông tin đăng nhập đã hết hạn")
    password = sealer.decrypt(delivery.sealed_password).decode()
    delivery.sealed_password = None
    delivery.retrieved_at = datetime.now(UTC)
    return delivery.username, password


async def reseal(session: AsyncSession, sealer: MultiFernet) -> int:
    """Seals every open delivery again with the sealer's first key (key rotation); returns how many."""
    open_deliveries = await session.scalars(
        select(CredentialDelivery).where(CredentialDelivery.wiped_at.is_(None)).with_for_update()
    )
    count = 0
    for delivery in open_deliveries:
        if delivery.sealed_password is not None:
            delivery.sealed_password = sealer.rotate(delivery.sealed_password)
        if delivery.sealed_token is not None:
            delivery.sealed_token = sealer.rotate(delivery.sealed_token)
        count += 1
    return count


async def holder_address(session: AsyncSession, *, username: str, keycloak_email: str | None) -> str:
    """Where the holder of an account receives its credentials: the current holder of a purpose
    account, else the holder named in the request that issued it, else the account's own e-mail."""
    username = username.lower()
    purpose = await session.scalar(select(PurposeAccount).where(PurposeAccount.username == username))
    if purpose is not None:
        holder = await session.scalar(
            select(HolderAssignment).where(
                HolderAssignment.account_id == purpose.id, HolderAssignment.valid_to.is_(None)
            )
        )
        if holder is None:
            raise FailedPrecondition("Tài khoản dùng chung chưa được giao cho ai; hãy giao cho người giữ")
        return holder.holder_email
    request = await session.scalar(select(AccountRequest).where(AccountRequest.username == username))
    if request is not None:
        return request.holder_email
    if keycloak_email:
        return keycloak_email
    raise FailedPrecondition("Tài khoản chưa có địa chỉ thư điện tử của người giữ để gửi thông tin đăng nhập")


def close_keycloak_password(admin: KeycloakAdmin, username: str) -> None:
    """After a code expires: if the holder never replaced the first-login password, nobody may use
    it any more; the account waits for a reset."""
    user_id = admin.get_user_id(username)
    if user_id is None:
        return
    if "UPDATE_PASSWORD" in admin.get_user(user_id).get("requiredActions", []):
        admin.set_user_password(user_id, secrets.token_urlsafe(24) + "aA1!", temporary=True)
