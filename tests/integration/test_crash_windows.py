"""Crashes forced into the windows where delivery is decided (issue 17.2), each held open by a
fault point (`qlcb_common.faults`), not hit by timing:

- personnel killed after JetStream acknowledged a relay batch and before its rows were marked;
- reports and identity killed after committing an effect and before acknowledging its message;
- identity killed in its own relay's window, a delegation in the batch;
- NATS killed (SIGKILL) while personnel's relay holds a batch, and PostgreSQL stopped immediately,
  each under write load.

They run on a stack of their own beside the suite's: the suite's Keycloak, but a bus, a PostgreSQL
cluster and identity, personnel and reports of their own, so what they kill is theirs and what they
count is what they wrote. Each test ends once every relay and consumer has drained, counting the
same events in the stream, in each consumer's inbox, in its effects and among the writes
acknowledged to the client: each exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import random
import shutil
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from qlcb.identity.v1 import events_pb2 as identity_events
from qlcb.personnel.v1 import events_pb2, personnel_pb2, personnel_pb2_grpc
from qlcb_common.days import vietnam_today
from qlcb_common.events import streams, subjects
from qlcb_common.events.envelope import parse, unpack
from qlcb_common.faults import RELAY_PUBLISHED, arm, consumer_committed, held
from qlcb_devstack import demo
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.ports import StackPorts
from qlcb_devstack.postgres import PostgresCluster
from qlcb_devstack.stack import DATABASES, ServiceStack
from qlcb_identity.unit_groups.projection import group_id
from tests.support import System, api_client, eventually, metric_at, unique_code

SERVICES = ("identity", "personnel", "reports")
CONSUMERS = (
    (streams.PERSONNEL.name, "reports-personnel"),
    (streams.PERSONNEL.name, "identity-units"),
    (streams.PERSONNEL.name, "identity-lifecycle"),
    (streams.IDENTITY.name, "personnel-delegations"),
    (streams.IDENTITY.name, "reports-delegations"),
)
RELAYS = ("personnel", "identity")
ACK_WAIT = 5.0
"""Seconds before a message delivered to a consumer that was then killed comes back (30 by default)."""
DRAIN_TIMEOUT = 150
CONSUMED = "qlcb_events_consumed_total"
DEDUPLICATED = "qlcb_outbox_events_deduplicated_total"
ROOT = demo.UNITS_BY_CODE["TCHQ"]
ROOT_PATH = ROOT.path(demo.UNITS_BY_CODE)
UNMARKED = "SELECT count(*) FROM outbox WHERE published_at IS NULL"


@dataclass
class Writes:
    """What the clients were told is stored: created, or (asked again after an error) already
    there from the attempt that failed. Every write is asked until one of the two."""

    persons: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)
    failures: int = 0

    async def count(self) -> int:
        return len(self.persons)

    async def failed(self) -> int:
        return self.failures


@dataclass
class CrashStack:
    system: System
    services: ServiceStack
    bus: NatsServer
    postgres: PostgresCluster
    root_id: str = ""
    test_units: list[str] = field(default_factory=list)
    numbers: Iterator[int] = field(default_factory=itertools.count)
    prefix: int = field(default_factory=lambda: random.randrange(10**6))

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.system.token('quantri')}"),)

    def faults(self, service: str) -> Path:
        return self.services.fault_points_dir(service)

    def dsn(self, database: str) -> str:
        return self.postgres.dsn(database, driver="postgresql")

    def person(self, unit_id: str) -> personnel_pb2.CreatePersonRequest:
        n = next(self.numbers)
        return personnel_pb2.CreatePersonRequest(
            personal_id=f"{self.prefix:06d}{n:06d}",
            staff_number=unique_code("C"),
            full_name=f"Phạm Văn Sự Cố {n}",
            date_of_birth="1986-04-12",
            sex=personnel_pb2.SEX_MALE,
            unit_id=unit_id,
        )

    async def create_unit(
        self, code: str, name: str, kind: personnel_pb2.UnitKind.ValueType, parent_id: str = ""
    ) -> personnel_pb2.Unit:
        async with grpc.aio.insecure_channel(self.services.personnel_target) as channel:
            reply = await personnel_pb2_grpc.PersonnelServiceStub(channel).CreateUnit(
                personnel_pb2.CreateUnitRequest(code=code, name=name, kind=kind, parent_id=parent_id),
                metadata=self.metadata,
                timeout=10,
            )
        unit: personnel_pb2.Unit = reply.unit
        return unit

    async def new_unit(self) -> personnel_pb2.Unit:
        """A unit of the test's own under the root; its group in Keycloak goes at teardown."""
        code = unique_code("KX")
        self.test_units.append(code)
        return await self.create_unit(
            code, f"Cục thử sự cố {code}", personnel_pb2.UNIT_KIND_PROVINCIAL_DEPARTMENT, self.root_id
        )

    async def kill_and_restart(self, *names: str) -> None:
        """SIGKILL, then start again with every fault point disarmed (the dead process's
        `.held` files stay behind otherwise)."""
        for name in names:
            self.services.kill(name)
        for name in names:
            _disarm(self.faults(name))
            self.services.start(name)
        await asyncio.gather(*(self.services.wait_ready(name, timeout=120) for name in names))

    async def restore(self) -> None:
        """Whatever a test stopped runs again, and no fault point stays armed."""
        if not self.bus.is_running:
            self.bus.start()
            await asyncio.to_thread(self.bus.wait_ready)
        if not await asyncio.to_thread(lambda: self.postgres.is_running):
            await asyncio.to_thread(self.postgres.start)
        for name in SERVICES:
            _disarm(self.faults(name))
            if not self.services.processes[name].is_running:
                self.services.start(name)
        await asyncio.gather(*(self.services.wait_ready(name, timeout=120) for name in SERVICES))

    async def metric(self, service: str, sample: str, labels: dict[str, str]) -> float:
        return await metric_at(self.services.ops_url(service), sample, labels)


