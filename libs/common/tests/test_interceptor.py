"""The shared interceptor on a real in-process gRPC server: authentication, the caller in
context, ServiceErrors as status codes with field details and a lost database connection as
UNAVAILABLE, for unary and server-streaming calls alike (a stream counted as a call in flight until
it ends or its client goes away, and held at its fault point); a client's stream (an import's rows)
handled as a unary call; streaming both ways refused; server reflection answered without a token
only where it is enabled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from jwt_keys import ISSUER, SERVICE, FakeKeycloak
from sqlalchemy.exc import DBAPIError

from qlcb_common.auth import TokenVerifier
from qlcb_common.errors import FieldViolation, InvalidArgument
from qlcb_common.faults import FaultPoints, arm, grpc_call, held, release
from qlcb_common.grpc_interceptor import ServiceInterceptor, current_principal
from qlcb_common.settings import OidcSettings
from qlcb_common.shutdown import Calls


def _identity(data: bytes) -> bytes:
    return data


async def whoami(_request: bytes, _context: Any) -> bytes:
    return current_principal().username.encode()


async def invalid(_request: bytes, _context: Any) -> bytes:
    raise InvalidArgument([FieldViolation("personal_id", "12 chữ số"), FieldViolation("sex", "bắt buộc")])


class _ServerGone(Exception):
    """What a driver raises when the server closed the connection under a statement."""


async def connection_lost(_request: bytes, _context: Any) -> bytes:
    raise DBAPIError("SELECT 1", None, _ServerGone("connection was closed"), connection_invalidated=True)


async def database_error(_request: bytes, _context: Any) -> bytes:
    raise DBAPIError("SELECT 1", None, _ServerGone("division by zero"))


class Streams:
    """What the streaming handlers saw: how far each went and whether its clean-up ran."""

    def __init__(self) -> None:
        self.cleaned_up: asyncio.Event = asyncio.Event()
        self.sent = 0


STREAMS = Streams()


async def count(request: bytes, _context: Any) -> AsyncIterator[bytes]:
    """Replies with the caller's name and a number, as many as the request says (a generator)."""
    for n in range(int(request or b"3")):
        yield f"{current_principal().username} {n}".encode()


async def written(request: bytes, context: Any) -> None:
    """The same, written by the handler itself (`context.write`)."""
    for n in range(int(request or b"3")):
        await context.write(f"{current_principal().username} {n}".encode())


async def fails_midway(_request: bytes, _context: Any) -> AsyncIterator[bytes]:
    yield b"first"
    raise InvalidArgument([FieldViolation("unit_id", "Không có đơn vị này")])


async def endless(_request: bytes, _context: Any) -> AsyncIterator[bytes]:
    try:
        while True:
            STREAMS.sent += 1
            yield b"x" * 1024
    finally:
        STREAMS.cleaned_up.set()


async def from_client(requests: AsyncIterator[bytes], _context: Any) -> bytes:
    """Joins what the client streamed, after the caller's name."""
    parts = [part async for part in requests]
    return current_principal().username.encode() + b":" + b",".join(parts)


async def invalid_rows(requests: AsyncIterator[bytes], _context: Any) -> bytes:
    async for _part in requests:
        raise InvalidArgument([FieldViolation("rows[0]", "Không đọc được")])
    return b""


async def rows_connection_lost(requests: AsyncIterator[bytes], _context: Any) -> bytes:
    async for _part in requests:
        await connection_lost(b"", None)
    return b""


async def both_ways(requests: Any, _context: Any) -> AsyncIterator[bytes]:
    yield b"unauthenticated data"


