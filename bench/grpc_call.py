"""An authenticated trivial gRPC call through the shared interceptor vs a bare grpcio server.

Each echo server runs in a process of its own, as a service does, so the client's work is not
counted on the server's core. Three servers: bare `grpc.aio`, the interceptor exactly as
`grpc_runtime.serve` wires it, and the same interceptor with the verifier's cache of verified
tokens turned off, so that every call checks the RS256 signature.

The three run side by side and are measured in turns, round after round, so that what else
the machine is doing weighs on each alike; each round's ratios are kept to show the noise."""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

import grpc

from bench.stats import Latency
from qlcb_common.auth import TokenVerifier
from qlcb_common.grpc_interceptor import ServiceInterceptor
from qlcb_common.settings import Environment, OidcSettings

METHOD = "/bench.Echo/Echo"
SEQUENTIAL, CONCURRENT, WORKERS, WARMUP, ROUNDS = 4000, 8000, 16, 300, 20
PAYLOAD = b"x" * 64
KINDS = {
    "bare": "bare `grpc.aio`",
    "ours": "shared interceptor",
    "ours_uncached": "shared interceptor, every call's token verified (cache off)",
}
MODES = ("sequential", f"{WORKERS} concurrent")
SERVICE = "personnel"  # the echo servers check tokens as personnel's does
CPU = "cpu"  # asks an echo server for its process's CPU seconds; anything else stops it

Call = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Run:
    latency: Latency
    server_cpu_us: float  # the echo server process's CPU time per call, all its threads


@dataclass(frozen=True)
class Rounds:
    """Each round's ratio to the bare server."""

    p50: list[float]
    throughput: list[float]


@dataclass(frozen=True)
class Result:
    runs: dict[str, tuple[Run, Run]]  # kind → one Run per mode
    rounds: dict[str, tuple[Rounds, Rounds]]


@dataclass
class _Samples:
    latencies: list[float]
    elapsed: float = 0.0
    cpu: float = 0.0


def _handler() -> grpc.GenericRpcHandler:
    async def echo(request: bytes, _context: Any) -> bytes:
        return request

    return grpc.method_handlers_generic_handler(
        "bench.Echo",
        {"Echo": grpc.unary_unary_rpc_method_handler(echo, lambda b: b, lambda b: b)},
    )


async def _serve(kind: str, issuer: str, conn: Connection) -> None:
    interceptors: list[Any] = []
    if kind != "bare":
        oidc = OidcSettings(issuer=issuer, QLCB_ENVIRONMENT=Environment.DEVELOPMENT)  # type: ignore[arg-type]
        if kind == "ours_uncached":
            oidc = oidc.model_copy(update={"verified_cache_size": 0})
        interceptors.append(ServiceInterceptor("bench", TokenVerifier(oidc, SERVICE)))
    # As grpc_runtime.serve builds it (the bare server gets the same option).
    server = grpc.aio.server(interceptors=interceptors, options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((_handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    conn.send(port)
    while await asyncio.to_thread(conn.recv) == CPU:
        conn.send(time.process_time())
    await server.stop(0)


def _child(kind: str, issuer: str, conn: Connection) -> None:
    asyncio.run(_serve(kind, issuer, conn))


@dataclass(frozen=True)
class _Echo:
    port: int
    conn: Connection

    async def cpu_seconds(self) -> float:
        self.conn.send(CPU)
        seconds: float = await asyncio.to_thread(self.conn.recv)
        return seconds


@asynccontextmanager
async def _served(kind: str, issuer: str) -> AsyncIterator[_Echo]:
    """An echo server of `kind` running in a child process."""
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(kind, issuer, theirs), name=f"bench-echo-{kind}", daemon=True
    )
    process.start()
    try:
        if not await asyncio.to_thread(ours.poll, 30):
            raise RuntimeError(f"echo server {kind} did not start")
        yield _Echo(ours.recv(), ours)
    finally:
        if process.is_alive():
            ours.send("stop")
            await asyncio.to_thread(process.join, 10)
        if process.is_alive():
            process.terminate()
            await asyncio.to_thread(process.join, 5)


async def _sequential(call: Call, n: int, into: list[float]) -> None:
    for _ in range(n):
        t = time.perf_counter()
        await call()
        into.append(time.perf_counter() - t)


async def _concurrent(call: Call, n: int, into: list[float]) -> None:
    await asyncio.gather(*(_sequential(call, n // WORKERS, into) for _ in range(WORKERS)))


async def _measure(
    echo: _Echo, call: Call, block: Callable[[Call, int, list[float]], Awaitable[None]], n: int
) -> _Samples:
    samples = _Samples([])
    cpu = await echo.cpu_seconds()
    started = time.perf_counter()
    await block(call, n, samples.latencies)
    samples.elapsed = time.perf_counter() - started
    samples.cpu = await echo.cpu_seconds() - cpu
    return samples


def _ratios(rounds: list[dict[str, _Samples]], kind: str) -> Rounds:
    return Rounds(
        p50=[statistics.median(r[kind].latencies) / statistics.median(r["bare"].latencies) for r in rounds],
        throughput=[
            (len(r[kind].latencies) / r[kind].elapsed) / (len(r["bare"].latencies) / r["bare"].elapsed) for r in rounds
        ],
    )


def _run(rounds: list[dict[str, _Samples]], kind: str) -> Run:
    latencies = [t for r in rounds for t in r[kind].latencies]
    elapsed = sum(r[kind].elapsed for r in rounds)
    cpu = sum(r[kind].cpu for r in rounds)
    return Run(Latency.of(latencies, elapsed), cpu / len(latencies) * 1e6)


async def measure(issuer: str, token: str) -> Result:
    """Each round runs SEQUENTIAL / ROUNDS calls one after the other, then CONCURRENT / ROUNDS
    calls from WORKERS callers on one channel, against each server in turn (the order rotates)."""
    metadata = (("authorization", f"Bearer {token}"),)
    kinds = list(KINDS)
    async with AsyncExitStack() as stack:
        echoes: dict[str, _Echo] = {}
        calls: dict[str, Call] = {}
        for kind in kinds:
            echoes[kind] = await stack.enter_async_context(_served(kind, issuer))
            channel = await stack.enter_async_context(grpc.aio.insecure_channel(f"127.0.0.1:{echoes[kind].port}"))
            stub = channel.unary_unary(METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
            calls[kind] = partial(stub, PAYLOAD, metadata=metadata, timeout=5)
            for _ in range(WARMUP):
                await calls[kind]()
        by_mode: tuple[list[dict[str, _Samples]], ...] = ([], [])
        for round_ in range(ROUNDS):
            order = kinds[round_ % len(kinds) :] + kinds[: round_ % len(kinds)]
            for mode, (block, n) in enumerate(((_sequential, SEQUENTIAL), (_concurrent, CONCURRENT))):
                by_mode[mode].append({k: await _measure(echoes[k], calls[k], block, n // ROUNDS) for k in order})
    return Result(
        runs={k: (_run(by_mode[0], k), _run(by_mode[1], k)) for k in kinds},
        rounds={k: (_ratios(by_mode[0], k), _ratios(by_mode[1], k)) for k in kinds},
    )
