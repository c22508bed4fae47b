"""Connecting to NATS: wait for the first connection, then reconnect forever."""

from __future__ import annotations

import asyncio
import ssl

import nats
import structlog
from nats.aio.client import Client

from qlcb_common.settings import NatsClientSettings

log = structlog.get_logger(__name__)


def tls_context(settings: NatsClientSettings) -> ssl.SSLContext | None:
    """The TLS the settings ask for: the server's certificate checked against the CA (and its
    address), the client certificate presented; None for a plaintext connection."""
    if not settings.nats_tls:
        return None
    context = ssl.create_default_context(cafile=settings.nats_tls_ca_file)
    if settings.nats_tls_cert_file is not None:
        context.load_cert_chain(settings.nats_tls_cert_file, settings.nats_tls_key_file)
    return context


async def connect(settings: NatsClientSettings, *, name: str, timeout: float = 60.0) -> Client:
    """Connects as the service's own user (see events.permissions), over TLS if so configured."""
    tls = tls_context(settings)
    deadline = asyncio.get_running_loop().time() + timeout
    delay = 0.2

    async def disconnected() -> None:
        log.warning("NATS disconnected")

    async def reconnected() -> None:
        log.info("NATS reconnected")

    async def error(exc: Exception) -> None:
        log.warning("NATS error", error=repr(exc))

    while True:
        try:
            return await nats.connect(
                settings.nats_url,
                name=name,
                user=settings.nats_user or None,
                password=settings.nats_password.get_secret_value() or None,
                tls=tls,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
            )
        except Exception as exc:
            if asyncio.get_running_loop().time() + delay > deadline:
                raise
            log.warning("NATS not reachable yet", error=repr(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
