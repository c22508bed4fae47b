"""What the cross-service tests share: the running system and small waiting helpers."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from qlcb_devstack.accounts import password_token
from qlcb_devstack.stack import Infra, ServiceStack

T = TypeVar("T")


def unique_code(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


async def eventually(probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], *, timeout: float, what: str) -> T:
    """Polls `probe` until `accept` holds for its result; fails naming `what` and the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if accept(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {result!r}")
        await asyncio.sleep(0.1)


async def wait_for_headcount(api: httpx.AsyncClient, unit_id: str, expected: int, *, timeout: float = 60) -> int:
    async def probe() -> int:
        response = await api.get(f"/v1/units/{unit_id}/headcount")
        return int(response.json()["headcount"]) if response.status_code == 200 else -1

    return await eventually(probe, lambda n: n >= expected, timeout=timeout, what=f"headcount {expected}")


@dataclass
class System:
    infra: Infra
    services: ServiceStack
    unit_ids: dict[str, str]
    passwords: dict[str, str]
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)

    @property
    def root_unit_id(self) -> str:
        return self.unit_ids["TCHQ"]

    @property
    def gateway_url(self) -> str:
        return self.services.gateway_url

    def postgres_dsn(self, database: str) -> str:
        assert self.infra.postgres is not None, "the test system runs on PostgreSQL"
        return self.infra.postgres.dsn(database, driver="postgresql")

    def token(self, username: str) -> str:
        """A fresh-enough access token of a seeded account (tokens live five minutes)."""
        cached = self._tokens.get(username)
        if cached and cached[1] > time.monotonic() + 60:
            return cached[0]
        token = password_token(self.infra.keycloak.base_url, username, self.passwords[username])
        self._tokens[username] = (token, time.monotonic() + 240)
        return token
