"""Event latency from personnel's commit to the reports projection, under a steady write load.

Two runs of the same load (CreatePerson at `rate` per second for `seconds`, after
`warmup_seconds` of uncounted writes): "quiet", writes only, and "polled", writes while the
client polls reports.
Views of each event:
- the reports service's own `qlcb_event_lag_seconds` histogram, observed from the envelope's
  occurred_at (stamped in personnel's transaction) to the commit of its effect in reports;
  percentiles interpolated within the buckets, like Prometheus' histogram_quantile;
- the same span read exactly afterwards from the rows both services wrote (outbox created_at to
  inbox processed_at), and the relay's share (outbox created_at to published_at);
- in the polled run, the client's: from the receipt of each CreatePerson reply to the first
  GetHeadcount that counts that person (one poll in flight at a time, timed at its midpoint).

Each run must end with every person written stamped published by the relay, in reports' inbox
and counted by its histogram, and, in the polled run, seen by the client: latencies over events
that never arrived would otherwise look short."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from qlcb.reports.v1 import reports_pb2, reports_pb2_grpc
from qlcb_common.events import subjects

CONSUMER = "reports-personnel"
CATCH_UP_TIMEOUT = 60.0

Metadata = tuple[tuple[str, str]]


@dataclass(frozen=True)
class Sizes:
    """`rate` CreatePerson calls per second for `seconds`, after `warmup_seconds` at the same
    rate, not counted; twice."""

    rate: int = 50
    seconds: int = 20
    warmup_seconds: int = 2

    def __post_init__(self) -> None:
        if min(self.rate, self.seconds) < 1 or self.warmup_seconds < 0:
            raise ValueError("at least one write per second for one second")

    @property
    def writes(self) -> int:
        """Writes measured in each run."""
        return self.rate * self.seconds


SMOKE = Sizes(rate=10, seconds=1, warmup_seconds=1)


@dataclass(frozen=True)
class Direct:
    """Client-side view: CreatePerson reply → first GetHeadcount that counts the person."""

    events: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    poll_interval_ms: float


@dataclass(frozen=True)
class Stamps:
    """Per event, from the rows both services wrote: the outbox row's created_at (= occurred_at)
    to the relay's published_at (its batch acknowledged by JetStream) and to reports' inbox row."""

    events: int
    """Events applied in reports (inbox rows)."""
    published: int
    """Events the relay stamped published."""
    acked_p50_ms: float
    acked_p99_ms: float
    inbox_p50_ms: float
    inbox_p99_ms: float
    inbox_max_ms: float


@dataclass(frozen=True)
class Phase:
    sizes: Sizes
    writes: int
    achieved_rate: float
    write_p50_ms: float
    histogram_events: int
    histogram_p50_ms: float
    histogram_p99_ms: float
    stamps: Stamps
    direct: Direct | None


async def _buckets(ops_url: str) -> dict[float, float]:
    async with httpx.AsyncClient(timeout=10) as client:
        exposition = (await client.get(f"{ops_url}/metrics")).text
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(exposition):
        if family.name != "qlcb_event_lag_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket") and sample.labels.get("consumer") == CONSUMER:
                buckets[float(sample.labels["le"])] = sample.value
    return buckets


async def _caught_up(ops_url: str, expected: float) -> dict[float, float]:
    """The histogram once it has counted `expected` events (or the timeout has passed)."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while True:
        buckets = await _buckets(ops_url)
        if buckets.get(float("inf"), 0.0) >= expected or time.monotonic() > deadline:
            return buckets
        await asyncio.sleep(0.2)


def _histogram_percentile(buckets: dict[float, float], q: float) -> float:
    """Prometheus' histogram_quantile: linear within the bucket that holds the q-th event."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    target, previous_bound, previous_count = q * total, 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= target:
            if bound == float("inf"):
                return previous_bound
            share = (target - previous_count) / max(count - previous_count, 1e-9)
            return previous_bound + share * (bound - previous_bound)
        previous_bound, previous_count = bound, count
    return previous_bound


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _headcount(stub: reports_pb2_grpc.ReportsServiceStub, unit_id: str, metadata: Metadata) -> int:
    reply = await stub.GetHeadcount(reports_pb2.GetHeadcountRequest(unit_id=unit_id), metadata=metadata, timeout=10)
    return int(reply.headcount)


async def _baseline(stub: reports_pb2_grpc.ReportsServiceStub, unit_id: str, metadata: Metadata) -> int:
    """The unit's headcount once reports knows the unit at all."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while True:
        try:
            return await _headcount(stub, unit_id, metadata)
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not grpc.StatusCode.NOT_FOUND or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


