"""The names the pages show beside catalog codes ("Chuyên viên (01.003)" rather than "01.003"): each
catalog as personnel lists it today, kept for a few minutes by the gateway process. Every tier reads
the catalogs, the sector's HR changes them seldom, and a record page shows codes of a dozen of them,
so they are not asked again on every page. A code no longer in today's list (a commune before the
2025 reorganisation) is shown as it is."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

Fetch = Callable[[str], Awaitable[dict[str, str]]]
"""Asks personnel for one catalog: each code with its label."""


@dataclass
class CatalogLabels:
    ttl_seconds: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _held: dict[str, tuple[float, dict[str, str]]] = field(default_factory=dict)

    async def of(self, catalogs: Iterable[str], fetch: Fetch) -> dict[str, dict[str, str]]:
        """The labels of each catalog named, asking personnel only for those not held or held too long."""
        wanted = set(catalogs)
        now = self.clock()
        stale = sorted(c for c in wanted if c not in self._held or now - self._held[c][0] > self.ttl_seconds)
        for catalog, labels in zip(stale, await asyncio.gather(*(fetch(c) for c in stale)), strict=True):
            self._held[catalog] = (now, labels)
        return {c: self._held[c][1] for c in wanted}
