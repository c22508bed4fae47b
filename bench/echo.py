"""The echo server `grpc_call` runs in a child process of its own, one per kind: "bare" (a bare
`grpc.aio` server), "ours" (the shared interceptor as `grpc_runtime.serve` wires it) and
"ours_uncached" (the same, its verifier's cache of verified tokens off). The bare server's process
loads grpc alone, as a bare service would: the interceptor's modules only where it runs."""

from __future__ import annotations

import asyncio
import time
from multiprocessing.connection import Connection
from typing import Any

import grpc

SERVICE = "personnel"  # the echo servers check tokens as personnel's does
CPU = "cpu"  # asks an echo server for its process's CPU seconds; anything else stops it


def _handler() -> grpc.GenericRpcHandler:
    async def echo(request: bytes, _context: Any) -> bytes:
        return request

    return grpc.method_handlers_generic_handler(
        "bench.Echo",
        {"Echo": grpc.unary_unary_rpc_method_handler(echo, lambda b: b, lambda b: b)},
    )


def _interceptors(kind: str, issuer: str) -> list[Any]:
    if kind == "bare":
        return []
    # Here, not at the top: the bare server's process does not load them.
    from qlcb_common.auth import TokenVerifier
    from qlcb_common.grpc_interceptor import ServiceInterceptor
    from qlcb_common.settings import Environment, OidcSettings

    oidc = OidcSettings(issuer=issuer, QLCB_ENVIRONMENT=Environment.DEVELOPMENT)  # type: ignore[arg-type]
    if kind == "ours_uncached":
        oidc = oidc.model_copy(update={"verified_cache_size": 0})
    return [ServiceInterceptor("bench", TokenVerifier(oidc, SERVICE))]


async def _serve(kind: str, issuer: str, conn: Connection) -> None:
    # As grpc_runtime.serve builds it (the bare server gets the same option).
    server = grpc.aio.server(interceptors=_interceptors(kind, issuer), options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((_handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    conn.send(port)
    while await asyncio.to_thread(conn.recv) == CPU:
        conn.send(time.process_time())
    await server.stop(0)


def child(kind: str, issuer: str, conn: Connection) -> None:
    """The child process's work: serves, sends its port, then answers CPU until told to stop."""
    asyncio.run(_serve(kind, issuer, conn))
