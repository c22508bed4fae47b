"""What every FastAPI service shares: RED metrics per route template, ops endpoints, the cap
on request bodies, and the bearer-token dependency."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import Match

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
)
from qlcb_common.metrics import AUTH_FAILURES, HTTP_DURATION, HTTP_REQUESTS
from qlcb_common.ops_http import Readiness, ops_routes
from qlcb_common.settings import HttpApiSettings

bearer_scheme = HTTPBearer(auto_error=False, description="Keycloak access token of the qlcb realm")


def instrument(app: FastAPI, *, service: str, readiness: Readiness, http: HttpApiSettings) -> None:
    for route in ops_routes(readiness):
        app.router.routes.append(route)
    # Added first, so it runs inside the metrics middleware (its 413s are counted) and outside
    # routing: an oversized body is refused before it is parsed or its token checked.
    app.add_middleware(BodyLimit, max_bytes=http.max_body_bytes)

    @app.middleware("http")
    async def red_metrics(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        route = _route_template(request)
        code = 500
        try:
            response = await call_next(request)
            code = response.status_code
            return response
        finally:
            HTTP_REQUESTS.labels(service, request.method, route, str(code)).inc()
            HTTP_DURATION.labels(service, request.method, route).observe(time.perf_counter() - started)


_HTTP_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (NotFound, 404),
    (AlreadyExists, 409),
    (FailedPrecondition, 409),
    (PermissionDenied, 403),
    (Gone, 410),
    (DataLoss, 500),
)


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    """ServiceErrors as HTTP: 422 in FastAPI's own shape for invalid fields, else a status and message."""
    if isinstance(exc, InvalidArgument):
        detail = [{"loc": ["body", v.field], "msg": v.description, "type": "value_error"} for v in exc.violations]
        return JSONResponse({"detail": detail}, status_code=422)
    status_code = next((code for kind, code in _HTTP_STATUS if isinstance(exc, kind)), 500)
    return JSONResponse({"detail": {"code": type(exc).__name__, "message": str(exc)}}, status_code=status_code)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)


def _route_template(request: Request) -> str:
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "unmatched"))
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
            detail={"reason": exc.reason, "message": str(exc)},
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
