"""One server interceptor for every gRPC service, for unary, server-streaming and client-streaming
calls alike:
authentication, RED metrics, and the translation of `ServiceError`s into status codes with details and of a
lost database connection into UNAVAILABLE."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import grpc
import structlog
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from sqlalchemy.exc import DBAPIError

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
    Unavailable,
)
from qlcb_common.faults import NO_FAULT_POINTS, FaultPoints, grpc_call
from qlcb_common.metrics import AUTH_FAILURES, GRPC_DURATION, GRPC_REQUESTS
from qlcb_common.shutdown import Calls

log = structlog.get_logger(__name__)

UNSTORABLE_TEXT = frozenset({"22021", "22P05"})
"""PostgreSQL's character_not_in_repertoire and untranslatable_character: a NUL in text."""

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
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
)


def current_principal() -> Principal:
    """The verified caller of the gRPC call being handled."""
    return _principal.get()


@contextlib.contextmanager
def acting_for(principal: Principal) -> Iterator[None]:
    """Work a service does later on a caller's behalf, as that caller: a decision its author recorded
    for a later day, applied on the day, is the author's write in the audit trail."""
    token = _principal.set(principal)
    try:
        yield
    finally:
        _principal.reset(token)


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
StreamBehavior = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Any]
"""A server-streaming handler: an async generator of replies, or a coroutine that writes them
(`context.write`)."""


DRAIN_SECONDS = 60.0
"""How long a refused client stream is read on before the refusal is answered anyway."""


class ClientStream:
    """A client's request stream as a handler reads it; what the handler left unread can be drained."""

    def __init__(self, requests: AsyncIterator[Any]) -> None:
        self._requests = aiter(requests)

    def __aiter__(self) -> ClientStream:
        return self

    async def __anext__(self) -> Any:
        return await anext(self._requests)

    async def drain(self) -> None:
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                async for _ in self._requests:
                    pass
        except TimeoutError:
            log.warning("a refused client stream was still sending", seconds=DRAIN_SECONDS)


class ServiceInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Health answers without a token; server reflection too, only where the service serves it
        (`reflection`, from the `grpc_reflection` setting); every other method needs a valid token.
        Unary and server-streaming calls are handled alike: authenticated, the caller set for the
        handler (`current_principal`), counted in `calls` while they run (which tells a stopping service
        when its clients have stopped sending and whether the calls it had finished), held at a fault
        point before they are handled (`qlcb_common.faults.grpc_call`, crash tests only), and a
        `ServiceError` turned into its status. A stream's replies are written one at a time as the
        handler gives them, so that the client's pace holds the handler back (flow control). Methods
        streaming from the client (an import's rows) are handled as unary ones are, the caller known
    before the handler reads the first message; methods streaming both ways are refused
    (UNIMPLEMENTED): none of ours does."""

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
        if handler is not None and handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap(method, handler.unary_unary, public),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler is not None and handler.stream_unary is not None and not public:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_client_stream(method, handler.stream_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler is not None and handler.unary_stream is not None and not public:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        # A public stream (health's Watch, reflection) lasts as long as its client: not a call to
        # count or time. Any other method would run unauthenticated, so it is refused (UNIMPLEMENTED).
        return handler if public else None

    def _wrap(self, method: str, inner: Behavior, public: bool) -> Behavior:
        """A call with one reply: its request is a message, or the iterator of a client's stream."""

        async def behavior(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            replies: list[Any] = []

            async def answer() -> None:
                replies.append(await inner(request, context))

            await self._handle(method, context, public, answer)
            return replies[0]

        return behavior

    def _wrap_client_stream(self, method: str, inner: Behavior) -> Behavior:
        """A call whose client streams its request (an import's rows). A refusal is answered only once
        the client has sent the rest of its stream: answered while the client still writes, it reaches
        the client as the INTERNAL "Internal error from Core" of its next write instead (grpc/grpc
        issue 36066: the aio client lets that write's failure overwrite the call's status)."""

        async def behavior(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            stream = ClientStream(request)
            replies: list[Any] = []

            async def answer() -> None:
                replies.append(await inner(stream, context))

            await self._handle(method, context, False, answer, before_refusal=stream.drain)
            return replies[0]

        return behavior

    def _wrap_stream(self, method: str, inner: StreamBehavior) -> Behavior:
        async def behavior(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
            async def answer() -> None:
                replies = inner(request, context)
                if not inspect.isasyncgen(replies):
                    await replies  # it writes its replies itself
                    return
                try:
                    async for reply in replies:
                        await context.write(reply)
                finally:
                    # At once, even when the call is cancelled: the handler's own clean-up runs now.
                    await replies.aclose()

            await self._handle(method, context, False, answer)

        return behavior

    async def _handle(
        self,
        method: str,
        context: grpc.aio.ServicerContext[Any, Any],
        public: bool,
        answer: Callable[[], Awaitable[None]],
        before_refusal: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        service = self._service
        calls = self.calls
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
                    if before_refusal is not None:
                        await before_refusal()
                    await context.abort(code, str(exc))
                reset = _principal.set(principal)
                await self._faults.hold(grpc_call(method), {"method": method})
            try:
                await answer()
            except ServiceError as exc:
                status = status_of(exc)
                code = status.code
                if before_refusal is not None:
                    await before_refusal()
                await context.abort_with_status(status)
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) in UNSTORABLE_TEXT:
                    # Text PostgreSQL cannot hold (U+0000) in an argument no check of the call's own
                    # caught, such as an id: the caller's fault, not the service's.
                    code = grpc.StatusCode.INVALID_ARGUMENT
                    if before_refusal is not None:
                        await before_refusal()
                    await context.abort(code, "Văn bản gửi lên chứa ký tự không lưu được (U+0000)")
                if not exc.connection_invalidated:
                    raise
                # The connection broke under the call (the server restarted or ended it): nothing was
                # committed unless the break came during the commit itself. A read is tried again.
                code = grpc.StatusCode.UNAVAILABLE
                log.warning("database connection lost", method=method, error=str(exc.orig))
                if before_refusal is not None:
                    await before_refusal()
                await context.abort(code, "Mất kết nối tới cơ sở dữ liệu; hãy thử lại")
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
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

    async def _authenticate(self, context: grpc.aio.ServicerContext[Any, Any]) -> Principal:
        metadata = dict(context.invocation_metadata() or ())
        token = bearer_token(metadata.get("authorization"))
        return await self._verifier.verify(token)
