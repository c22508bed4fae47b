from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p99_ms: float
    per_second: float

    @classmethod
    def of(cls, samples: list[float], elapsed: float) -> Latency:
        ordered = sorted(samples)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return cls(statistics.median(ordered) * 1000, p99 * 1000, len(samples) / elapsed)
