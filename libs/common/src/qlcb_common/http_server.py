"""Runs a FastAPI service under uvicorn, leaving the way the gRPC services do (ADR 0012): on the
first SIGTERM it turns unready (/readyz 503) and keeps answering until no request has arrived for
half a second, at most `shutdown_unready_seconds`, so that Kubernetes takes it out of its Service's
endpoints before it refuses anything; only then does uvicorn stop accepting and drain what is in
flight within `shutdown_grace_seconds`. A second signal stops at once."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from types import FrameType

import structlog
import uvicorn
from fastapi import FastAPI

from qlcb_common.heap import freeze_startup_heap
from qlcb_common.ops_http import Readiness
from qlcb_common.settings import ServiceSettings
from qlcb_common.shutdown import Calls

log = structlog.get_logger(__name__)

QUIET_SECONDS = 0.5


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, readiness: Readiness, calls: Calls, unready_seconds: float) -> None:
        super().__init__(config)
        self._readiness = readiness
        self._calls = calls
        self._unready_seconds = unready_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._leaving: asyncio.Task[None] | None = None

    async def serve(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)  # type: ignore[arg-type]

    async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        await super().startup(sockets)  # type: ignore[arg-type]
        log.info("started", frozen_objects=freeze_startup_heap())

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._loop is None or self._leaving is not None or self.should_exit:
            super().handle_exit(sig, frame)
            return
        self._loop.call_soon_threadsafe(self._leave, sig, frame)

    def _leave(self, sig: int, frame: FrameType | None) -> None:
        if self._leaving is None:
            self._leaving = asyncio.ensure_future(self._unready_then_exit(sig, frame))

    async def _unready_then_exit(self, sig: int, frame: FrameType | None) -> None:
        self._readiness.stop_step("unready")
        log.info("stopping: unready while requests still arrive", at_most_seconds=self._unready_seconds)
        quiet = await self._calls.quiet(for_seconds=QUIET_SECONDS, at_most=self._unready_seconds)
        if not quiet:
            log.warning("requests still arriving at the end of the unready window")
        self._readiness.stop_step("draining")
        super().handle_exit(sig, frame)


def run(
    app: FastAPI,
    settings: ServiceSettings,
    *,
    port: int,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
) -> None:
    """`app` must have been given `qlcb_common.http_app.instrument`, which keeps its readiness and
    the requests it answers."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        log_config=None,
        access_log=False,
        # uvloop's loop, named so that its absence fails at start rather than silently falling back:
        # it took about 1.5 ms off each search through the gateway. HTTP stays on h11, which refuses
        # a request whose head outgrows 16 kB; httptools' parser, 0.5 ms faster, took 10 MB of headers.
        loop="uvloop",
        http="h11",
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),  # whole seconds
    )
    server = DrainingServer(
        config,
        readiness=app.state.readiness,
        calls=app.state.calls,
        unready_seconds=settings.shutdown_unready_seconds,
    )
    server.run()
