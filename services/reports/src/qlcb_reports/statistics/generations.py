"""The generations of the statistics read-model and the consumers that build them (ADR 0031).

A rebuild adds a `building` generation; every replica's supervisor starts a durable consumer of
its own name for it, which replays personnel's stream from the start into the new generation's rows
through the inbox (under that consumer's name, so nothing the serving one applied is skipped and
nothing is applied twice, a restart mid-replay included) while the serving generation keeps
answering. Once that consumer has nothing pending and nothing unacknowledged, the supervisor
switches in one transaction: the new generation serves, the old one is retired; then the old one's
rows and inbox entries are removed. Its consumer, no longer pulled from, is removed by the server
once idle for `IDLE_CONSUMER_SECONDS` (reports may not delete consumers: its bus user could then
delete any consumer of personnel's stream)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

import structlog
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from prometheus_client import Gauge
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb_common.db import Database
from qlcb_common.errors import FailedPrecondition
from qlcb_common.events import streams
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.contracts import PERSONNEL_EVENTS
from qlcb_common.events.inbox import Inbox
from qlcb_common.faults import NO_FAULT_POINTS, FaultPoints
from qlcb_common.settings import KEEP_EVERY_ID, ConsumerPolicy
from qlcb_common.shutdown import Stopping
from qlcb_reports.statistics import profiles
from qlcb_reports.statistics.models import (
    StatCode,
    StatFact,
    StatGeneration,
    StatPerson,
    StatProfile,
    StatProfileDay,
    StatQuota,
)
from qlcb_reports.statistics.projection import SUBJECTS, Projection

log = structlog.get_logger(__name__)

BUILDING, SERVING, RETIRED, REMOVED = "building", "serving", "retired", "removed"
CONSUMER_PREFIX = "reports-statistics-"
TABLES = (StatFact, StatPerson, StatCode, StatQuota, StatProfile, StatProfileDay)
BATCH = 200
"""Events applied in one transaction: a replay's cost is the commits (ADR 0031, Throughput); a batch
holds the store's writer that long on SQLite."""
ANALYZED_FROM = 4
"""The first batch before which `Analyzed` samples the tables."""
PROFILE_DAYS_MISSING = Gauge(
    "qlcb_statistics_profile_days_missing",
    "Days the serving generation's statistics profiles should be stored for (today, the recent half years' ends) and "
    "are not, after the supervisor's last step: forms of those days are worked out from the facts, slower",
)
IDLE_CONSUMER_SECONDS = 7 * 24 * 3600.0
"""How long the server keeps a generation's consumer nobody pulls from: after a reports outage longer
than this, the consumer is made again after its inbox's mark (ADR 0056) and what it had applied past
the mark comes again, which the inbox makes count nothing twice."""


def consumer_name(generation: int) -> str:
    return f"{CONSUMER_PREFIX}{generation}"


async def ensure_first(session: AsyncSession) -> None:
    """The first generation, serving from the start (it fills as the stream is read)."""
    if await session.scalar(select(func.count()).select_from(StatGeneration)) == 0:
        session.add(
            StatGeneration(
                id=1, state=SERVING, consumer=consumer_name(1), started_at=datetime.now(UTC), requested_by=""
            )
        )


async def request_rebuild(session: AsyncSession, requested_by: str) -> StatGeneration:
    """A new generation to build beside the serving one (FAILED_PRECONDITION while one is building)."""
    await session.execute(select(StatGeneration.id).with_for_update())
    building = await session.scalar(select(StatGeneration).where(StatGeneration.state == BUILDING))
    if building is not None:
        raise FailedPrecondition(f"Đang dựng lại số liệu thống kê (thế hệ {building.id}), chưa xong")
    number = int(await session.scalar(select(func.coalesce(func.max(StatGeneration.id), 0))) or 0) + 1
    generation = StatGeneration(
        id=number,
        state=BUILDING,
        consumer=consumer_name(number),
        started_at=datetime.now(UTC),
        requested_by=requested_by,
    )
    session.add(generation)
    return generation


async def listed(session: AsyncSession) -> list[StatGeneration]:
    return list(await session.scalars(select(StatGeneration).order_by(StatGeneration.id)))


