"""What every FastAPI service shares: RED metrics per route template, ops endpoints, the cap
on request bodies, errors in the one schema, and the bearer-token dependency."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qlcb_common import http_errors, validation_messages
from qlcb_common.auth import AuthError, Principal, TokenVerifier
from qlcb_common.body_limit import BodyLimit
from qlcb_common.errors import (
    AlreadyExists,
    DataLoss,
    FailedPrecondition,
    Gone,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ServiceError,
    StaleVersion,
)
from qlcb_common.metrics import AUTH_FAILURES, HTTP_DURATION, HTTP_REQUESTS
from qlcb_common.ops_http import Readiness, ops_routes
from qlcb_common.request_text import ControlCharactersRefused
from qlcb_common.settings import HttpApiSettings
from qlcb_common.shutdown import Calls

bearer_scheme = HTTPBearer(auto_error=False, description="Keycloak access token of the qlcb realm")


def instrument(
    app: FastAPI, *, service: str, readiness: Readiness, http: HttpApiSettings, upload_paths: tuple[str, ...] = ()
) -> None:
    """`upload_paths`: the path prefixes of the routes that take files, whose bodies may reach
    `http.max_upload_bytes` rather than `http.max_body_bytes`."""
    for route in ops_routes(readiness):
        app.router.routes.append(route)
    ops_paths = frozenset(route.path for route in ops_routes(readiness))
    calls = Calls()
    app.state.readiness = readiness
    app.state.calls = calls
    # Added first, so it runs inside the metrics middleware (its 413s are counted) and outside
    # routing: an oversized body is refused before it is parsed or its token checked.
    app.add_middleware(
        BodyLimit, max_bytes=http.max_body_bytes, upload_paths=upload_paths, upload_bytes=http.max_upload_bytes
    )
    app.add_middleware(ControlCharactersRefused)

    app.add_middleware(RedMetrics, service=service, ops_paths=ops_paths, calls=calls)


class RedMetrics:
    """Counts each request by route template, method and status, and times it to its response's
    head, as plain ASGI: Starlette's `BaseHTTPMiddleware` (`@app.middleware`) ran each request in a
    task group with memory streams, a seventh of the gateway's CPU per search in a profile."""

    def __init__(self, app: ASGIApp, *, service: str, ops_paths: frozenset[str], calls: Calls) -> None:
        self.app = app
        self.service = service
        self.ops_paths = ops_paths
        self.calls = calls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answered: float | None = None
        code = 500
        counted = scope["path"] not in self.ops_paths  # probes and scrapes are not callers
        if counted:
            self.calls.started()

        async def timed(message: Message) -> None:
            nonlocal answered, code
            if message["type"] == "http.response.start":
                answered = time.perf_counter()
                code = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed)
        finally:
            if counted:
                self.calls.finished()
            route = _route_template(scope)
            HTTP_REQUESTS.labels(self.service, scope["method"], route, str(code)).inc()
            took = (answered if answered is not None else time.perf_counter()) - started
            HTTP_DURATION.labels(self.service, scope["method"], route).observe(took)


_HTTP_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (NotFound, 404),
    (AlreadyExists, 409),
    (FailedPrecondition, 409),
    (PermissionDenied, 403),
    (Gone, 410),
    (StaleVersion, 412),
    (DataLoss, 500),
)


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    """ServiceErrors as HTTP: 422 naming the invalid fields, else a status and message."""
    if isinstance(exc, InvalidArgument):
        return http_errors.field_errors([(v.field, v.description) for v in exc.violations])
    status_code = next((code for kind, code in _HTTP_STATUS if isinstance(exc, kind)), 500)
    return http_errors.problem(status_code, exc.code if isinstance(exc, ServiceError) else type(exc).__name__, str(exc))


def install_error_handlers(app: FastAPI, *, every_operation: Collection[int] = ()) -> None:
    """Every error answered in the one `Error` schema, and listed, with that schema, on each
    operation of the OpenAPI document (`every_operation`: statuses any operation can answer)."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, http_errors.http_exception)
    app.add_exception_handler(RequestValidationError, validation_messages.validation_error)
    http_errors.document(app, every_operation)


def _route_template(scope: Scope) -> str:
    """The template of the route that answered: FastAPI's routing names it in the scope (routes of
    included routers are not in the app's own list); the ops routes are matched here."""
    matched = scope.get("route")
    if matched is not None:
        return str(matched.path)
    for route in scope["app"].router.routes:
        if isinstance(route, Route) and route.matches(scope)[0] is Match.FULL:
            return route.path
    return "unmatched"


async def authenticate(
    service: str, verifier: TokenVerifier, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """Verifies the bearer token or raises 401 with a WWW-Authenticate challenge."""
    try:
        if credentials is None:
            raise AuthError("missing", "Thiếu bearer token (Authorization header)")
        return await verifier.verify(credentials.credentials)
    except AuthError as exc:
        AUTH_FAILURES.labels(service, exc.reason).inc()
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail={"code": "Unauthenticated", "reason": exc.reason, "message": str(exc)},
            headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc.reason}"'},
        ) from exc


def caller_dependency(service: str) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency giving the verified caller; the app keeps its verifier in `state.verifier`."""

    async def caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Principal:
        return await authenticate(service, request.app.state.verifier, credentials)

    return caller
