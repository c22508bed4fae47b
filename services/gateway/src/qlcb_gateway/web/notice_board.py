"""The notices in force (R-OPS-1) as every page shows them at its top: asked of identity at most once
every `REFRESH_SECONDS` by each gateway process, on a signed-in page's way in, and kept. A board
identity does not answer keeps what it held: a page is never refused or slowed for a notice."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 15.0
ASK_TIMEOUT_SECONDS = 2.0
KIND_LABELS = {"upgrade": "Thông báo nâng cấp hệ thống", "incident": "Thông báo sự cố"}


@dataclass(frozen=True)
class ShownNotice:
    id: str
    kind: str
    kind_label: str
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime | None


def shown(item: dict[str, Any]) -> ShownNotice:
    """A notice as identity answers it."""
    ends = item.get("ends_at")
    return ShownNotice(
        id=item["id"],
        kind=item["kind"],
        kind_label=KIND_LABELS.get(item["kind"], item["kind"]),
        title=item["title"],
        body=item["body"],
        starts_at=datetime.fromisoformat(item["starts_at"]),
        ends_at=datetime.fromisoformat(ends) if ends else None,
    )


@dataclass
class NoticeBoard:
    clock: Callable[[], float] = time.monotonic
    _held: list[ShownNotice] = field(default_factory=list)
    _asked_at: float | None = None

    def held(self) -> list[ShownNotice]:
        return list(self._held)

    def forget(self) -> None:
        """Asks again on the next page: this process has just posted or closed one."""
        self._asked_at = None

    async def refresh(self, identity: httpx.AsyncClient) -> None:
        now = self.clock()
        if self._asked_at is not None and now - self._asked_at < REFRESH_SECONDS:
            return
        self._asked_at = now
        try:
            answer = await identity.get("/v1/notices", timeout=ASK_TIMEOUT_SECONDS)
        except httpx.HTTPError:
            return
        if answer.status_code != 200:
            return
        try:
            self._held = [shown(item) for item in answer.json()]
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("identity's notices are not as expected", error=repr(exc))