class Analyzed:
    """Keeps the query planner's statistics of the tables a consumer fills in step with them: before
    its 4th, 8th, 16th, … batch (each time the rows it added have about doubled), in the batch's
    transaction. Autovacuum samples a table a minute or more after it grew; a replay meanwhile read
    a table it believed empty through the index's first column only, a scan of every row already
    written for each batch, so that it slowed as it went (ADR 0031, Throughput)."""

    def __init__(self, projection: Projection, tables: Sequence[str]) -> None:
        self._projection = projection
        self._tables = tuple(tables)
        self._batches = 0

    async def prepare(self, session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        self._batches += 1
        if self._batches >= ANALYZED_FROM and self._batches & (self._batches - 1) == 0:
            for table in self._tables:
                await session.execute(text(f"ANALYZE {table}"))
        await self._projection.prepare(session, envelopes)


class Supervisor:
    """Runs a consumer for each generation serving or building, switches a built one in, and removes
    what a retired one left."""

    name = "reports-statistics"

    def __init__(
        self,
        *,
        db: Database,
        inbox: Inbox,
        js: JetStreamContext,
        poll_seconds: float,
        policy: ConsumerPolicy = KEEP_EVERY_ID,
        today: Callable[[], date] = date.today,
        stored_years: int = 5,
        faults: FaultPoints = NO_FAULT_POINTS,
    ) -> None:
        self._db = db
        self._today = today
        self._years = stored_years
        self._policy = policy
        self._inbox = inbox
        self._js = js
        self._poll = poll_seconds
        self._faults = faults
        self._running: dict[int, tuple[asyncio.Task[None], Stopping]] = {}

    def consumer(self, generation: int) -> DurableConsumer:
        projection = Projection(generation)
        analyzed = Analyzed(projection, [*(table.__tablename__ for table in TABLES), self._inbox.table.name])
        return DurableConsumer(
            name=consumer_name(generation),
            stream=streams.PERSONNEL,
            filter_subjects=list(SUBJECTS),
            db=self._db,
            inbox=self._inbox,
            js=self._js,
            contracts=PERSONNEL_EVENTS,
            handler=projection.apply,
            prepare=analyzed.prepare,
            finish=functools.partial(profiles.follow, generation=generation),
            inactive_threshold=IDLE_CONSUMER_SECONDS,
            batch_size=BATCH,
            batch_transactions=True,
            policy=self._policy,
            faults=self._faults,
        )

    async def run(self, stopping: Stopping) -> None:
        try:
            while not stopping.is_set():
                try:
                    await self.step()
                except Exception as exc:
                    log.warning("statistics supervisor step failed; will retry", error=repr(exc))
                await stopping.sleep(self._poll)
        finally:
            for _, stop in self._running.values():
                stop.set()
            await asyncio.gather(*(task for task, _ in self._running.values()), return_exceptions=True)

    async def step(self) -> None:
        async with self._db.unit_of_work() as session:
            await ensure_first(session)
        async with self._db.unit_of_work() as session:
            generations = await listed(session)
        live = {g.id for g in generations if g.state in (SERVING, BUILDING)}
        for number in live - set(self._running):
            stop = Stopping()
            task = asyncio.create_task(self.consumer(number).run(stop), name=consumer_name(number))
            self._running[number] = (task, stop)
        for number in set(self._running) - live:
            task, stop = self._running.pop(number)
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
        for generation in generations:
            if generation.state == SERVING:
                try:
                    await profiles.keep_current(self._db, generation.id, self._today(), years=self._years)
                finally:
                    await self._count_missing(generation.id)
        for generation in generations:
            if generation.state == BUILDING and await self._caught_up(generation.consumer):
                await self._switch(generation.id)
        for generation in generations:
            if generation.state == RETIRED and generation.id not in self._running:
                await self._clear(generation)

    async def _count_missing(self, generation: int) -> None:
        async with self._db.unit_of_work() as session:
            PROFILE_DAYS_MISSING.set(await profiles.missing(session, generation, self._today(), self._years))

    async def _caught_up(self, consumer: str) -> bool:
        try:
            info = await self._js.consumer_info(streams.PERSONNEL.name, consumer)
        except NotFoundError:
            return False
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    async def _analyze(self) -> None:
        """Refreshes the query planner's statistics of the model's tables. A rebuilt generation's rows
        were all written since the store last sampled them: a form's plan made for a generation the
        planner believes empty ran past the gateway's deadline (a form read right after a switch
        answered 504 in CI). So before a generation serves, and after a retired one is deleted."""
        async with self._db.unit_of_work() as session:
            for table in TABLES:
                await session.execute(text(f"ANALYZE {table.__tablename__}"))

    async def _switch(self, number: int) -> None:
        await self._analyze()
        async with self._db.unit_of_work() as session:
            await session.execute(select(StatGeneration.id).with_for_update())
            building = await session.get(StatGeneration, number)
            if building is None or building.state != BUILDING:
                return  # another replica switched it
            await session.execute(update(StatGeneration).where(StatGeneration.state == SERVING).values(state=RETIRED))
            building.state = SERVING
            building.switched_at = datetime.now(UTC)
        log.info("statistics generation switched in", generation=number)

    async def _clear(self, generation: StatGeneration) -> None:
        """Deletes a retired generation's rows, inbox entries and mark; its row stays, `removed`, as the
        history of rebuilds."""
        async with self._db.unit_of_work() as session:
            for table in TABLES:
                await session.execute(delete(table).where(table.generation == generation.id))
            await self._inbox.forget(session, consumer=generation.consumer)
            await session.execute(
                update(StatGeneration).where(StatGeneration.id == generation.id).values(state=REMOVED)
            )
        await self._analyze()