def _disarm(directory: Path) -> None:
    if directory.is_dir():
        for leftover in directory.iterdir():
            leftover.unlink(missing_ok=True)


def _forget_groups(stack: CrashStack) -> None:
    """The groups identity made in the suite's Keycloak for the tests' units (the root, /TCHQ,
    is the suite's own and stays)."""
    admin = stack.system.infra.keycloak_admin()
    for code in stack.test_units:
        if (found := group_id(admin, f"{ROOT_PATH}/{code}")) is not None:
            admin.delete_group(found)


@pytest.fixture(scope="module")
async def crash_stack(system: System, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CrashStack]:
    run_dir = tmp_path_factory.mktemp("crash-stack")
    bus = NatsServer(run_dir / "nats")
    # Outside pytest's folders: the tests call pg_ctl (as the postgres user) again and again, and
    # any pytest run as the same user takes others' access to /tmp/pytest-of-<user> back.
    postgres = PostgresCluster(Path(tempfile.mkdtemp(prefix="qlcb-crash-")) / "postgres")
    try:
        bus.start()
        await asyncio.to_thread(postgres.start)
        for database in DATABASES:
            await asyncio.to_thread(postgres.create_database, database)
        await asyncio.to_thread(bus.wait_ready)
        infra = dataclasses.replace(system.infra, nats=bus, postgres=postgres, ports=StackPorts.free())
        # The audit chain's head is published once, at the first seal after each start, not while a
        # test holds the outbox's relay and counts what it sends (ADR 0050).
        services = ServiceStack(
            infra,
            run_dir,
            fault_points=True,
            ack_wait=ACK_WAIT,
            settings={"personnel": {"QLCB_PERSONNEL_AUDIT_HEAD_PUBLISH_INTERVAL_SECONDS": "86400"}},
        )
        stack = CrashStack(system=system, services=services, bus=bus, postgres=postgres)
        try:
            await stack.restore()
            # The suite's root again (the tokens' unit; its group in Keycloak keeps its name).
            root = await stack.create_unit(ROOT.code, ROOT.name, personnel_pb2.UNIT_KIND_GENERAL_DEPARTMENT)
            stack.root_id = root.id
            yield stack
        finally:
            services.stop_all()
            await asyncio.to_thread(_forget_groups, stack)
    finally:
        bus.stop()
        await asyncio.to_thread(postgres.destroy)
        shutil.rmtree(postgres.data_dir.parent, ignore_errors=True)