def _server(interceptor: ServiceInterceptor) -> grpc.aio.Server:
    server = grpc.aio.server(interceptors=[interceptor])
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "test.Svc",
                {
                    "WhoAmI": grpc.unary_unary_rpc_method_handler(whoami, _identity, _identity),
                    "Invalid": grpc.unary_unary_rpc_method_handler(invalid, _identity, _identity),
                    "ConnectionLost": grpc.unary_unary_rpc_method_handler(connection_lost, _identity, _identity),
                    "DatabaseError": grpc.unary_unary_rpc_method_handler(database_error, _identity, _identity),
                    "Count": grpc.unary_stream_rpc_method_handler(count, _identity, _identity),
                    "Written": grpc.unary_stream_rpc_method_handler(written, _identity, _identity),
                    "FailsMidway": grpc.unary_stream_rpc_method_handler(fails_midway, _identity, _identity),
                    "Endless": grpc.unary_stream_rpc_method_handler(endless, _identity, _identity),
                    "FromClient": grpc.stream_unary_rpc_method_handler(from_client, _identity, _identity),
                    "InvalidRows": grpc.stream_unary_rpc_method_handler(invalid_rows, _identity, _identity),
                    "RowsConnectionLost": grpc.stream_unary_rpc_method_handler(
                        rows_connection_lost, _identity, _identity
                    ),
                    "BothWays": grpc.stream_stream_rpc_method_handler(both_ways, _identity, _identity),
                },
            ),
        )
    )
    return server


def _verifier(keycloak: FakeKeycloak) -> TokenVerifier:
    return TokenVerifier(
        OidcSettings(issuer=ISSUER),  # type: ignore[arg-type]
        SERVICE,
        http=httpx.AsyncClient(transport=httpx.MockTransport(keycloak.handler)),
    )


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def faults_dir(tmp_path: Path) -> Path:
    return tmp_path / "faults"


@pytest.fixture
async def channel(keycloak: FakeKeycloak, calls: Calls, faults_dir: Path) -> AsyncIterator[grpc.aio.Channel]:
    interceptor = ServiceInterceptor(SERVICE, _verifier(keycloak), calls=calls, faults=FaultPoints(faults_dir))
    server = _server(interceptor)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as opened:
        yield opened
    await server.stop(0)


def _call(channel: grpc.aio.Channel, method: str) -> Any:
    return channel.unary_unary(f"/test.Svc/{method}", request_serializer=_identity, response_deserializer=_identity)


async def test_the_verified_caller_reaches_the_handler(channel: grpc.aio.Channel, keycloak: FakeKeycloak) -> None:
    reply = await _call(channel, "WhoAmI")(b"", metadata=(("authorization", f"Bearer {keycloak.token()}"),))
    assert reply == b"qthanoi"


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt", "Basic x"])
async def test_no_valid_token_is_unauthenticated(channel: grpc.aio.Channel, authorization: str | None) -> None:
    metadata = () if authorization is None else (("authorization", authorization),)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await _call(channel, "WhoAmI")(b"", metadata=metadata)
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_invalid_argument_names_every_field(channel: grpc.aio.Channel, keycloak: FakeKeycloak) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await _call(channel, "Invalid")(b"", metadata=(("authorization", f"Bearer {keycloak.token()}"),))
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = dict(error.value.trailing_metadata() or ())["grpc-status-details-bin"]
    bad_request = error_details_pb2.BadRequest()
    assert status_pb2.Status.FromString(details).details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["personal_id", "sex"]


@pytest.mark.parametrize(
    ("method", "code"),
    [("ConnectionLost", grpc.StatusCode.UNAVAILABLE), ("DatabaseError", grpc.StatusCode.UNKNOWN)],
)
async def test_a_lost_database_connection_is_unavailable_and_any_other_database_error_unknown(
    channel: grpc.aio.Channel, keycloak: FakeKeycloak, method: str, code: grpc.StatusCode
) -> None:
    """UNAVAILABLE is what a client may try again (the gateway's channel retries reads on it)."""
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await _call(channel, method)(b"", metadata=(("authorization", f"Bearer {keycloak.token()}"),))
    assert error.value.code() is code


def _stream(channel: grpc.aio.Channel, method: str) -> Any:
    return channel.unary_stream(f"/test.Svc/{method}", request_serializer=_identity, response_deserializer=_identity)


async def _read_into(replies: list[bytes], call: Any) -> None:
    async for reply in call:
        replies.append(reply)


