"""The connector's retry schedule and what an answer means (`qlcb_reports.rollup.schedule`)."""

from __future__ import annotations

import random

import pytest

from qlcb_reports.rollup.schedule import is_permanent, retry_delay


@pytest.mark.parametrize(("attempts", "low", "high"), [(1, 15, 30), (2, 30, 60), (3, 60, 120), (8, 1800, 3600)])
def test_each_retry_waits_between_half_and_all_of_a_doubling_step(attempts: int, low: float, high: float) -> None:
    rng = random.Random(attempts)
    delays = [retry_delay(attempts, base=30, longest=3600, rng=rng) for _ in range(200)]
    assert low <= min(delays)
    assert max(delays) <= high
    assert max(delays) - min(delays) > (high - low) / 2  # jittered, not one value


def test_the_wait_is_capped_however_many_attempts() -> None:
    assert 1800 <= retry_delay(10_000, base=30, longest=3600) <= 3600


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (401, True), (422, True), (408, False), (429, False)])
def test_a_client_error_is_final_except_a_timeout_or_too_many_requests(status: int, permanent: bool) -> None:
    assert is_permanent(status) is permanent


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_retried(status: int) -> None:
    assert not is_permanent(status)
