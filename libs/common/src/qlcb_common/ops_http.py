"""The ops endpoints every service exposes: /metrics, /livez and /readyz."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class Readiness:
    """Ready once every named dependency has been reported connected; unready again for good once
    the service is stopping, when `stopping` names the step it is at (`qlcb_common.grpc_runtime`)."""

    def __init__(self, *dependencies: str) -> None:
        self._pending = set(dependencies)
        self.draining = False
        self.stopping: str | None = None

    def stop_step(self, step: str) -> None:
        self.draining = True
        self.stopping = step

    def mark(self, dependency: str) -> None:
        self._pending.discard(dependency)

    @property
    def ready(self) -> bool:
        return not self._pending and not self.draining

    def describe(self) -> dict[str, object]:
        return {
            "ready": self.ready,
            "waiting_for": sorted(self._pending),
            "draining": self.draining,
            "stopping": self.stopping,
        }


def ops_routes(readiness: Readiness) -> list[Route]:
    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def livez(_request: Request) -> Response:
        return JSONResponse({"alive": True})

    async def readyz(_request: Request) -> Response:
        return JSONResponse(readiness.describe(), status_code=200 if readiness.ready else 503)

    return [
        Route("/metrics", metrics),
        Route("/livez", livez),
        Route("/readyz", readyz),
    ]


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the process that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def embedded_ops_server(host: str, port: int, readiness: Readiness) -> uvicorn.Server:
    app = Starlette(routes=ops_routes(readiness))
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    return _EmbeddedServer(config)