def _auth(keycloak: FakeKeycloak) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {keycloak.token()}"),)


@pytest.mark.parametrize("method", ["Count", "Written"])
async def test_a_stream_reaches_its_handler_as_the_verified_caller(
    channel: grpc.aio.Channel, keycloak: FakeKeycloak, method: str
) -> None:
    """Whether the handler yields its replies or writes them itself."""
    replies = [reply async for reply in _stream(channel, method)(b"3", metadata=_auth(keycloak))]
    assert replies == [b"qthanoi 0", b"qthanoi 1", b"qthanoi 2"]


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt"])
async def test_a_stream_without_a_valid_token_is_unauthenticated_before_any_reply(
    channel: grpc.aio.Channel, authorization: str | None
) -> None:
    metadata = () if authorization is None else (("authorization", authorization),)
    replies: list[bytes] = []
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await _read_into(replies, _stream(channel, "Count")(b"3", metadata=metadata))
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert replies == []


async def test_a_service_error_midway_ends_the_stream_with_its_status_and_details(
    channel: grpc.aio.Channel, keycloak: FakeKeycloak
) -> None:
    replies: list[bytes] = []
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await _read_into(replies, _stream(channel, "FailsMidway")(b"", metadata=_auth(keycloak)))
    assert replies == [b"first"]
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = dict(error.value.trailing_metadata() or ())["grpc-status-details-bin"]
    bad_request = error_details_pb2.BadRequest()
    assert status_pb2.Status.FromString(details).details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["unit_id"]


async def test_a_stream_is_a_call_in_flight_until_its_client_goes_away(
    channel: grpc.aio.Channel, keycloak: FakeKeycloak, calls: Calls
) -> None:
    """A stream the client reads slowly is held back by flow control, not buffered whole; when the
    client cancels, the call ends at once: the handler's clean-up runs and the call is no longer
    counted (so a stopping service does not wait for it)."""
    STREAMS.cleaned_up.clear()
    STREAMS.sent = 0
    call = _stream(channel, "Endless")(b"", metadata=_auth(keycloak))
    assert len(await call.read()) == 1024
    assert calls.in_flight == 1
    await asyncio.sleep(0.2)  # the handler runs ahead only as far as the transport's windows let it
    assert STREAMS.sent < 10_000, "a slow client holds the stream back"
    call.cancel()
    await asyncio.wait_for(STREAMS.cleaned_up.wait(), timeout=5)
    await _until(lambda: calls.in_flight == 0, "the cancelled stream to be no longer counted in flight", timeout=1)


async def test_a_stream_is_held_at_its_fault_point_after_authentication(
    channel: grpc.aio.Channel, keycloak: FakeKeycloak, faults_dir: Path
) -> None:
    point = grpc_call("/test.Svc/Count")
    arm(faults_dir, point)
    call = _stream(channel, "Count")(b"2", metadata=_auth(keycloak))
    first = asyncio.ensure_future(call.read())
    await _until(lambda: held(faults_dir, point) is not None, "the stream to be held at its fault point", timeout=5)
    assert held(faults_dir, point) == {"method": "/test.Svc/Count"}
    assert not first.done()
    release(faults_dir, point)
    assert await asyncio.wait_for(first, timeout=5) == b"qthanoi 0"
    assert await call.read() == b"qthanoi 1"


