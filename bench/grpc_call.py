"""An authenticated trivial gRPC call through the shared interceptor vs a bare grpcio server.

Each echo server runs in a process of its own, as a service does, so the client's work is not
counted on the server's core. Three servers: bare `grpc.aio`, the interceptor exactly as
`grpc_runtime.serve` wires it, and the same interceptor with a verifier that checks the token
once and then returns the same principal (it shows what the per-call RS256 check costs)."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from typing import Any

import grpc

from bench.stats import Latency
from qlcb_common.auth import Principal, TokenVerifier
from qlcb_common.grpc_interceptor import ServiceInterceptor
from qlcb_common.settings import OidcSettings

METHOD = "/bench.Echo/Echo"
SEQUENTIAL, CONCURRENT, WORKERS, WARMUP = 2000, 4000, 16, 300
PAYLOAD = b"x" * 64
KINDS = ("bare", "ours", "ours_cached")
SERVICE = "personnel"  # the echo servers check tokens as personnel's does


class _VerifiedOnce(TokenVerifier):
    """Verifies the first token for real, then returns that principal without checking again."""

    _principal: Principal | None = None

    async def verify(self, token: str) -> Principal:
        if self._principal is None:
            self._principal = await super().verify(token)
        return self._principal


def _handler() -> grpc.GenericRpcHandler:
    async def echo(request: bytes, _context: Any) -> bytes:
        return request

    return grpc.method_handlers_generic_handler(
        "bench.Echo",
        {"Echo": grpc.unary_unary_rpc_method_handler(echo, lambda b: b, lambda b: b)},
    )


async def _serve(kind: str, issuer: str, conn: Connection) -> None:
    oidc = OidcSettings(issuer=issuer)  # type: ignore[arg-type]
    interceptors: list[Any] = []
    if kind != "bare":
        verifier = TokenVerifier(oidc, SERVICE) if kind == "ours" else _VerifiedOnce(oidc, SERVICE)
        interceptors.append(ServiceInterceptor("bench", verifier))
    # As grpc_runtime.serve builds it (the bare server gets the same option).
    server = grpc.aio.server(interceptors=interceptors, options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((_handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    conn.send(port)
    await asyncio.to_thread(conn.recv)  # any message means stop
    await server.stop(0)


def _child(kind: str, issuer: str, conn: Connection) -> None:
    asyncio.run(_serve(kind, issuer, conn))


@asynccontextmanager
async def _served(kind: str, issuer: str) -> AsyncIterator[int]:
    """The port of an echo server of `kind` running in a child process."""
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(kind, issuer, theirs), name=f"bench-echo-{kind}", daemon=True
    )
    process.start()
    try:
        if not await asyncio.to_thread(ours.poll, 30):
            raise RuntimeError(f"echo server {kind} did not start")
        port: int = ours.recv()
        yield port
    finally:
        if process.is_alive():
            ours.send("stop")
            await asyncio.to_thread(process.join, 10)
        if process.is_alive():
            process.terminate()
            await asyncio.to_thread(process.join, 5)


async def _run(port: int, token: str) -> tuple[Latency, Latency]:
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        for _ in range(WARMUP):
            await call(PAYLOAD, metadata=metadata, timeout=5)
        samples: list[float] = []
        started = time.perf_counter()
        for _ in range(SEQUENTIAL):
            t = time.perf_counter()
            await call(PAYLOAD, metadata=metadata, timeout=5)
            samples.append(time.perf_counter() - t)
        sequential = Latency.of(samples, time.perf_counter() - started)
        concurrent: list[float] = []

        async def worker() -> None:
            for _ in range(CONCURRENT // WORKERS):
                t = time.perf_counter()
                await call(PAYLOAD, metadata=metadata, timeout=5)
                concurrent.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(WORKERS)))
        return sequential, Latency.of(concurrent, time.perf_counter() - started)


async def measure(issuer: str, token: str) -> dict[str, tuple[Latency, Latency]]:
    """kind → (sequential, concurrent) for each of KINDS."""
    results: dict[str, tuple[Latency, Latency]] = {}
    for kind in KINDS:
        async with _served(kind, issuer) as port:
            results[kind] = await _run(port, token)
    return results
