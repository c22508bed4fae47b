"""One server interceptor for every gRPC service: authentication, RED metrics and the
translation of `ServiceError`s into status codes with details."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import structlog
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from qlcb_common.auth import AuthError, Principal, TokenVerifier, bearer_token
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
from qlcb_common.faults import NO_FAULT_POINTS, FaultPoints, grpc_call
from qlcb_common.metrics import AUTH_FAILURES, GRPC_DURATION, GRPC_REQUESTS
from qlcb_common.shutdown import Calls

log = structlog.get_logger(__name__)

HEALTH_METHODS = "/grpc.health.v1.Health/"
REFLECTION_METHODS = "/grpc.reflection."

_principal: contextvars.ContextVar[Principal] = contextvars.ContextVar("qlcb_principal")

_STATUS_OF: tuple[tuple[type[ServiceError], grpc.StatusCode], ...] = (
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (DataLoss, grpc.StatusCode.DATA_LOSS),
    (Gone, grpc.StatusCode.NOT_FOUND),
    (StaleVersion, grpc.StatusCode.ABORTED),
)


def current_principal() -> Principal:
    """The verified caller of the gRPC call being handled."""
    return _principal.get()


def status_of(error: ServiceError) -> grpc.Status:
    code = next((c for t, c in _STATUS_OF if isinstance(error, t)), grpc.StatusCode.UNKNOWN)
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=str(error))
    if isinstance(error, InvalidArgument):
        details = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in error.violations
            ]
        )
        status.details.add().Pack(details)
    return rpc_status.to_status(status)


Behavior = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


class ServiceInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Health answers without a token; server reflection too, only where the service serves it
    (`reflection`, from the `grpc_reflection` setting); every other method needs a valid token.
    Every call but those is counted in `calls` while it runs, which tells a stopping service when its
    clients have stopped sending and whether the calls it had finished; and may be held at a fault
    point before it is handled (`qlcb_common.faults.grpc_call`, crash tests only)."""

    def __init__(
        self,
        service: str,
        verifier: TokenVerifier,
        *,
        reflection: bool = False,
        calls: Calls | None = None,
        faults: FaultPoints = NO_FAULT_POINTS,
    ) -> None:
        self._service = service
        self._verifier = verifier
        self.calls = calls or Calls()
        self._faults = faults
        self._public = (HEALTH_METHODS, REFLECTION_METHODS) if reflection else (HEALTH_METHODS,)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        public = method.startswith(self._public)
        if handler is None or handler.unary_unary is None:
            # Only unary calls are authenticated here: a streaming method of our own would
            # otherwise run unauthenticated, so it is refused (UNIMPLEMENTED) until supported.
            return handler if public else None
        return grpc.unary_unary_rpc_method_handler(
            self._wrap(method, handler.unary_unary, public),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _wrap(self, method: str, inner: Behavior, public: bool) -> Behavior:
        service = self._service
        calls = self.calls

        async def behavior(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            reset: contextvars.Token[Principal] | None = None
            if not public:
                calls.started()
            try:
                if not public:
                    try:
                        principal = await self._authenticate(context)
                    except AuthError as exc:
                        code = grpc.StatusCode.UNAUTHENTICATED
                        AUTH_FAILURES.labels(service, exc.reason).inc()
                        await context.abort(code, str(exc))
                    reset = _principal.set(principal)
                    await self._faults.hold(grpc_call(method), {"method": method})
                try:
                    return await inner(request, context)
                except ServiceError as exc:
                    status = status_of(exc)
                    code = status.code
                    await context.abort_with_status(status)
            except Exception:
                if code is grpc.StatusCode.OK:
                    code = context.code() or grpc.StatusCode.UNKNOWN
                    if code is grpc.StatusCode.OK:
                        code = grpc.StatusCode.UNKNOWN
                        log.exception("unhandled error", method=method)
                raise
            finally:
                if not public:
                    calls.finished()
                if reset is not None:
                    _principal.reset(reset)
                GRPC_REQUESTS.labels(service, method, code.name).inc()
                GRPC_DURATION.labels(service, method).observe(time.perf_counter() - started)

        return behavior

    async def _authenticate(self, context: grpc.aio.ServicerContext[Any, Any]) -> Principal:
        metadata = dict(context.invocation_metadata() or ())
        token = bearer_token(metadata.get("authorization"))
        return await self._verifier.verify(token)