@pytest.fixture
async def stack(crash_stack: CrashStack) -> AsyncIterator[CrashStack]:
    """The module's stack, whole and drained when a test starts (so the first event a fault point
    holds is the test's own), and running whole again after it whatever it killed."""
    await _drained(crash_stack)
    try:
        yield crash_stack
    finally:
        await crash_stack.restore()


@contextlib.asynccontextmanager
async def _bus(stack: CrashStack) -> AsyncIterator[JetStreamContext]:
    user, password = stack.bus.credentials("ops")
    nc = await nats.connect(stack.bus.url, user=user, password=password, allow_reconnect=False, connect_timeout=5)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


async def _stream_messages(stack: CrashStack, stream: str, *, leaving_out: tuple[str, ...] = ()) -> int:
    """The messages the stream holds, but those on the subjects `leaving_out`."""
    async with _bus(stack) as js:
        if not leaving_out:
            return int((await js.stream_info(stream)).state.messages)
        state = (await js.stream_info(stream, subjects_filter=">")).state
        return sum(count for subject, count in (state.subjects or {}).items() if subject not in leaving_out)


async def _events(stack: CrashStack, stream: str, subject: str) -> list[tuple[str, bytes]]:
    """(event id, payload) of every message on `subject` in the stream, in order."""
    found: list[tuple[str, bytes]] = []
    async with _bus(stack) as js:
        sequence = 1
        while True:
            try:
                message = await js.get_msg(stream, seq=sequence, subject=subject, next=True)
            except NotFoundError:
                return found
            assert message.data is not None
            assert message.seq is not None
            envelope = parse(message.data)
            found.append((envelope.event_id, message.data))
            sequence = message.seq + 1


async def _backlog(stack: CrashStack) -> dict[str, int]:
    """What is still on its way: outbox rows not marked published, and for each consumer the
    messages not yet delivered plus those delivered and not yet acknowledged."""
    left: dict[str, int] = {}
    for service in RELAYS:
        left[f"{service} outbox"] = await _scalar(stack, service, UNMARKED)
    async with _bus(stack) as js:
        for stream, consumer in CONSUMERS:
            try:
                info = await js.consumer_info(stream, consumer)
            except NotFoundError:
                left[consumer] = -1
                continue
            left[consumer] = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
    return left


async def _drained(stack: CrashStack) -> None:
    await eventually(
        lambda: _backlog(stack),
        lambda left: not any(left.values()),
        timeout=DRAIN_TIMEOUT,
        what="every relay and consumer to drain",
    )


async def _scalar(stack: CrashStack, database: str, sql: str, *args: Any) -> int:
    conn = await asyncpg.connect(stack.dsn(database))
    try:
        return int(await conn.fetchval(sql, *args) or 0)
    finally:
        await conn.close()


async def _inbox_rows(stack: CrashStack, database: str, consumer: str, event_ids: list[str]) -> int:
    return await _scalar(
        stack,
        database,
        "SELECT count(*) FROM processed_events WHERE consumer = $1 AND event_id = ANY($2::text[])",
        consumer,
        event_ids,
    )


async def _known_to_reports(stack: CrashStack, unit_id: str) -> None:
    async def known() -> int:
        return await _scalar(stack, "reports", "SELECT count(*) FROM unit_headcounts WHERE unit_id = $1", unit_id)

    await eventually(known, lambda n: n == 1, timeout=60, what="reports to know the unit")


async def _persons_exactly_once(stack: CrashStack, unit: personnel_pb2.Unit, acknowledged: set[str]) -> list[str]:
    """Once drained: each person acknowledged is created once in the stream, in reports' and in
    identity's inbox and in their effects (the unit's headcount, identity's holders), and no other
    is; returns the event ids."""
    events: dict[str, list[str]] = {}
    for event_id, data in await _events(stack, streams.PERSONNEL.name, subjects.PERSONNEL_PERSON_CREATED):
        created = unpack(parse(data), events_pb2.PersonCreated)
        if created.person.unit_id == unit.id:
            events.setdefault(created.person.personal_id, []).append(event_id)
    twice = {personal_id: ids for personal_id, ids in events.items() if len(ids) > 1}
    assert not twice, f"stored twice in the stream: {twice}"
    assert set(events) == acknowledged, "the stream holds exactly the acknowledged writes"
    event_ids = [ids[0] for ids in events.values()]
    n = len(acknowledged)
    assert await _scalar(stack, "personnel", "SELECT count(*) FROM persons WHERE unit_id = $1", unit.id) == n
    assert await _inbox_rows(stack, "reports", "reports-personnel", event_ids) == n
    assert await _inbox_rows(stack, "identity", "identity-lifecycle", event_ids) == n
    headcount = "SELECT headcount FROM unit_headcounts WHERE unit_id = $1"
    assert await _scalar(stack, "reports", headcount, unit.id) == n, "reports counted each person once"
    holders = "SELECT count(*) FROM holders WHERE unit_path = $1"
    assert await _scalar(stack, "identity", holders, unit.path) == n, "identity holds each person once"
    return event_ids


