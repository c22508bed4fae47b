"""The mailer: sends each committed first-login code to its holder, retries what the relay refused,
and closes deliveries that expired."""

from __future__ import annotations

import asyncio
import re
import smtplib
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage

import structlog
from keycloak import KeycloakAdmin
from prometheus_client import Counter
from sqlalchemy import select

from qlcb_common.db import Database
from qlcb_common.shutdown import Stopping
from qlcb_identity.account_requests.models import CredentialDelivery
from qlcb_identity.credentials import Courier, close_keycloak_password
from qlcb_identity.settings import IdentitySettings

log = structlog.get_logger(__name__)

MAILED = Counter("qlcb_credential_mail_total", "First-login codes mailed to holders, by outcome", ["outcome"])
BATCH = 20


class SmtpMailer:
    def __init__(self, settings: IdentitySettings) -> None:
        self._settings = settings

    def send(self, message: EmailMessage) -> None:
        s = self._settings
        message["From"] = s.mail_from
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
            smtp.send_message(message)


_CODE_LINE = re.compile(r"^ {4}(\S+)$", re.MULTILINE)
"""The code stands alone on its own indented line, so it is copied whole from any mail reader."""


def credential_message(delivery: CredentialDelivery, token: str) -> EmailMessage:
    expires = delivery.expires_at.astimezone(UTC).strftime("%H:%M ngày %d/%m/%Y (UTC)")
    message = EmailMessage()
    message["To"] = delivery.recipient
    message["Subject"] = f"QLCB: thông tin đăng nhập lần đầu của tài khoản {delivery.username}"
    message.set_content(
        f"Tài khoản {delivery.username} đã được cấp hoặc cấp lại cho anh/chị.\n\n"
        f"Mã nhận mật khẩu lần đầu (dùng một lần, hết hạn lúc {expires}):\n\n"
        f"    {token}\n\n"
        "Gửi mã này tới POST /v1/credentials của dịch vụ tài khoản để nhận mật khẩu lần đầu; "
        "anh/chị phải đổi mật khẩu ở lần đăng nhập đầu tiên.\n"
        "Nếu anh/chị không chờ thư này, hãy báo ngay cho quản trị đơn vị.\n"
    )
    return message


def code_in(message: EmailMessage) -> str | None:
    """The code of a mail `credential_message` wrote, for whatever reads one back (tests, the bench)."""
    body = message.get_body(preferencelist=("plain",))
    found = _CODE_LINE.search(body.get_content()) if body is not None else None
    return found.group(1) if found else None


async def send_due(db: Database, courier: Courier, mailer: SmtpMailer) -> int:
    """Mails up to a batch of codes; a code is wiped from the store once the relay took it."""
    now = datetime.now(UTC)
    sent = 0
    async with db.unit_of_work() as session:
        due = await session.scalars(
            select(CredentialDelivery)
            .where(CredentialDelivery.sealed_token.is_not(None), CredentialDelivery.expires_at > now)
            .order_by(CredentialDelivery.created_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        for delivery in due:
            assert delivery.sealed_token is not None
            message = credential_message(delivery, courier.sealer.decrypt(delivery.sealed_token).decode())
            try:
                await asyncio.to_thread(mailer.send, message)
            except (smtplib.SMTPException, OSError) as error:
                delivery.mail_attempts += 1
                delivery.last_mail_error = str(error)[:500]
                MAILED.labels("failed").inc()
                log.warning("credential_mail_failed", username=delivery.username, error=str(error))
                continue
            delivery.sealed_token = None
            delivery.mailed_at = datetime.now(UTC)
            MAILED.labels("sent").inc()
            sent += 1
    return sent


async def close_expired(db: Database, admin: Callable[[], KeycloakAdmin]) -> int:
    now = datetime.now(UTC)
    async with db.unit_of_work() as session:
        expired = list(
            await session.scalars(
                select(CredentialDelivery)
                .where(CredentialDelivery.wiped_at.is_(None), CredentialDelivery.expires_at <= now)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        for delivery in expired:
            await asyncio.to_thread(close_keycloak_password, admin(), delivery.username)
            delivery.sealed_password = None
            delivery.sealed_token = None
            delivery.wiped_at = now
            log.info("credential_expired", username=delivery.username, audit=True)
    return len(expired)


async def run_mailer(
    db: Database,
    courier: Courier,
    mailer: SmtpMailer,
    admin: Callable[[], KeycloakAdmin],
    interval: float,
    stopping: Stopping,
) -> None:
    """Mails and closes deliveries until stopping; a round under way finishes first, so a code
    mailed is marked mailed (a round cut short would roll back and mail the code again)."""
    while not stopping.is_set():
        courier.posted.clear()
        try:
            await send_due(db, courier, mailer)
            await close_expired(db, admin)
        except Exception:
            log.exception("credential_mailer_failed")
        await stopping.wait_for(courier.posted, interval)
