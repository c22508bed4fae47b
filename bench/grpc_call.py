"""An authenticated trivial gRPC call through the shared interceptor vs a bare grpcio server.

Each echo server (`bench.echo`) runs in a process of its own, as a service does, so the client's work is not
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
from multiprocessing.process import BaseProcess
from typing import Any

import grpc

from bench import echo as echo_server
from bench.stats import Latency

METHOD = "/bench.Echo/Echo"
STARTUP_TIMEOUT = 120.0
"""For the three echo servers to start, side by side (a loaded machine takes its time to import)."""
PAYLOAD = b"x" * 64
KINDS = {
    "bare": "bare `grpc.aio`",
    "ours": "shared interceptor",
    "ours_uncached": "shared interceptor, every call's token verified (cache off)",
}

Call = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Sizes:
    """Per server: `warmup` calls, then `rounds` rounds of `sequential` calls one after the other
    and `concurrent` calls from `workers` callers on one channel (`concurrent / workers` each)."""

    rounds: int = 20
    sequential: int = 200
    concurrent: int = 400
    workers: int = 16
    warmup: int = 300

    def __post_init__(self) -> None:
        if self.rounds < 2:
            raise ValueError("at least 2 rounds: their spread is reported")
        if min(self.sequential, self.workers, self.warmup) < 1:
            raise ValueError("at least one sequential call, one worker and one warm-up call")
        if self.concurrent < self.workers or self.concurrent % self.workers:
            raise ValueError(f"concurrent calls ({self.concurrent}) must be a multiple of workers ({self.workers})")

    @property
    def modes(self) -> tuple[str, str]:
        return ("sequential", f"{self.workers} concurrent")


SMOKE = Sizes(rounds=2, sequential=10, concurrent=12, workers=3, warmup=3)


@dataclass(frozen=True)
class Run:
    latency: Latency
    server_cpu_us: float  # the echo server process's CPU time per call, all its threads
    calls: int


@dataclass(frozen=True)
class Rounds:
    """Each round's ratio to the bare server."""

    p50: list[float]
    throughput: list[float]


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    runs: dict[str, tuple[Run, Run]]  # kind → one Run per mode
    rounds: dict[str, tuple[Rounds, Rounds]]
    echoed: dict[str, int]
    """Warm-up calls whose reply was the payload sent, by kind: `sizes.warmup` each."""
    refused_without_token: tuple[str, ...]
    """The kinds that refused a call without a token (UNAUTHENTICATED): the interceptor's two."""


@dataclass
class _Samples:
    latencies: list[float]
    elapsed: float = 0.0
    cpu: float = 0.0


@dataclass(frozen=True)
class _Echo:
    port: int
    conn: Connection

    async def cpu_seconds(self) -> float:
        self.conn.send(echo_server.CPU)
        seconds: float = await asyncio.to_thread(self.conn.recv)
        return seconds


@asynccontextmanager
async def _served(kinds: list[str], issuer: str) -> AsyncIterator[dict[str, _Echo]]:
    """An echo server of each kind, each in a child process of its own; they start side by side."""
    spawn = multiprocessing.get_context("spawn")
    children: list[tuple[str, BaseProcess, Connection]] = []
    try:
        for kind in kinds:
            ours, theirs = multiprocessing.Pipe()
            process = spawn.Process(
                target=echo_server.child, args=(kind, issuer, theirs), name=f"bench-echo-{kind}", daemon=True
            )
            process.start()
            children.append((kind, process, ours))
        echoes = {}
        deadline = time.monotonic() + STARTUP_TIMEOUT
        for kind, _, ours in children:
            # A child that fails to start closes its end: the poll returns at once and recv fails.
            if not await asyncio.to_thread(ours.poll, max(0.0, deadline - time.monotonic())):
                raise RuntimeError(f"echo server {kind} did not start in {STARTUP_TIMEOUT:.0f} s")
            echoes[kind] = _Echo(ours.recv(), ours)
        yield echoes
    finally:
        for _, child, conn in children:
            if child.is_alive():
                conn.send("stop")
        for _, child, _ in children:
            await asyncio.to_thread(child.join, 10)
            if child.is_alive():
                child.terminate()
                await asyncio.to_thread(child.join, 5)


async def _sequential(call: Call, n: int, into: list[float]) -> None:
    for _ in range(n):
        t = time.perf_counter()
        await call()
        into.append(time.perf_counter() - t)


def _concurrent(workers: int) -> Callable[[Call, int, list[float]], Awaitable[None]]:
    async def block(call: Call, n: int, into: list[float]) -> None:
        await asyncio.gather(*(_sequential(call, n // workers, into) for _ in range(workers)))

    return block


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
    return Run(Latency.of(latencies, elapsed), cpu / len(latencies) * 1e6, len(latencies))


async def _refuses_without_token(stub: grpc.aio.UnaryUnaryMultiCallable) -> bool:
    try:
        await stub(PAYLOAD, timeout=5)
    except grpc.aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.UNAUTHENTICATED:
            return True
        raise
    return False


async def measure(issuer: str, token: str, sizes: Sizes = Sizes()) -> Result:
    """Each round runs `sizes.sequential` calls one after the other, then `sizes.concurrent` calls
    from `sizes.workers` callers on one channel, against each server in turn (the order rotates).
    Every warm-up call must echo the payload, and a call without a token must be refused by the
    interceptor and answered by the bare server."""
    metadata = (("authorization", f"Bearer {token}"),)
    kinds = list(KINDS)
    echoed = dict.fromkeys(kinds, 0)
    refused: list[str] = []
    async with AsyncExitStack() as stack:
        echoes = await stack.enter_async_context(_served(kinds, issuer))
        calls: dict[str, Call] = {}
        for kind in kinds:
            channel = await stack.enter_async_context(grpc.aio.insecure_channel(f"127.0.0.1:{echoes[kind].port}"))
            stub = channel.unary_unary(METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
            calls[kind] = partial(stub, PAYLOAD, metadata=metadata, timeout=5)
            for _ in range(sizes.warmup):
                if await calls[kind]() != PAYLOAD:
                    raise RuntimeError(f"{KINDS[kind]}: the reply is not the payload sent")
                echoed[kind] += 1
            if await _refuses_without_token(stub):
                refused.append(kind)
        if refused != [k for k in kinds if k != "bare"]:
            raise RuntimeError(f"servers that refused a call without a token: {refused}; expected the interceptor's")
        by_mode: tuple[list[dict[str, _Samples]], ...] = ([], [])
        blocks = ((_sequential, sizes.sequential), (_concurrent(sizes.workers), sizes.concurrent))
        for round_ in range(sizes.rounds):
            order = kinds[round_ % len(kinds) :] + kinds[: round_ % len(kinds)]
            for mode, (block, n) in enumerate(blocks):
                by_mode[mode].append({k: await _measure(echoes[k], calls[k], block, n) for k in order})
    return Result(
        sizes=sizes,
        runs={k: (_run(by_mode[0], k), _run(by_mode[1], k)) for k in kinds},
        rounds={k: (_ratios(by_mode[0], k), _ratios(by_mode[1], k)) for k in kinds},
        echoed=echoed,
        refused_without_token=tuple(refused),
    )