async def _units_exactly_once(stack: CrashStack, parent: personnel_pb2.Unit, acknowledged: set[str]) -> list[str]:
    """Once drained: each sub-unit acknowledged is established once in the stream, in reports' and
    identity's inbox, as a node in reports and as a group in Keycloak, and no other is; returns the
    event ids."""
    events: Counter[str] = Counter()
    event_ids: list[str] = []
    for event_id, data in await _events(stack, streams.PERSONNEL.name, subjects.PERSONNEL_UNIT_ESTABLISHED):
        unit = unpack(parse(data), events_pb2.UnitEstablished).unit
        if unit.parent_id == parent.id:
            events[unit.code] += 1
            event_ids.append(event_id)
    assert all(count == 1 for count in events.values()), f"stored twice in the stream: {events}"
    assert set(events) == acknowledged
    n = len(acknowledged)
    assert await _inbox_rows(stack, "reports", "reports-personnel", event_ids) == n
    assert await _inbox_rows(stack, "identity", "identity-units", event_ids) == n
    nodes = "SELECT count(*) FROM unit_nodes WHERE parent_id = $1"
    assert await _scalar(stack, "reports", nodes, parent.id) == n
    admin = stack.system.infra.keycloak_admin()
    parent_group = await asyncio.to_thread(group_id, admin, parent.path)
    assert parent_group is not None
    children = await asyncio.to_thread(admin.get_group_children, parent_group, {"first": 0, "max": 100})
    assert sorted(child["name"] for child in children) == sorted(acknowledged)
    return event_ids


