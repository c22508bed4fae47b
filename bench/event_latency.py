"""Event latency from personnel's commit to the reports projection, under a steady write load.

Measured by the reports service itself: `qlcb_event_lag_seconds` observes, per event, the time
from the envelope's occurred_at (stamped in personnel's transaction) to the commit of its
effect in reports. Percentiles are interpolated within the histogram's buckets."""

from __future__ import annotations

import asyncio
import time

import grpc
import httpx
from prometheus_client.parser import text_string_to_metric_families

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc

RATE, SECONDS = 40, 15
CONSUMER = "reports-personnel"


async def _buckets(ops_url: str) -> dict[float, float]:
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{ops_url}/metrics")).text
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "qlcb_event_lag_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket") and sample.labels.get("consumer") == CONSUMER:
                buckets[float(sample.labels["le"])] = sample.value
    return buckets


def _percentile(buckets: dict[float, float], q: float) -> float:
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


async def _caught_up(ops_url: str, expected: float, timeout: float = 60) -> dict[float, float]:
    """The histogram once it has counted `expected` events (or the timeout has passed)."""
    deadline = time.monotonic() + timeout
    while True:
        buckets = await _buckets(ops_url)
        if buckets.get(float("inf"), 0.0) >= expected or time.monotonic() > deadline:
            return buckets
        await asyncio.sleep(0.5)


async def measure(personnel_target: str, reports_ops_url: str, token: str, unit_id: str) -> dict[str, float]:
    before = await _buckets(reports_ops_url)
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(personnel_target) as channel:
        stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
        started = time.perf_counter()
        for n in range(RATE * SECONDS):
            await asyncio.sleep(max(0.0, started + n / RATE - time.perf_counter()))
            await stub.CreatePerson(
                personnel_pb2.CreatePersonRequest(
                    personal_id=f"0791{n:08d}",
                    staff_number=f"B{n:06d}",
                    full_name=f"Đỗ Văn Đo {n}",
                    date_of_birth="1988-08-08",
                    sex=personnel_pb2.SEX_MALE,
                    unit_id=unit_id,
                ),
                metadata=metadata,
                timeout=10,
            )
    expected = RATE * SECONDS + before.get(float("inf"), 0.0)
    after = await _caught_up(reports_ops_url, expected)
    delta = {bound: count - before.get(bound, 0.0) for bound, count in after.items()}
    return {
        "events": delta[float("inf")],
        "p50_ms": _percentile(delta, 0.5) * 1000,
        "p99_ms": _percentile(delta, 0.99) * 1000,
    }
