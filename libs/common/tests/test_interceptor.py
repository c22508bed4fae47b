"""The shared interceptor on a real in-process gRPC server: authentication, the caller in
context, ServiceErrors as status codes with field details, streaming refused, and server
reflection answered without a token only where it is enabled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from jwt_keys import ISSUER, SERVICE, FakeKeycloak

from qlcb_common.auth import TokenVerifier
from qlcb_common.errors import FieldViolation, InvalidArgument
from qlcb_common.grpc_interceptor import ServiceInterceptor, current_principal
from qlcb_common.settings import OidcSettings


def _identity(data: bytes) -> bytes:
    return data


async def whoami(_request: bytes, _context: Any) -> bytes:
    return current_principal().username.encode()


async def invalid(_request: bytes, _context: Any) -> bytes:
    raise InvalidArgument([FieldViolation("personal_id", "12 chữ số"), FieldViolation("sex", "bắt buộc")])


async def stream(_request: bytes, _context: Any) -> AsyncIterator[bytes]:
    yield b"unauthenticated data"


@pytest.fixture
async def channel(keycloak: FakeKeycloak) -> AsyncIterator[grpc.aio.Channel]:
    verifier = TokenVerifier(
        OidcSettings(issuer=ISSUER),  # type: ignore[arg-type]
        SERVICE,
        http=httpx.AsyncClient(transport=httpx.MockTransport(keycloak.handler)),
    )
    server = grpc.aio.server(interceptors=[ServiceInterceptor(SERVICE, verifier)])
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "test.Svc",
                {
                    "WhoAmI": grpc.unary_unary_rpc_method_handler(whoami, _identity, _identity),
                    "Invalid": grpc.unary_unary_rpc_method_handler(invalid, _identity, _identity),
                    "Stream": grpc.unary_stream_rpc_method_handler(stream, _identity, _identity),
                },
            ),
        )
    )
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


async def test_streaming_methods_are_refused_rather_than_left_open(
    channel: grpc.aio.Channel, keycloak: FakeKeycloak
) -> None:
    call = channel.unary_stream("/test.Svc/Stream", request_serializer=_identity, response_deserializer=_identity)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        async for _ in call(b"", metadata=(("authorization", f"Bearer {keycloak.token()}"),)):
            pass
    assert error.value.code() is grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize("enabled", [False, True])
async def test_reflection_is_public_only_where_enabled(keycloak: FakeKeycloak, enabled: bool) -> None:
    """Even with the reflection service registered, a server whose interceptor was not told it is
    enabled refuses it: the interceptor opens no method without a token by name alone."""
    verifier = TokenVerifier(
        OidcSettings(issuer=ISSUER),  # type: ignore[arg-type]
        SERVICE,
        http=httpx.AsyncClient(transport=httpx.MockTransport(keycloak.handler)),
    )
    server = grpc.aio.server(interceptors=[ServiceInterceptor(SERVICE, verifier, reflection=enabled)])
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