async def _until_held(directory: Path, point: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        return held(directory, point)

    detail = await eventually(probe, lambda found: found is not None, timeout=60, what=f"a caller held at {point}")
    assert detail is not None
    return detail


async def _write_persons(stack: CrashStack, unit_id: str, writes: Writes, stop: asyncio.Event) -> None:
    async with grpc.aio.insecure_channel(stack.services.personnel_target) as channel:
        stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
        while not stop.is_set():
            request = stack.person(unit_id)
            await _until_answered(stub.CreatePerson, request, stack, writes)
            writes.persons.add(request.personal_id)


async def _write_units(stack: CrashStack, parent_id: str, writes: Writes, stop: asyncio.Event) -> None:
    async with grpc.aio.insecure_channel(stack.services.personnel_target) as channel:
        stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
        while not stop.is_set():
            code = unique_code("KS")
            request = personnel_pb2.CreateUnitRequest(
                code=code, name=f"Chi cục thử sự cố {code}", kind=personnel_pb2.UNIT_KIND_SUB_UNIT, parent_id=parent_id
            )
            await _until_answered(stub.CreateUnit, request, stack, writes)
            writes.units.add(code)


async def _until_answered(call: Any, request: Any, stack: CrashStack, writes: Writes) -> None:
    """Asks until the write is stored: created, or found already there after an attempt whose
    answer was lost (personal ids and unit codes are unique to each write)."""
    while True:
        try:
            await call(request, metadata=stack.metadata, timeout=5)
            return
        except grpc.aio.AioRpcError as error:
            if error.code() is grpc.StatusCode.ALREADY_EXISTS:
                return
            writes.failures += 1
            await asyncio.sleep(0.2)  # a client's pause before asking again, not a wait for a condition


@contextlib.asynccontextmanager
async def _under_load(stack: CrashStack, unit: personnel_pb2.Unit) -> AsyncIterator[Writes]:
    """Three clients creating people in `unit` and one creating units below it, until the block ends."""
    writes, stop = Writes(), asyncio.Event()
    clients = [asyncio.create_task(_write_persons(stack, unit.id, writes, stop)) for _ in range(3)]
    clients.append(asyncio.create_task(_write_units(stack, unit.id, writes, stop)))
    try:
        yield writes
    finally:
        stop.set()
        await asyncio.gather(*clients)


async def _more_writes(writes: Writes, at_least: int, what: str) -> None:
    target = len(writes.persons) + at_least
    await eventually(writes.count, lambda n: n >= target, timeout=90, what=what)


async def test_personnel_killed_between_jetstream_ack_and_mark_republishes_into_the_duplicate_window(
    stack: CrashStack,
) -> None:
    unit = await stack.new_unit()
    await _drained(stack)
    arm(stack.faults("personnel"), RELAY_PUBLISHED)
    writes = Writes()
    async with grpc.aio.insecure_channel(stack.services.personnel_target) as channel:
        stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
        for _ in range(12):
            request = stack.person(unit.id)
            await stub.CreatePerson(request, metadata=stack.metadata, timeout=10)
            writes.persons.add(request.personal_id)
    batch = (await _until_held(stack.faults("personnel"), RELAY_PUBLISHED))["event_ids"]
    # The head the sealer publishes at its first seal after the restart (ADR 0050) comes with the
    # trail's entries, not with the writes' events: heads are not counted.
    heads = (subjects.PERSONNEL_AUDIT_SEALED,)
    published = await _stream_messages(stack, streams.PERSONNEL.name, leaving_out=heads)
    unmarked = await _scalar(stack, "personnel", UNMARKED)
    assert unmarked == 12, "the held batch and every write after it wait to be marked"

    await stack.kill_and_restart("personnel")
    await _drained(stack)

    assert await _stream_messages(stack, streams.PERSONNEL.name, leaving_out=heads) == published + 12 - len(batch), (
        "the batch published again added nothing to the stream"
    )
    assert await stack.metric("personnel", DEDUPLICATED, {"service": "personnel"}) == len(batch)
    event_ids = await _persons_exactly_once(stack, unit, writes.persons)
    assert set(batch) <= set(event_ids)


async def test_consumers_killed_between_commit_and_ack_find_the_redelivery_in_their_inbox(
    stack: CrashStack,
) -> None:
    """reports (headcounts) and identity (groups, and holders for the account lifecycle), each
    killed holding a message whose effect it committed."""
    identity, reports = stack.faults("identity"), stack.faults("reports")
    arm(identity, consumer_committed("identity-units"))
    unit = await stack.new_unit()
    group = await _until_held(identity, consumer_committed("identity-units"))
    assert group["subject"] == subjects.PERSONNEL_UNIT_ESTABLISHED
    await _known_to_reports(stack, unit.id)
    arm(reports, consumer_committed("reports-personnel"))
    arm(identity, consumer_committed("identity-lifecycle"))
    writes = Writes()
    async with grpc.aio.insecure_channel(stack.services.personnel_target) as channel:
        stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
        for _ in range(10):
            request = stack.person(unit.id)
            await stub.CreatePerson(request, metadata=stack.metadata, timeout=10)
            writes.persons.add(request.personal_id)
    counted = await _until_held(reports, consumer_committed("reports-personnel"))
    holder = await _until_held(identity, consumer_committed("identity-lifecycle"))
    assert await _inbox_rows(stack, "reports", "reports-personnel", [counted["event_id"]]) == 1, "committed"
    assert await _inbox_rows(stack, "identity", "identity-lifecycle", [holder["event_id"]]) == 1, "committed"
    assert await _inbox_rows(stack, "identity", "identity-units", [group["event_id"]]) == 1, "committed"

    await stack.kill_and_restart("reports", "identity")
    await _drained(stack)

    for service, consumer in (("reports", "reports-personnel"), ("identity", "identity-lifecycle")):
        labels = {"consumer": consumer, "outcome": "duplicate"}
        assert await stack.metric(service, CONSUMED, labels) == 1, f"{consumer} dropped its redelivery"
    labels = {"consumer": "identity-units", "outcome": "duplicate"}
    assert await stack.metric("identity", CONSUMED, labels) == 1
    await _persons_exactly_once(stack, unit, writes.persons)
    units = await _events(stack, streams.PERSONNEL.name, subjects.PERSONNEL_UNIT_ESTABLISHED)
    ours = [event_id for event_id, data in units if unpack(parse(data), events_pb2.UnitEstablished).unit.id == unit.id]
    assert ours == [group["event_id"]]
    assert await _inbox_rows(stack, "identity", "identity-units", ours) == 1
    assert await _inbox_rows(stack, "reports", "reports-personnel", ours) == 1
    admin = stack.system.infra.keycloak_admin()
    assert await asyncio.to_thread(group_id, admin, unit.path) is not None


async def test_identity_killed_between_jetstream_ack_and_mark_delegates_once(stack: CrashStack) -> None:
    arm(stack.faults("identity"), RELAY_PUBLISHED)
    body = {
        "unit_path": f"{ROOT_PATH}/{unique_code('KD')}",
        "tiers": ["hq-unit"],
        "records": {"unit_path": f"{ROOT_PATH}/{unique_code('KR')}"},
        "sections": ["identity"],
        "actions": ["read"],
        "valid_from": vietnam_today().isoformat(),
        "reason": "Quyết định ủy quyền thử sự cố",
    }
    async with api_client(stack.services.identity_url, stack.system.token("vutccb")) as api:
        granted = await api.post("/v1/delegations", json=body)
    assert granted.status_code == 201, granted.text
    delegation_id = granted.json()["id"]
    batch = (await _until_held(stack.faults("identity"), RELAY_PUBLISHED))["event_ids"]
    published = await _stream_messages(stack, streams.IDENTITY.name)

    await stack.kill_and_restart("identity")
    await _drained(stack)

    assert await _stream_messages(stack, streams.IDENTITY.name) == published, "the stream did not grow"
    assert await stack.metric("identity", DEDUPLICATED, {"service": "identity"}) == len(batch)
    grants = [
        event_id
        for event_id, data in await _events(stack, streams.IDENTITY.name, subjects.IDENTITY_DELEGATION_GRANTED)
        if unpack(parse(data), identity_events.DelegationGranted).delegation.id == delegation_id
    ]
    assert len(grants) == 1
    assert grants[0] in batch
    for service in ("personnel", "reports"):
        assert await _inbox_rows(stack, service, f"{service}-delegations", grants) == 1
        rows = "SELECT count(*) FROM delegations WHERE id = $1"
        assert await _scalar(stack, service, rows, delegation_id) == 1, f"{service} enforces it once"


async def test_nats_killed_while_a_relay_batch_is_held_loses_and_doubles_nothing(stack: CrashStack) -> None:
    unit = await stack.new_unit()
    await _known_to_reports(stack, unit.id)
    async with _under_load(stack, unit) as writes:
        await _more_writes(writes, 10, "writes before the crash")
        arm(stack.faults("personnel"), RELAY_PUBLISHED)
        batch = (await _until_held(stack.faults("personnel"), RELAY_PUBLISHED))["event_ids"]
        stack.bus.kill()
        _disarm(stack.faults("personnel"))  # the relay marks the batch JetStream acknowledged
        await _more_writes(writes, 10, "writes while NATS is down")
        assert await _scalar(stack, "personnel", UNMARKED) > 0, "writes wait in the outbox"
        stack.bus.start()
        await asyncio.to_thread(stack.bus.wait_ready)
        await _more_writes(writes, 10, "writes after NATS is back")
    await _drained(stack)

    persons = await _persons_exactly_once(stack, unit, writes.persons)
    units = await _units_exactly_once(stack, unit, writes.units)
    assert set(batch) <= {*persons, *units}, "what JetStream acknowledged before the SIGKILL is there once"


async def test_postgres_stopped_immediately_under_load_loses_and_doubles_nothing(stack: CrashStack) -> None:
    unit = await stack.new_unit()
    await _known_to_reports(stack, unit.id)
    async with _under_load(stack, unit) as writes:
        await _more_writes(writes, 10, "writes before the crash")
        failures = writes.failures
        await asyncio.to_thread(stack.postgres.kill)
        await eventually(writes.failed, lambda n: n > failures, timeout=30, what="writes refused while it is down")
        await asyncio.to_thread(stack.postgres.start)
        await _more_writes(writes, 10, "writes after PostgreSQL is back")
    await _drained(stack)

    await _persons_exactly_once(stack, unit, writes.persons)
    await _units_exactly_once(stack, unit, writes.units)
