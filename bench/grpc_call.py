"""An authenticated trivial gRPC call through the shared interceptor vs a bare grpcio server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc

from bench.stats import Latency
from qlcb_common.auth import TokenVerifier
from qlcb_common.grpc_interceptor import ServiceInterceptor
from qlcb_common.settings import OidcSettings

METHOD = "/bench.Echo/Echo"
SEQUENTIAL, CONCURRENT, WORKERS = 2000, 4000, 16


def _handler() -> grpc.GenericRpcHandler:
    async def echo(request: bytes, _context: Any) -> bytes:
        return request

    return grpc.method_handlers_generic_handler(
        "bench.Echo",
        {"Echo": grpc.unary_unary_rpc_method_handler(echo, lambda b: b, lambda b: b)},
    )


async def _server(interceptors: list[Any]) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server(interceptors=interceptors)
    server.add_generic_rpc_handlers((_handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def _run(port: int, token: str) -> tuple[Latency, Latency]:
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        for _ in range(200):
            await call(b"x" * 64, metadata=metadata, timeout=5)
        samples: list[float] = []
        started = time.perf_counter()
        for _ in range(SEQUENTIAL):
            t = time.perf_counter()
            await call(b"x" * 64, metadata=metadata, timeout=5)
            samples.append(time.perf_counter() - t)
        sequential = Latency.of(samples, time.perf_counter() - started)
        concurrent: list[float] = []

        async def worker() -> None:
            for _ in range(CONCURRENT // WORKERS):
                t = time.perf_counter()
                await call(b"x" * 64, metadata=metadata, timeout=5)
                concurrent.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(WORKERS)))
        return sequential, Latency.of(concurrent, time.perf_counter() - started)


async def measure(issuer: str, token: str) -> dict[str, Latency]:
    bare, bare_port = await _server([])
    ours, our_port = await _server([ServiceInterceptor("bench", TokenVerifier(OidcSettings(issuer=issuer)))])  # type: ignore[arg-type]
    try:
        bare_seq, bare_conc = await _run(bare_port, token)
        our_seq, our_conc = await _run(our_port, token)
    finally:
        await bare.stop(0)
        await ours.stop(0)
    return {"bare_seq": bare_seq, "ours_seq": our_seq, "bare_conc": bare_conc, "ours_conc": our_conc}