async def _until(condition: Callable[[], bool], what: str, *, timeout: float) -> None:
    """Waits for `condition`, failing with `what` was awaited if it does not hold within `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


def _client_stream(channel: grpc.aio.Channel, method: str) -> Any:
    return channel.stream_unary(f"/test.Svc/{method}", request_serializer=_identity, response_deserializer=_identity)


async def test_a_client_stream_reaches_its_handler_as_the_verified_caller(
    channel: grpc.aio.Channel, keycloak: FakeKeycloak, calls: Calls
) -> None:
    reply = await _client_stream(channel, "FromClient")(iter([b"a", b"b", b"c"]), metadata=_auth(keycloak))
    assert reply == b"qthanoi:a,b,c"
    assert calls.in_flight == 0


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt"])
async def test_a_client_stream_without_a_valid_token_is_unauthenticated(
    channel: grpc.aio.Channel, authorization: str | None
) -> None:
    metadata = () if authorization is None else (("authorization", authorization),)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await _client_stream(channel, "FromClient")(iter([b"a"]), metadata=metadata)
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_a_service_error_of_a_client_stream_is_its_status_with_details(
    channel: grpc.aio.Channel, keycloak: FakeKeycloak
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await _client_stream(channel, "InvalidRows")(iter([b"a", b"b"]), metadata=_auth(keycloak))
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = dict(error.value.trailing_metadata() or ())["grpc-status-details-bin"]
    bad_request = error_details_pb2.BadRequest()
    assert status_pb2.Status.FromString(details).details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["rows[0]"]


async def test_streaming_both_ways_is_refused_rather_than_left_open(
    channel: grpc.aio.Channel, keycloak: FakeKeycloak
) -> None:
    call = channel.stream_stream("/test.Svc/BothWays", request_serializer=_identity, response_deserializer=_identity)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call(iter([b"a"]), metadata=_auth(keycloak)).read()
    assert error.value.code() is grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize("enabled", [False, True])
async def test_reflection_is_public_only_where_enabled(keycloak: FakeKeycloak, enabled: bool) -> None:
    """Even with the reflection service registered, a server whose interceptor was not told it is
    enabled refuses it: the interceptor opens no method without a token by name alone."""
    server = grpc.aio.server(interceptors=[ServiceInterceptor(SERVICE, _verifier(keycloak), reflection=enabled)])
    reflection.enable_server_reflection(["test.Svc", reflection.SERVICE_NAME], server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as opened:
            stub = reflection_pb2_grpc.ServerReflectionStub(opened)
            call = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
            if enabled:
                reply = await call.read()
                assert isinstance(reply, reflection_pb2.ServerReflectionResponse)
                assert "test.Svc" in {s.name for s in reply.list_services_response.service}
            else:
                with pytest.raises(grpc.aio.AioRpcError) as error:
                    await call.read()
                assert error.value.code() is grpc.StatusCode.UNIMPLEMENTED
    finally:
        await server.stop(0)


async def _written_stream(channel: grpc.aio.Channel, method: str, messages: int, metadata: Any) -> Any:
    """A client's stream as the gateway writes an import: message by message, then its end."""
    call = _client_stream(channel, method)(metadata=metadata)
    try:
        for n in range(messages):
            await call.write(b"x" * 65536 + str(n).encode())
        await call.done_writing()
    except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
        pass
    return await call


@pytest.mark.parametrize("authorized", [True, False])
async def test_a_client_stream_refused_early_answers_its_refusal_not_a_failed_write(
    channel: grpc.aio.Channel, keycloak: FakeKeycloak, authorized: bool
) -> None:
    """The server reads what the client still sends before it answers: a refusal sent while the
    client is writing would otherwise reach it as INTERNAL "Internal error from Core" (gRPC's aio
    client lets a write that fails as the call ends overwrite the call's status)."""
    metadata = _auth(keycloak) if authorized else (("authorization", "Bearer not-a-token"),)
    expected = grpc.StatusCode.INVALID_ARGUMENT if authorized else grpc.StatusCode.UNAUTHENTICATED
    codes = []
    for _ in range(20):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await _written_stream(channel, "InvalidRows", 50, metadata)
        codes.append(error.value.code())
    assert set(codes) == {expected}, codes


async def test_a_client_stream_that_lost_its_database_connection_answers_unavailable_not_a_failed_write(
    channel: grpc.aio.Channel, keycloak: FakeKeycloak
) -> None:
    codes = []
    for _ in range(20):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await _written_stream(channel, "RowsConnectionLost", 50, _auth(keycloak))
        codes.append(error.value.code())
    assert set(codes) == {grpc.StatusCode.UNAVAILABLE}, codes
