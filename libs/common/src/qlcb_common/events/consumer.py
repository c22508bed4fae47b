"""Durable pull consumers whose effects are applied exactly once through the inbox."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb_common.db import Database
from qlcb_common.events.contracts import Contracts, accept
from qlcb_common.events.envelope import PoisonMessage
from qlcb_common.events.inbox import Inbox, InboxMark
from qlcb_common.events.streams import Stream
from qlcb_common.faults import NO_FAULT_POINTS, FaultPoints, consumer_committed
from qlcb_common.metrics import (
    CONSUMER_POSITION_UNKNOWN,
    EVENT_IDS_PRUNED,
    EVENT_LAG,
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
)
from qlcb_common.settings import KEEP_EVERY_ID, ConsumerPolicy
from qlcb_common.shutdown import Stopping

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
BatchPreparer = Callable[[AsyncSession, Sequence[Envelope]], Awaitable[None]]
Finisher = Callable[[AsyncSession], Awaitable[None]]

STREAM_SEQUENCES = "qlcb_events_stream_sequences"
"""The key of `session.info` under which the consumer keeps the stream sequence of each event the
transaction handles (`stream_sequence`)."""


PRUNED_AT_ONCE = 10_000
"""Processed ids deleted in one transaction; as many again at the next turn of the loop, until
fewer are left."""
PRUNE_EVERY_SECONDS = 3600.0
SEARCHED_AT_MOST = 100_000
"""Messages read one by one, at most, to find where a consumer made again on a renumbered stream
stands (`DurableConsumer.start_after`)."""
UNKNOWN_POSITION_RETRY_SECONDS = 60.0


class ConsumerPositionUnknown(Exception):
    """A consumer that had forgotten ids must be made again on a stream that no longer numbers its
    messages as it did, and the last message it marked is not found: from the start, it would apply
    again what it forgot; anywhere else, it might skip what it never applied."""


def _created(moment: datetime | None) -> str:
    """A stream's creation time, which tells one made again under the same name from the old one."""
    return moment.isoformat() if moment is not None else ""


class _MadeAgainMeanwhile(Exception):
    """Rolls back a prune: a consumer made again may start below the floor it read, and a stream
    made again may number its messages otherwise."""


def note_stream_sequences(session: AsyncSession, sequences: Mapping[str, int]) -> None:
    session.info.setdefault(STREAM_SEQUENCES, {}).update(sequences)


def stream_sequence(session: AsyncSession, envelope: Envelope) -> int:
    """The position at which the event was published, for a handler whose result depends on the
    order of events: the consumer may hand them over out of it (an event retried after a delay
    behind the ones after it, a batch in hand at a crash redelivered after the next one, two replicas
    pulling from one consumer)."""
    sequences: dict[str, int] = session.info.get(STREAM_SEQUENCES, {})
    return sequences[envelope.event_id]