@dataclass(frozen=True)
class Target:
    personnel: personnel_pb2_grpc.PersonnelServiceStub
    reports: reports_pb2_grpc.ReportsServiceStub
    reports_ops_url: str
    personnel_db: AsyncEngine
    reports_db: AsyncEngine
    metadata: Metadata
    unit_id: str


async def _spans(target: Target, since: datetime) -> tuple[list[float], list[float]]:
    """Per event written since `since`, in seconds: to the relay's published_at (those stamped yet)
    and to reports' inbox row (those applied yet), each sorted."""
    async with target.personnel_db.connect() as conn:
        outbox = {
            row.event_id: (row.created_at, row.published_at)
            for row in await conn.execute(
                text("SELECT event_id, created_at, published_at FROM outbox WHERE subject = :s AND created_at >= :t"),
                {"s": subjects.PERSONNEL_PERSON_CREATED, "t": since},
            )
        }
    async with target.reports_db.connect() as conn:
        inbox = {
            row.event_id: row.processed_at
            for row in await conn.execute(
                text("SELECT event_id, processed_at FROM processed_events WHERE consumer = :c AND subject = :s"),
                {"c": CONSUMER, "s": subjects.PERSONNEL_PERSON_CREATED},
            )
        }
    acked = sorted((published - created).total_seconds() for created, published in outbox.values() if published)
    applied = sorted(
        (inbox[event_id] - created).total_seconds() for event_id, (created, _) in outbox.items() if event_id in inbox
    )
    return acked, applied


async def _stamps(target: Target, since: datetime, expected: int) -> Stamps:
    """The row stamps once the relay has stamped and reports applied `expected` events written
    since `since` (or the timeout has passed: then fewer)."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while True:
        acked, applied = await _spans(target, since)
        if min(len(acked), len(applied)) >= expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    if not acked or not applied:
        raise RuntimeError(f"of {expected} events written, {len(acked)} were stamped published, {len(applied)} applied")
    return Stamps(
        events=len(applied),
        published=len(acked),
        acked_p50_ms=statistics.median(acked) * 1000,
        acked_p99_ms=_percentile(acked, 0.99) * 1000,
        inbox_p50_ms=statistics.median(applied) * 1000,
        inbox_p99_ms=_percentile(applied, 0.99) * 1000,
        inbox_max_ms=applied[-1] * 1000,
    )


async def _write(target: Target, numbers: range, rate: int, replies: list[float], writes: list[float]) -> None:
    """CreatePerson for each number, at `rate` per second; each reply's receipt time and latency."""
    started = time.perf_counter()
    for index, n in enumerate(numbers):
        await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        sent = time.perf_counter()
        await target.personnel.CreatePerson(
            personnel_pb2.CreatePersonRequest(
                personal_id=f"0791{n:08d}",
                staff_number=f"B{n:06d}",
                full_name=f"Đỗ Văn Đo {n}",
                date_of_birth="1988-08-08",
                sex=personnel_pb2.SEX_MALE,
                unit_id=target.unit_id,
            ),
            metadata=target.metadata,
            timeout=10,
        )
        replies.append(time.perf_counter())
        writes.append(replies[-1] - sent)


