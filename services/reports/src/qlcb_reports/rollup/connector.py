"""The connector to the national report system: a worker that sends the deliveries due, one
HTTP POST of JSON each, and records what the receiver answered.

Each round claims the deliveries due (`SKIP LOCKED`, so replicas share them), counts the attempt
and pushes its next attempt one timeout and a margin ahead, and commits: the claim is a lease. The
POST goes out outside any transaction; the answer is recorded in a transaction of its own:

- 2xx: acknowledged (`sent`), event `qlcb.reports.rollup.sent`; never sent again;
- a 4xx other than 408 and 429: refused for good (`failed`) with the receiver's reason, event
  `qlcb.reports.rollup.failed`;
- a 5xx, 408, 429, a timeout, a refused connection: due again after the backoff of
  `schedule.retry_delay`; after the last attempt allowed, `failed` likewise.

A replica that dies between the POST and the record leaves the delivery pending with its lease; when
the lease runs out another replica (or this one, restarted) sends it again under the same
`Idempotency-Key`, on which the receiver deduplicates."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import httpx
import structlog
from sqlalchemy import select

from qlcb.reports.v1 import rollup_pb2
from qlcb_common.db import Database
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.faults import NO_FAULT_POINTS, FaultPoints
from qlcb_common.shutdown import Stopping
from qlcb_reports.rollup.messages import delivery_to_proto
from qlcb_reports.rollup.models import RollupDelivery
from qlcb_reports.rollup.schedule import Status, is_permanent, retry_delay
from qlcb_reports.settings import ReportsSettings

log = structlog.get_logger(__name__)

ANSWERED: Final = "rollup.answered"
"""The connector's fault point: the receiver has answered a delivery; the answer is not recorded yet."""
BATCH: Final = 20
LEASE_MARGIN_SECONDS: Final = 5.0
MAX_REASON: Final = 1000
ACTOR: Final = "system:rollup"


@dataclass(frozen=True)
class Answer:
    """What one attempt met: the receiver's status (0 when it did not answer) and why it failed."""

    status: int
    error: str

    @property
    def acknowledged(self) -> bool:
        return 200 <= self.status < 300


def _reason(response: httpx.Response) -> str:
    """The receiver's reason: a JSON body's `reason`, `message` or `detail`, else its text."""
    text = response.text.strip()
    try:
        parsed = json.loads(text) if text else None
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        for key in ("reason", "message", "detail", "error"):
            if isinstance(parsed.get(key), str) and parsed[key]:
                text = parsed[key]
                break
    return f"HTTP {response.status_code}: {text or response.reason_phrase}"[:MAX_REASON]


class NationalConnector:
    def __init__(
        self, *, db: Database, outbox: Outbox, settings: ReportsSettings, faults: FaultPoints = NO_FAULT_POINTS
    ) -> None:
        assert settings.national_url is not None, "the connector runs only with an endpoint"
        self._db = db
        self._outbox = outbox
        self._url = str(settings.national_url)
        self._token = settings.national_token
        self._timeout = settings.national_timeout_seconds
        self._poll = settings.national_poll_seconds
        self._base = settings.national_retry_base_seconds
        self._longest = settings.national_retry_max_seconds
        self._max_attempts = settings.national_max_attempts
        self._faults = faults

    async def run(self, stopping: Stopping) -> None:
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            while not stopping.is_set():
                try:
                    sent = await self.send_due(client, stopping)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("national roll-up round failed")
                    sent = 0
                if sent < BATCH and await stopping.sleep(self._poll):
                    return

    async def send_due(self, client: httpx.AsyncClient, stopping: Stopping) -> int:
        """Sends one batch of the deliveries due; returns how many were tried."""
        claimed = await self._claim()
        for delivery_id, key, body in claimed:
            answer = await self._post(client, key, body)
            await self._faults.hold(ANSWERED, {"delivery_id": delivery_id, "status": answer.status})
            await self._record(delivery_id, answer)
            if stopping.is_set():
                break
        return len(claimed)

    async def _claim(self) -> list[tuple[str, str, dict[str, object]]]:
        now = datetime.now(UTC)
        lease = now + timedelta(seconds=self._timeout + LEASE_MARGIN_SECONDS)
        async with self._db.unit_of_work() as session:
            due = list(
                await session.scalars(
                    select(RollupDelivery)
                    .where(RollupDelivery.status == Status.PENDING.value, RollupDelivery.next_attempt_at <= now)
                    .order_by(RollupDelivery.next_attempt_at)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            for delivery in due:
                delivery.attempts += 1
                delivery.next_attempt_at = lease
            return [(d.id, d.idempotency_key, d.payload) for d in due]

    async def _post(self, client: httpx.AsyncClient, key: str, body: dict[str, object]) -> Answer:
        headers = {"Idempotency-Key": key}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        try:
            response = await client.post(self._url, json=body, headers=headers)
        except httpx.TimeoutException:
            return Answer(0, f"Hết thời gian chờ ({self._timeout:g} giây)")
        except httpx.TransportError as error:
            return Answer(0, f"Không kết nối được: {type(error).__name__}: {error}"[:MAX_REASON])
        if 200 <= response.status_code < 300:
            return Answer(response.status_code, "")
        return Answer(response.status_code, _reason(response))

    async def _record(self, delivery_id: str, answer: Answer) -> None:
        now = datetime.now(UTC)
        async with self._db.unit_of_work() as session:
            delivery = (
                await session.scalars(select(RollupDelivery).where(RollupDelivery.id == delivery_id).with_for_update())
            ).one()
            delivery.last_status = answer.status or None
            if answer.acknowledged:
                # Recorded whatever happened meanwhile: the national system has it.
                delivery.status = Status.SENT.value
                delivery.acknowledged_at = now
                delivery.next_attempt_at = None
                delivery.last_error = None
                subject = subjects.REPORTS_ROLLUP_SENT
            elif delivery.status != Status.PENDING.value:
                return  # withdrawn or recorded as sent outside while this attempt was out
            else:
                delivery.last_error = answer.error
                if is_permanent(answer.status) or delivery.attempts >= self._max_attempts:
                    delivery.status = Status.FAILED.value
                    delivery.next_attempt_at = None
                    subject = subjects.REPORTS_ROLLUP_FAILED
                else:
                    wait = retry_delay(delivery.attempts, base=self._base, longest=self._longest)
                    delivery.next_attempt_at = now + timedelta(seconds=wait)
                    log.info(
                        "national roll-up delivery will be retried",
                        delivery_id=delivery.id,
                        attempts=delivery.attempts,
                        error=answer.error,
                        in_seconds=round(wait, 3),
                    )
                    return
            await self._outbox.add(
                session,
                subject=subject,
                payload=rollup_pb2.RollupDeliveryChanged(delivery=delivery_to_proto(delivery)),
                actor=ACTOR,
            )