class DurableConsumer:
    """Pulls from one stream; `handler` runs inside the transaction that records the event.

    Every message is first checked against the producer's `contracts`; one that fails, or whose
    handler raises `PoisonMessage`, is dead-lettered: kept in the inbox's dead_letters table with
    the reason, counted (`qlcb_events_dead_lettered_total`) and acknowledged, having changed
    nothing. Any other error naks it with a growing delay so it is retried.

    With `batch_transactions` every fetched batch is applied in one transaction instead of one per
    event (a read-model replaying a long stream: the commit, not the handler, is most of an event's
    cost). The events are recorded in the inbox first, in that transaction: those it held already,
    and a second copy of one within the batch, are skipped; the rest are handled in stream order,
    then all are acknowledged. A message the contract refuses is dead-lettered on its own first. If
    the batch fails, nothing of it is kept and its events are handled again at once one per
    transaction, as without batches, so a bad event is dead-lettered or retried alone and the
    others go on. `prepare`, if given, sees the events a batch will apply, in its transaction,
    before the handler sees any (to read what they need in a few queries rather than each its own).
    `finish`, if given, runs in every transaction that applied events, after the handler saw them
    (to bring up to date once what several of them changed).

    With `policy.processed_kept`, the consumer deletes, once an hour, the ids it recorded longer ago
    than that of the events at or below its ack floor, after marking in the same transaction that it
    applied everything up to that floor (`InboxMark`, ADR 0056): JetStream delivers no message at or
    below the floor again, and a consumer made again (one the server removed when idle, one lost
    with the stream) is declared to start after the mark, not from the start.
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
        contracts: Contracts,
        handler: Handler,
        batch_size: int = 100,
        fetch_timeout: float = 1.0,
        policy: ConsumerPolicy = KEEP_EVERY_ID,
        inactive_threshold: float | None = None,
        batch_transactions: bool = False,
        prepare: BatchPreparer | None = None,
        finish: Finisher | None = None,
        faults: FaultPoints = NO_FAULT_POINTS,
    ) -> None:
        self.name = name
        self._stream = stream
        self._filter_subjects = list(filter_subjects)
        self._db = db
        self._inbox = inbox
        self._js = js
        self._contracts = contracts
        self._handler = handler
        self._batch_size = batch_size
        self._fetch_timeout = fetch_timeout
        self._policy = policy
        self._prune_at = 0.0
        self._inactive_threshold = inactive_threshold
        self._batch_transactions = batch_transactions
        self._prepare = prepare
        self._finish = finish
        self._faults = faults

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._policy.ack_wait,
            max_ack_pending=self._batch_size * 10,
            filter_subjects=self._filter_subjects,
            inactive_threshold=self._inactive_threshold,
        )

    async def declare(self) -> None:
        """Creates the consumer, or brings an existing one to this configuration except where it
        starts delivering, which JetStream cannot change: a consumer an operator re-created at a
        stream position (switching in restored streams, ADR 0026) goes on from there. A consumer
        created anew starts after its inbox's mark, if it has one (`start_after`); the mark stays
        locked until the consumer exists, so a prune waiting on it sees the consumer made again and
        deletes nothing."""
        config = self.config()
        try:
            existing = (await self._js.consumer_info(self._stream.name, self.name)).config
        except NotFoundError:
            existing = None
        if existing is not None:
            config.deliver_policy = existing.deliver_policy
            config.opt_start_seq = existing.opt_start_seq
            config.opt_start_time = existing.opt_start_time
            await self._js.add_consumer(self._stream.name, config)
            return
        async with self._db.unit_of_work() as session:
            mark = await self._inbox.mark(session, consumer=self.name, for_update=True)
            start = await self.start_after(mark)
            if start is not None:
                config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
                config.opt_start_seq = start
            await self._js.add_consumer(self._stream.name, config)

    async def start_after(self, mark: InboxMark | None) -> int | None:
        """Where a consumer created anew starts: None (the start) without a mark; after the mark on
        the stream it was set on, or on one that numbers its messages alike (a copy of it); after
        where the marked message is now on one that does not (a copy of a stream whose oldest
        messages had aged out), found reading back from the mark. Raises ConsumerPositionUnknown if
        it is not found."""
        if mark is None:
            return None
        stream = await self._js.stream_info(self._stream.name)
        if mark.stream == self._stream.name and mark.stream_created == _created(stream.created):
            return mark.through + 1
        first, last = stream.state.first_seq, stream.state.last_seq
        lowest = max(first, 1, mark.through - SEARCHED_AT_MOST)
        for sequence in range(min(mark.through, last), lowest - 1, -1):
            if mark.through_event_id and await self._event_id_at(sequence) == mark.through_event_id:
                log.info(
                    "consumer made again after its mark",
                    consumer=self.name,
                    marked=mark.through,
                    event_id=mark.through_event_id,
                    found_at=sequence,
                )
                return sequence + 1
        raise ConsumerPositionUnknown(
            f"consumer {self.name}: stream {self._stream.name} was made again ({_created(stream.created)}, was "
            f"{mark.stream_created}) and its message {mark.through_event_id or '(unknown)'}, through which the "
            f"consumer applied everything (sequence {mark.through}), is not in it; create the consumer at the "
            "sequence after that message's (docs/operations.md, QlcbEventConsumerPositionUnknown)"
        )

    async def _event_id_at(self, sequence: int) -> str | None:
        try:
            message = await self._js.get_msg(self._stream.name, seq=sequence)
        except NotFoundError:
            return None
        return (message.headers or {}).get("Nats-Msg-Id")

    async def prune_when_due(self) -> int:
        """Prunes the inbox once an hour, and again at once while a prune finds more than it deletes
        in one go; says how many ids it deleted. A failure waits for the next hour."""
        kept = self._policy.processed_kept
        if kept is None or time.monotonic() < self._prune_at:
            return 0
        pruned = 0
        try:
            pruned = await self.prune(datetime.now(UTC) - kept)
        except Exception as exc:
            log.warning("pruning the inbox failed; will try again", consumer=self.name, error=repr(exc))
        EVENT_IDS_PRUNED.labels(self.name).inc(pruned)
        self._prune_at = time.monotonic() + (0.0 if pruned == PRUNED_AT_ONCE else PRUNE_EVERY_SECONDS)
        return pruned

    async def prune(self, before: datetime) -> int:
        """Marks the consumer's ack floor and deletes up to PRUNED_AT_ONCE of its ids of events at or
        below it processed before `before`, in one transaction; says how many. The first mark, and
        the first on a stream that numbers its messages otherwise (switched in from a restored copy),
        only marks: ids recorded before carry sequences that mean nothing now, and are kept. Does
        nothing while the message at the floor is gone (nothing to know the floor by on a stream
        made again), and keeps nothing of the transaction if the stream or the consumer was made
        again while it ran (the floor read might not be the stream's, or the consumer start below
        it)."""
        stream_created = _created((await self._js.stream_info(self._stream.name)).created)
        try:
            consumer = await self._js.consumer_info(self._stream.name, self.name)
        except NotFoundError:
            return 0
        floor = consumer.ack_floor.stream_seq if consumer.ack_floor is not None else 0
        floor_event_id = await self._event_id_at(floor) if floor > 0 else None
        if not floor_event_id:
            return 0
        async with self._db.unit_of_work() as session:
            mark = await self._inbox.mark(session, consumer=self.name, for_update=True)
            pruned = 0
            if mark is None or not await self._numbered_as(mark, stream_created):
                fresh = InboxMark(self._stream.name, stream_created, floor, floor_event_id, datetime.now(UTC))
                await self._inbox.set_mark(session, consumer=self.name, mark=fresh)
            else:
                if floor > mark.through or mark.stream_created != stream_created:
                    through = max(floor, mark.through)
                    mark = replace(
                        mark,
                        stream_created=stream_created,
                        through=through,
                        through_event_id=floor_event_id if through == floor else mark.through_event_id,
                    )
                    await self._inbox.set_mark(session, consumer=self.name, mark=mark)
                pruned = await self._inbox.prune(
                    session, consumer=self.name, through=floor, since=mark.since, before=before, limit=PRUNED_AT_ONCE
                )
            await self._same_as(stream_created, consumer.created)
        return pruned

    async def _same_as(self, stream_created: str, consumer_created: datetime | None) -> None:
        """Raises _MadeAgainMeanwhile unless the stream and the consumer are the ones read before."""
        try:
            consumer = await self._js.consumer_info(self._stream.name, self.name)
        except NotFoundError as exc:
            raise _MadeAgainMeanwhile(f"consumer {self.name} was removed while its inbox was pruned") from exc
        stream = await self._js.stream_info(self._stream.name)
        if consumer.created != consumer_created or _created(stream.created) != stream_created:
            raise _MadeAgainMeanwhile(f"consumer {self.name} or its stream was made again while its inbox was pruned")

    async def _numbered_as(self, mark: InboxMark, stream_created: str) -> bool:
        """Whether the stream numbers its messages as it did when `mark` was set."""
        if mark.stream != self._stream.name:
            return False
        if mark.stream_created == stream_created:
            return True
        return bool(mark.through_event_id) and await self._event_id_at(mark.through) == mark.through_event_id

    async def run(self, stopping: Stopping | None = None) -> None:
        """Fetches and handles batches until `stopping` is set; then finishes the message in hand
        (acknowledged; with `batch_transactions`, the batch in hand), hands the rest of its batch
        back for immediate redelivery (to a replica still running, or to this one after a restart)
        and unsubscribes."""
        stopping = stopping or Stopping()
        subscription: JetStreamContext.PullSubscription | None = None
        backoff = 0.1
        try:
            while not stopping.is_set():
                await self.prune_when_due()
                try:
                    if subscription is None:
                        await self.declare()
                        CONSUMER_POSITION_UNKNOWN.labels(self.name).set(0)
                        subscription = await self._js.pull_subscribe_bind(durable=self.name, stream=self._stream.name)
                    messages = await self._fetch(subscription)
                except ConsumerPositionUnknown as exc:
                    log.error("consumer not created: where it stands is unknown", consumer=self.name, reason=str(exc))
                    CONSUMER_POSITION_UNKNOWN.labels(self.name).set(1)
                    await stopping.sleep(UNKNOWN_POSITION_RETRY_SECONDS)
                    continue
                except Exception as exc:
                    log.warning("consumer fetch failed; will retry", consumer=self.name, error=repr(exc))
                    await stopping.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.1
                if self._batch_transactions:
                    await self.handle_batch(messages)
                    continue
                for handled, message in enumerate(messages):
                    if stopping.is_set():
                        await self._hand_back(messages[handled:])
                        break
                    await self.handle(message)
        finally:
            if subscription is not None:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def _fetch(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        """The next batch; none when nothing came within the fetch timeout (not a failure)."""
        try:
            return await subscription.fetch(self._batch_size, timeout=self._fetch_timeout)
        except TimeoutError:
            return []

    async def _hand_back(self, messages: Sequence[Msg]) -> None:
        """Fetched and not handled: naked without delay, so JetStream redelivers them now rather
        than after `ack_wait`."""
        log.info("stopping; handing back unhandled messages", consumer=self.name, count=len(messages))
        for message in messages:
            try:
                await message.nak()
            except Exception as exc:
                log.warning("nak failed; ack_wait will redeliver", consumer=self.name, error=repr(exc))
                return

    async def handle_batch(self, messages: Sequence[Msg]) -> None:
        accepted: list[tuple[Msg, Envelope]] = []
        for message in messages:
            try:
                accepted.append((message, accept(message.subject, message.data, self._contracts)))
            except PoisonMessage as exc:
                await self._dead_letter(message, exc)
        if not accepted:
            return
        applied: list[Envelope] = []
        try:
            async with self._db.unit_of_work() as session:
                note_stream_sequences(
                    session, {envelope.event_id: message.metadata.sequence.stream for message, envelope in accepted}
                )
                first_copies: dict[str, Envelope] = {}
                for _, envelope in accepted:
                    first_copies.setdefault(envelope.event_id, envelope)
                sequences: dict[str, int] = session.info[STREAM_SEQUENCES]
                recorded = await self._inbox.record_new(
                    session,
                    consumer=self.name,
                    events=[(e.event_id, e.subject, sequences[e.event_id]) for e in first_copies.values()],
                )
                applied = [envelope for envelope in first_copies.values() if envelope.event_id in recorded]
                if self._prepare is not None and applied:
                    await self._prepare(session, applied)
                for envelope in applied:
                    await self._handler(session, envelope)
                if self._finish is not None and applied:
                    await self._finish(session)
        except Exception as exc:
            log.warning(
                "batch failed, nothing of it kept; handling its events one at a time",
                consumer=self.name,
                events=len(accepted),
                error=repr(exc),
            )
            for message, _ in accepted:
                await self.handle(message)
            return
        now = datetime.now(UTC)
        for envelope in applied:
            lag = now - envelope.occurred_at.ToDatetime(tzinfo=UTC)
            EVENT_LAG.labels(self.name).observe(max(lag.total_seconds(), 0.0))
        if applied:
            # The window between this commit and the acks below, held open by crash tests only.
            await self._faults.hold(
                consumer_committed(self.name), {"event_ids": [envelope.event_id for envelope in applied]}
            )
        EVENTS_CONSUMED.labels(self.name, "applied").inc(len(applied))
        EVENTS_CONSUMED.labels(self.name, "duplicate").inc(len(accepted) - len(applied))
        for message, _ in accepted:
            try:
                await message.ack()
            except Exception as exc:
                # The effects are committed; the redelivery that follows is caught by the inbox.
                log.warning("ack failed", consumer=self.name, error=repr(exc))

    async def handle(self, message: Msg) -> None:
        try:
            envelope = accept(message.subject, message.data, self._contracts)
            async with self._db.unit_of_work() as session:
                if await self._inbox.seen(session, consumer=self.name, event_id=envelope.event_id):
                    outcome = "duplicate"
                else:
                    note_stream_sequences(session, {envelope.event_id: message.metadata.sequence.stream})
                    await self._handler(session, envelope)
                    if self._finish is not None:
                        await self._finish(session)
                    await self._inbox.record(
                        session,
                        consumer=self.name,
                        event_id=envelope.event_id,
                        subject=envelope.subject,
                        stream_sequence=message.metadata.sequence.stream,
                    )
                    outcome = "applied"
        except PoisonMessage as exc:
            await self._dead_letter(message, exc)
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
            # The window between this commit and the ack below, held open by crash tests only.
            await self._faults.hold(
                consumer_committed(self.name), {"event_id": envelope.event_id, "subject": envelope.subject}
            )
        EVENTS_CONSUMED.labels(self.name, outcome).inc()
        try:
            await message.ack()
        except Exception as exc:
            # The effect is committed; the redelivery that follows is caught by the inbox.
            log.warning("ack failed", consumer=self.name, error=repr(exc))

    async def _dead_letter(self, message: Msg, exc: PoisonMessage) -> None:
        sequence = message.metadata.sequence.stream
        try:
            async with self._db.unit_of_work() as session:
                kept = await self._inbox.dead_letter(
                    session,
                    consumer=self.name,
                    stream=self._stream.name,
                    stream_sequence=sequence,
                    subject=message.subject,
                    payload=message.data,
                    reason=str(exc),
                )
        except Exception as store_exc:
            await self._retry(message, store_exc)
            return
        if kept:
            log.error(
                "event dead-lettered",
                consumer=self.name,
                subject=message.subject,
                stream_sequence=sequence,
                reason=str(exc),
            )
            subject = message.subject if message.subject in self._contracts else "other"
            reason = re.sub(r"\[\d+\]", "[]", exc.violations[0].field)
            EVENTS_DEAD_LETTERED.labels(self._stream.name, subject, reason).inc()
            EVENTS_CONSUMED.labels(self.name, "dead_lettered").inc()
        try:
            await message.ack()
        except Exception as ack_exc:
            # Kept already; the redelivery that follows is recognised by its stream sequence.
            log.warning("ack failed", consumer=self.name, error=repr(ack_exc))

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