async def _phase(target: Target, sizes: Sizes, *, first: int, poll: bool) -> Phase:
    """`warmup_seconds` of writes, not counted, then `seconds` of writes at the same rate, measured."""
    reports, metadata, unit_id = target.reports, target.metadata, target.unit_id
    reports_ops_url = target.reports_ops_url
    warmup, total = sizes.rate * sizes.warmup_seconds, sizes.writes
    counted = await _buckets(reports_ops_url)
    await _write(target, range(first, first + warmup), sizes.rate, [], [])
    await _caught_up(reports_ops_url, counted.get(float("inf"), 0.0) + warmup)
    since = datetime.now(UTC)
    baseline = await _baseline(reports, unit_id, metadata)
    before = await _buckets(reports_ops_url)
    replies: list[float] = []
    writes: list[float] = []
    polls: list[tuple[float, int]] = []  # (midpoint, headcount seen)
    writing_done = asyncio.Event()

    async def write() -> None:
        await _write(target, range(first + warmup, first + warmup + total), sizes.rate, replies, writes)
        writing_done.set()

    async def follow() -> None:
        deadline = float("inf")
        while time.monotonic() < deadline:
            sent = time.perf_counter()
            seen = await _headcount(reports, unit_id, metadata) - baseline
            polls.append(((sent + time.perf_counter()) / 2, seen))
            if seen >= total:
                return
            if writing_done.is_set() and deadline == float("inf"):
                deadline = time.monotonic() + CATCH_UP_TIMEOUT

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        group.create_task(write())
        if poll:
            group.create_task(follow())
    achieved_rate = total / (replies[-1] - started)
    after = await _caught_up(reports_ops_url, before.get(float("inf"), 0.0) + total)
    delta = {bound: count - before.get(bound, 0.0) for bound, count in after.items()}
    phase = Phase(
        sizes=sizes,
        writes=total,
        achieved_rate=achieved_rate,
        write_p50_ms=statistics.median(writes) * 1000,
        histogram_events=int(delta.get(float("inf"), 0.0)),
        histogram_p50_ms=_histogram_percentile(delta, 0.5) * 1000,
        histogram_p99_ms=_histogram_percentile(delta, 0.99) * 1000,
        stamps=await _stamps(target, since, total),
        direct=_direct(replies, polls) if poll else None,
    )
    seen = {
        "the relay's stamps": phase.stamps.published,
        "reports' inbox": phase.stamps.events,
        "the lag histogram": phase.histogram_events,
        **({"the client's polls": phase.direct.events} if phase.direct is not None else {}),
    }
    if short := {view: events for view, events in seen.items() if events < total}:
        raise RuntimeError(f"of {total} people written, only these arrived: {short}")
    return phase


def _direct(replies: list[float], polls: list[tuple[float, int]]) -> Direct:
    # Person n (0-based) is counted once the headcount reaches n + 1 (events are applied in commit order).
    seen = _running_max([count for _, count in polls])
    latencies: list[float] = []
    for n, reply in enumerate(replies):
        index = bisect.bisect_left(seen, n + 1)
        if index < len(polls):
            latencies.append(max(0.0, polls[index][0] - reply))
    latencies.sort()
    return Direct(
        events=len(latencies),
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        max_ms=latencies[-1] * 1000,
        poll_interval_ms=statistics.median(b[0] - a[0] for a, b in itertools.pairwise(polls)) * 1000,
    )


async def measure(
    personnel_target: str,
    reports_target: str,
    reports_ops_url: str,
    database_urls: dict[str, str],
    token: str,
    unit_id: str,
    sizes: Sizes = Sizes(),
) -> dict[str, Phase]:
    """Two phases of the same load: "quiet" (writes only) and "polled" (writes while the client
    polls GetHeadcount, which gives the direct view but also loads reports)."""
    personnel_db = create_async_engine(database_urls["personnel"])
    reports_db = create_async_engine(database_urls["reports"])
    try:
        async with (
            grpc.aio.insecure_channel(personnel_target) as personnel_channel,
            grpc.aio.insecure_channel(reports_target) as reports_channel,
        ):
            target = Target(
                personnel=personnel_pb2_grpc.PersonnelServiceStub(personnel_channel),
                reports=reports_pb2_grpc.ReportsServiceStub(reports_channel),
                reports_ops_url=reports_ops_url,
                personnel_db=personnel_db,
                reports_db=reports_db,
                metadata=(("authorization", f"Bearer {token}"),),
                unit_id=unit_id,
            )
            quiet = await _phase(target, sizes, first=0, poll=False)
            polled = await _phase(target, sizes, first=sizes.rate * sizes.warmup_seconds + sizes.writes, poll=True)
    finally:
        await personnel_db.dispose()
        await reports_db.dispose()
    return {"quiet": quiet, "polled": polled}


def _running_max(values: list[int]) -> list[int]:
    result: list[int] = []
    highest = -1
    for value in values:
        highest = max(highest, value)
        result.append(highest)
    return result
