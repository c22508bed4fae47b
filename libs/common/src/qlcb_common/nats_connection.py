"""Connecting to NATS: wait for the first connection, then reconnect forever."""

from __future__ import annotations

import asyncio

import nats
import structlog
from nats.aio.client import Client

log = structlog.get_logger(__name__)


async def connect(
    url: str, *, name: str, user: str | None = None, password: str | None = None, timeout: float = 60.0
) -> Client:
    """Connects as `user` (each service has its own NATS user, see events.permissions)."""
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
                url,
                name=name,
                user=user or None,
                password=password or None,
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
