"""When a delivery that did not get through is tried again, and what an answer means.

Exponential backoff with "equal jitter": the n-th retry waits between half and all of
`base · 2^(n-1)`, capped at `longest`, so replicas and deliveries that failed together do not all
come back at the same moment, and no wait is ever shorter than half its step."""

from __future__ import annotations

import random
from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"  # chờ gửi
    SENT = "sent"  # đã gửi, hệ thống quốc gia đã nhận
    FAILED = "failed"  # bị từ chối, hoặc hết số lần thử
    WITHDRAWN = "withdrawn"  # báo cáo được mở lại trước khi gửi được
    SENT_OUTSIDE = "sent_outside"  # đã gửi ngoài hệ thống


RETRIED_CLIENT_ERRORS = frozenset({408, 429})
"""4xx answers that say "later", not "never": a request timeout and too many requests."""


def retry_delay(attempts: int, *, base: float, longest: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempts`-th attempt (1 for the first) failed."""
    step = min(longest, base * 2 ** min(max(attempts - 1, 0), 62))
    return (rng or random).uniform(step / 2, step)


def is_permanent(status: int) -> bool:
    """Whether the receiver refused for good: a 4xx other than 408 and 429 (the request itself is wrong)."""
    return 400 <= status < 500 and status not in RETRIED_CLIENT_ERRORS
