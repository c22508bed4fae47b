"""Durable pull consumers whose effects are applied exactly once through the inbox."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb_common.db import Database
from qlcb_common.events.envelope import PoisonMessage, parse
from qlcb_common.events.inbox import Inbox
from qlcb_common.events.streams import Stream
from qlcb_common.metrics import EVENT_LAG, EVENTS_CONSUMED

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


class DurableConsumer:
    """Pulls from one stream; `handler` runs inside the transaction that records the event.

    A handler that raises `PoisonMessage` gets the message terminated (it would never
    succeed); any other error naks it with a growing delay so it is retried.
    """

    def __init__(
        self,
        *,
        name: str,
        stream: Stream,
        filter_subjects: Sequence[str],
        db: Database,
        inbox: Inbox,
        js: JetStreamContext,
        handler: Handler,
        batch_size: int = 100,
        fetch_timeout: float = 1.0,
        ack_wait: float = 30.0,
    ) -> None:
        self.name = name
        self._stream = stream
        self._filter_subjects = list(filter_subjects)
        self._db = db
        self._inbox = inbox
        self._js = js
        self._handler = handler
        self._batch_size = batch_size
        self._fetch_timeout = fetch_timeout
        self._ack_wait = ack_wait

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._ack_wait,
            max_ack_pending=self._batch_size * 10,
            filter_subjects=self._filter_subjects,
        )

    async def declare(self) -> None:
        await self._js.add_consumer(self._stream.name, self.config())

    async def run(self) -> None:
        subscription: JetStreamContext.PullSubscription | None = None
        backoff = 0.1
        try:
            while True:
                try:
                    if subscription is None:
                        await self.declare()
                        subscription = await self._js.pull_subscribe_bind(durable=self.name, stream=self._stream.name)
                    messages = await subscription.fetch(self._batch_size, timeout=self._fetch_timeout)
                except TimeoutError:
                    continue
                except Exception as exc:
                    log.warning("consumer fetch failed; will retry", consumer=self.name, error=repr(exc))
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.1
                for message in messages:
                    await self.handle(message)
        finally:
            if subscription is not None:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def handle(self, message: Msg) -> None:
        try:
            envelope = parse(message.data)
            async with self._db.unit_of_work() as session:
                if await self._inbox.seen(session, consumer=self.name, event_id=envelope.event_id):
                    outcome = "duplicate"
                else:
                    await self._handler(session, envelope)
                    await self._inbox.record(
                        session,
                        consumer=self.name,
                        event_id=envelope.event_id,
                        subject=envelope.subject,
                    )
                    outcome = "applied"
        except PoisonMessage as exc:
            log.error("event rejected", consumer=self.name, subject=message.subject, error=str(exc))
            EVENTS_CONSUMED.labels(self.name, "rejected").inc()
            await message.term()
            return
        except IntegrityError as exc:
            if not await self._processed(envelope.event_id):
                await self._retry(message, exc)
                return
            outcome = "duplicate"
        except Exception as exc:
            await self._retry(message, exc)
            return
        if outcome == "applied":
            lag = datetime.now(UTC) - envelope.occurred_at.ToDatetime(tzinfo=UTC)
            EVENT_LAG.labels(self.name).observe(max(lag.total_seconds(), 0.0))
        EVENTS_CONSUMED.labels(self.name, outcome).inc()
        try:
            await message.ack()
        except Exception as exc:
            # The effect is committed; the redelivery that follows is caught by the inbox.
            log.warning("ack failed", consumer=self.name, error=repr(exc))

    async def _processed(self, event_id: str) -> bool:
        async with self._db.unit_of_work() as session:
            return await self._inbox.seen(session, consumer=self.name, event_id=event_id)

    async def _retry(self, message: Msg, exc: Exception) -> None:
        attempt = message.metadata.num_delivered or 1
        log.warning(
            "event handling failed; will retry",
            consumer=self.name,
            subject=message.subject,
            attempt=attempt,
            error=repr(exc),
        )
        EVENTS_CONSUMED.labels(self.name, "retried").inc()
        try:
            await message.nak(delay=min(2.0**attempt, 60.0))
        except Exception as nak_exc:
            log.warning("nak failed; ack_wait will redeliver", error=repr(nak_exc))
