"""Backend answers the pages keep for a few minutes in the gateway process, by key: each catalog's
labels (every tier reads the catalogs, the sector's HR changes them seldom, and a record page shows
codes of a dozen of them) and the accounts behind recorded subjects (a history page names the
same few officers over and over). A key the backend did not answer for is kept as unknown too, so
it is not asked again on every page."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")

Fetch = Callable[[list[str]], Awaitable[Mapping[str, V]]]
"""Asks the backend for the keys given; those it does not know are left out."""


@dataclass
class Kept(Generic[V]):
    ttl_seconds: float = 300.0
    max_keys: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _held: dict[str, tuple[float, V | None]] = field(default_factory=dict)

    async def of(self, keys: Iterable[str], fetch: Fetch[V]) -> dict[str, V]:
        """The answer for each key the backend knows, asking it only for those not held or held too long."""
        wanted = set(keys)
        now = self.clock()
        stale = sorted(k for k in wanted if k not in self._held or now - self._held[k][0] > self.ttl_seconds)
        if stale:
            found = await fetch(stale)
            if len(self._held) + len(stale) > self.max_keys:
                self._held = {k: held for k, held in self._held.items() if now - held[0] <= self.ttl_seconds}
            for key in stale:
                self._held[key] = (now, found.get(key))
        return {k: value for k in wanted if (value := self._held[k][1]) is not None}
