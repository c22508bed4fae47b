"""Graceful restarts (issue 13.6): two replicas of personnel and two of reports, local processes
behind the real gateway, under a steady load of reads and writes from several clients; each replica
is restarted in turn (SIGTERM, started again, and the next only once the gateway sends the restarted
one calls again). No request fails, every write is stored exactly once, and every event personnel
published is consumed exactly once by reports, whose two replicas share one durable consumer.

Each SIGTERM comes while the replica holds something, held there by a fault point
(`qlcb_common.faults`) rather than caught by timing: a CreatePerson call in flight on personnel's,
an event committed and not yet acknowledged on reports'. Each finishes it and exits 0.

The negative, with the same checker and the same held write: a personnel replica SIGKILLed, or
stopped with its drain turned off, fails that write (503: the gateway never retries a write the
replica may have committed), while the reads it had are retried on the other replica.

They run on a stack of their own beside the suite's, sharing only its Keycloak: a bus, a PostgreSQL
cluster, the replicas and a gateway (no identity, no backup: the load does not reach them).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import shutil
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from prometheus_client.parser import text_string_to_metric_families

from qlcb.personnel.v1 import events_pb2
from qlcb_common.events import streams, subjects
from qlcb_common.events.envelope import parse, unpack
from qlcb_common.faults import arm, consumer_committed, grpc_call, held, release
from qlcb_common.grpc_runtime import DRAINING_CALLS, STOPPING_WORKERS
from qlcb_devstack import demo
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.ports import StackPorts
from qlcb_devstack.postgres import PostgresCluster
from qlcb_devstack.stack import DATABASES, ServiceStack
from tests.support import System, eventually, person_body, unique_code

REPLICAS = {"personnel": 2, "reports": 2}
RUNNING = ("personnel", "personnel-2", "reports", "reports-2", "gateway")
"""The processes of this stack, in start order."""
RESTART_ORDER = ("personnel", "personnel-2", "reports", "reports-2")
ROOT = demo.UNITS_BY_CODE["TCHQ"]
DRAIN_TIMEOUT = 90
CONSUMER = "reports-personnel"


@dataclass
class Load:
    """What the clients were told. Every request is recorded: a write as acknowledged or failed,
    a failure of any request with its method, path and status (or transport error)."""

    persons: set[str] = field(default_factory=set)
    person_ids: list[str] = field(default_factory=list)
    units: set[str] = field(default_factory=set)
    reads: int = 0
    attempted_persons: set[str] = field(default_factory=set)
    attempted_units: set[str] = field(default_factory=set)
    failures: list[tuple[str, str, str]] = field(default_factory=list)

    async def writes(self) -> int:
        return len(self.persons) + len(self.units)

    async def failed(self) -> int:
        return len(self.failures)


@dataclass
class RestartStack:
    system: System
    services: ServiceStack
    bus: NatsServer
    postgres: PostgresCluster
    token: str = ""

    def dsn(self, database: str) -> str:
        return self.postgres.dsn(database, driver="postgresql")

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.services.gateway_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    async def refresh_token(self) -> None:
        self.token = await asyncio.to_thread(self.system.token, "quantri")


@pytest.fixture(scope="module")
async def stack(system: System, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RestartStack]:
    run_dir = tmp_path_factory.mktemp("restart-stack")
    bus = NatsServer(run_dir / "nats")
    # Outside pytest's folders, as the crash tests' cluster (pg_ctl runs as the postgres user).
    postgres = PostgresCluster(Path(tempfile.mkdtemp(prefix="qlcb-restart-")) / "postgres")
    try:
        bus.start()
        await asyncio.to_thread(postgres.start)
        for database in DATABASES:
            await asyncio.to_thread(postgres.create_database, database)
        await asyncio.to_thread(bus.wait_ready)
        # Identity does not run here; the stream it owns (delegations) is made as it would make it.
        async with _bus(bus) as js:
            await streams.ensure_streams(js, streams.IDENTITY)
        infra = dataclasses.replace(system.infra, nats=bus, postgres=postgres, ports=StackPorts.free())
        services = ServiceStack(infra, run_dir, replicas=REPLICAS, fault_points=True)
        stack = RestartStack(system=system, services=services, bus=bus, postgres=postgres)
        try:
            for name in RUNNING:
                services.start(name)
            await asyncio.gather(*(services.wait_ready(name, timeout=120) for name in RUNNING))
            await stack.refresh_token()
            async with stack.api() as api:
                root = {"code": ROOT.code, "name": ROOT.name, "kind": "general_department"}
                created = await api.post("/v1/units", json=root)
                assert created.status_code == 201, created.text
            yield stack
        finally:
            services.stop_all()
    finally:
        bus.stop()
        await asyncio.to_thread(postgres.destroy)
        shutil.rmtree(postgres.data_dir.parent, ignore_errors=True)


@contextlib.asynccontextmanager
async def _bus(bus: NatsServer) -> AsyncIterator[JetStreamContext]:
    user, password = bus.credentials("ops")
    nc = await nats.connect(bus.url, user=user, password=password, allow_reconnect=False, connect_timeout=5)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


async def _scalar(stack: RestartStack, database: str, sql: str, *args: Any) -> int:
    conn = await asyncpg.connect(stack.dsn(database))
    try:
        return int(await conn.fetchval(sql, *args) or 0)
    finally:
        await conn.close()


async def _column(stack: RestartStack, database: str, sql: str, *args: Any) -> list[str]:
    conn = await asyncpg.connect(stack.dsn(database))
    try:
        return [str(row[0]) for row in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def _calls_answered(stack: RestartStack, name: str) -> float:
    """The API calls (health checks left out) one process has answered since it started."""
    try:
        async with httpx.AsyncClient(base_url=stack.services.ops_url(name), timeout=5) as ops:
            text = (await ops.get("/metrics")).text
    except httpx.TransportError:
        return 0.0
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "qlcb_grpc_server_requests_total" and not sample.labels["method"].startswith("/grpc.")
    )


async def _backlog(stack: RestartStack) -> dict[str, int]:
    """What is still on its way: personnel's unpublished outbox rows, and the messages reports'
    consumer has not been delivered or has not acknowledged."""
    unmarked = await _scalar(stack, "personnel", "SELECT count(*) FROM outbox WHERE published_at IS NULL")
    async with _bus(stack.bus) as js:
        info = await js.consumer_info(streams.PERSONNEL.name, CONSUMER)
    return {
        "personnel outbox": unmarked,
        f"{CONSUMER} pending": int(info.num_pending or 0),
        f"{CONSUMER} unacknowledged": int(info.num_ack_pending or 0),
    }


async def _drained(stack: RestartStack) -> None:
    await eventually(
        lambda: _backlog(stack),
        lambda left: not any(left.values()),
        timeout=DRAIN_TIMEOUT,
        what="personnel's relay and reports' consumer to drain",
    )


async def _events(stack: RestartStack, subject: str) -> list[tuple[str, bytes]]:
    """(event id, envelope) of every message on `subject` in personnel's stream, in order."""
    found: list[tuple[str, bytes]] = []
    async with _bus(stack.bus) as js:
        sequence = 1
        while True:
            try:
                message = await js.get_msg(streams.PERSONNEL.name, seq=sequence, subject=subject, next=True)
            except NotFoundError:
                return found
            assert message.data is not None
            assert message.seq is not None
            found.append((parse(message.data).event_id, message.data))
            sequence = message.seq + 1


async def _new_unit(stack: RestartStack) -> str:
    """A unit of the test's own under the root, known to reports before the load starts."""
    root_id = await _column(stack, "personnel", "SELECT id FROM units WHERE code = $1", ROOT.code)
    async with stack.api() as api:
        body = {"code": unique_code("GR"), "name": "Chi cục thử khởi động lại", "kind": "sub_unit"}
        created = await api.post("/v1/units", json={**body, "parent_id": root_id[0]})
        assert created.status_code == 201, created.text
        unit_id: str = created.json()["id"]

        async def headcount() -> int:
            response = await api.get(f"/v1/units/{unit_id}/headcount")
            return int(response.json()["headcount"]) if response.status_code == 200 else -1

        await eventually(headcount, lambda n: n == 0, timeout=60, what="reports to know the unit")
    return unit_id


async def _request(api: httpx.AsyncClient, load: Load, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
    """One request; anything but a 2xx answer is a failure, recorded with what was asked."""
    try:
        response = await api.request(method, path, **kwargs)
    except httpx.TransportError as error:
        load.failures.append((method, path, repr(error)))
        return None
    if not response.is_success:
        load.failures.append((method, path, f"{response.status_code} {response.text[:300]}"))
        return None
    return response


async def _write_persons(stack: RestartStack, unit_id: str, load: Load, stop: asyncio.Event, pause: float) -> None:
    async with stack.api() as api:
        while not stop.is_set():
            body = person_body(unit_id, "Nguyễn Văn Khởi Động")
            load.attempted_persons.add(body["personal_id"])
            if (response := await _request(api, load, "POST", "/v1/persons", json=body)) is not None:
                load.persons.add(body["personal_id"])
                load.person_ids.append(response.json()["id"])
            await asyncio.sleep(pause)  # a client's pace, not a wait for a condition


async def _write_units(stack: RestartStack, unit_id: str, load: Load, stop: asyncio.Event, pause: float) -> None:
    async with stack.api() as api:
        while not stop.is_set():
            code = unique_code("GS")
            load.attempted_units.add(code)
            body = {"code": code, "name": f"Đội thử {code}", "kind": "sub_unit", "parent_id": unit_id}
            if await _request(api, load, "POST", "/v1/units", json=body) is not None:
                load.units.add(code)
            await asyncio.sleep(pause)  # a client's pace, not a wait for a condition


async def _read(stack: RestartStack, unit_id: str, load: Load, stop: asyncio.Event, pause: float) -> None:
    """Reads of both services in turn: personnel's lists and records, reports' headcount."""
    async with stack.api() as api:
        for turn in itertools.count():
            if stop.is_set():
                return
            paths = [f"/v1/units/{unit_id}/persons?page_size=20", f"/v1/units/{unit_id}/headcount"]
            if load.person_ids:
                paths.append(f"/v1/persons/{load.person_ids[turn % len(load.person_ids)]}")
            if await _request(api, load, "GET", paths[turn % len(paths)]) is not None:
                load.reads += 1
            await asyncio.sleep(pause)  # a client's pace, not a wait for a condition


@contextlib.asynccontextmanager
async def _under_load(stack: RestartStack, unit_id: str, *, pause: float) -> AsyncIterator[Load]:
    """Three clients creating people, one creating sub-units and three reading, until the block ends."""
    load, stop = Load(), asyncio.Event()
    clients = [asyncio.create_task(_write_persons(stack, unit_id, load, stop, pause)) for _ in range(3)]
    clients.append(asyncio.create_task(_write_units(stack, unit_id, load, stop, pause)))
    clients += [asyncio.create_task(_read(stack, unit_id, load, stop, pause)) for _ in range(3)]
    try:
        yield load
    finally:
        stop.set()
        await asyncio.gather(*clients)


async def _more_writes(load: Load, at_least: int, what: str) -> None:
    target = await load.writes() + at_least
    await eventually(load.writes, lambda n: n >= target, timeout=90, what=what)


async def _back_in_rotation(stack: RestartStack, name: str) -> None:
    """Ready, and answering the gateway's calls again (its channel has connected to it)."""
    await stack.services.wait_ready(name, timeout=120)
    await eventually(
        lambda: _calls_answered(stack, name), lambda n: n > 0, timeout=60, what=f"the gateway to call {name} again"
    )


async def _stored_exactly_once(stack: RestartStack, unit_id: str, load: Load) -> None:
    """Once drained: each person and sub-unit the clients were told is stored is stored once, and
    beside them only writes whose answer was a failure; each is created once in the stream, once in
    reports' inbox and counted once in its read-model, and nothing else is."""
    persons = await _column(stack, "personnel", "SELECT personal_id FROM persons WHERE unit_id = $1", unit_id)
    doubled = [pid for pid, n in Counter(persons).items() if n > 1]
    assert not doubled, f"stored twice: {doubled}"
    assert load.persons <= set(persons) <= load.attempted_persons, "personnel holds the acknowledged writes"
    units = await _column(stack, "personnel", "SELECT code FROM units WHERE parent_id = $1", unit_id)
    assert load.units <= set(units) <= load.attempted_units
    assert len(units) == len(set(units))

    created: Counter[str] = Counter()
    event_ids: list[str] = []
    for event_id, data in await _events(stack, subjects.PERSONNEL_PERSON_CREATED):
        person = unpack(parse(data), events_pb2.PersonCreated).person
        if person.unit_id == unit_id:
            created[person.personal_id] += 1
            event_ids.append(event_id)
    established: Counter[str] = Counter()
    for event_id, data in await _events(stack, subjects.PERSONNEL_UNIT_ESTABLISHED):
        unit = unpack(parse(data), events_pb2.UnitEstablished).unit
        if unit.parent_id == unit_id:
            established[unit.code] += 1
            event_ids.append(event_id)
    assert all(n == 1 for n in created.values()), f"published twice: {created.most_common(3)}"
    assert all(n == 1 for n in established.values()), f"published twice: {established.most_common(3)}"
    assert set(created) == set(persons), "one event per person stored, none for anything else"
    assert set(established) == set(units)

    inbox = "SELECT count(*) FROM processed_events WHERE consumer = $1 AND event_id = ANY($2::text[])"
    assert await _scalar(stack, "reports", inbox, CONSUMER, event_ids) == len(event_ids), "each consumed once"
    headcount = "SELECT headcount FROM unit_headcounts WHERE unit_id = $1"
    assert await _scalar(stack, "reports", headcount, unit_id) == len(persons), "reports counted each person once"
    nodes = "SELECT count(*) FROM unit_nodes WHERE parent_id = $1"
    assert await _scalar(stack, "reports", nodes, unit_id) == len(units)


async def _until_held(stack: RestartStack, name: str, point: str) -> dict[str, Any]:
    directory = stack.services.fault_points_dir(name)

    async def probe() -> dict[str, Any] | None:
        return held(directory, point)

    detail = await eventually(probe, lambda found: found is not None, timeout=60, what=f"{name} held at {point}")
    assert detail is not None
    return detail


async def _stopping_step(stack: RestartStack, name: str) -> str | None:
    """The step of its stop a process is at, as its /readyz says (None: not stopping, or gone)."""
    try:
        async with httpx.AsyncClient(base_url=stack.services.ops_url(name), timeout=5) as ops:
            step: str | None = (await ops.get("/readyz")).json().get("stopping")
    except httpx.TransportError:
        return None
    return step


async def _stop_holding(stack: RestartStack, name: str) -> int | None:
    """SIGTERM while the replica holds something in hand, held there by a fault point, released only
    once the replica is at the step of its stop that must wait for it: on personnel, a CreatePerson
    call in flight, released once new calls are refused; on reports, an event whose effect is
    committed and not yet acknowledged, released once the workers are asked to stop. Returns the
    exit status."""
    if name.startswith("personnel"):
        point, step = grpc_call("CreatePerson"), DRAINING_CALLS
    else:
        point, step = consumer_committed(CONSUMER), STOPPING_WORKERS
    arm(stack.services.fault_points_dir(name), point)
    await _until_held(stack, name, point)
    stopped = asyncio.create_task(asyncio.to_thread(stack.services.stop, name))
    await eventually(lambda: _stopping_step(stack, name), lambda at: at == step, timeout=30, what=f"{name}: {step}")
    release(stack.services.fault_points_dir(name), point)
    return await stopped


async def test_replicas_restarted_one_after_the_other_under_load_fail_no_request_and_lose_no_event(
    stack: RestartStack,
) -> None:
    """Each replica gets its SIGTERM with something in hand (`_stop_holding`): a write in flight on
    personnel's, an event committed and not acknowledged on reports'. It finishes it while stopping,
    and exits 0: every call it had answered, every worker stopped by itself."""
    await stack.refresh_token()
    unit_id = await _new_unit(stack)
    exits: dict[str, int | None] = {}
    async with _under_load(stack, unit_id, pause=0.05) as load:
        await asyncio.gather(*(_back_in_rotation(stack, name) for name in RESTART_ORDER))
        await _more_writes(load, 20, "writes before the first restart")
        for name in RESTART_ORDER:
            exits[name] = await _stop_holding(stack, name)
            await _more_writes(load, 10, f"writes while {name} is down")
            stack.services.start(name)
            await _back_in_rotation(stack, name)
            await _more_writes(load, 10, f"writes after {name} is back")
    await _drained(stack)

    assert load.failures == [], f"{len(load.failures)} requests failed, first: {load.failures[:5]}"
    assert exits == dict.fromkeys(RESTART_ORDER, 0), "each replica finished what it held and exited by itself"
    assert load.reads > 0
    await _stored_exactly_once(stack, unit_id, load)


NO_GRACE = {"QLCB_PERSONNEL_SHUTDOWN_GRACE_SECONDS": "0", "QLCB_PERSONNEL_SHUTDOWN_UNREADY_SECONDS": "0"}


@contextlib.asynccontextmanager
async def _without_grace(stack: RestartStack, name: str) -> AsyncIterator[None]:
    """The replica started again with its drain turned off (no unready window, no grace), and again
    as it was at the end."""
    env = stack.services.processes[name].env
    assert env is not None
    normal = dict(env)
    env.update(NO_GRACE)
    try:
        await asyncio.to_thread(stack.services.stop, name)
        stack.services.start(name)
        await stack.services.wait_ready(name, timeout=120)
        yield
    finally:
        env.clear()
        env.update(normal)
        await asyncio.to_thread(stack.services.stop, name)
        stack.services.start(name)
        await stack.services.wait_ready(name, timeout=120)


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGTERM without grace"])
async def test_without_a_graceful_stop_the_writes_in_flight_fail_and_no_read(stack: RestartStack, stop: str) -> None:
    """What the checker above sees when a replica does not drain: killed, or stopped with its grace
    turned off, while a write is in flight on it. That write fails with 503 and is not retried (the
    replica may have committed it); the reads it had are retried on the other replica."""
    name = "personnel-2"
    point = grpc_call("CreatePerson")
    await stack.refresh_token()
    unit_id = await _new_unit(stack)
    exit_status: int | None = None
    async with contextlib.AsyncExitStack() as cleanup:
        if stop != "SIGKILL":
            await cleanup.enter_async_context(_without_grace(stack, name))
        load = await cleanup.enter_async_context(_under_load(stack, unit_id, pause=0.05))
        await _back_in_rotation(stack, name)
        arm(stack.services.fault_points_dir(name), point)
        await _until_held(stack, name, point)
        if stop == "SIGKILL":
            await asyncio.to_thread(stack.services.kill, name)
        else:
            exit_status = await asyncio.to_thread(stack.services.stop, name)
        release(stack.services.fault_points_dir(name), point)
        await _more_writes(load, 10, f"writes while {name} is down")
        stack.services.start(name)
        await _back_in_rotation(stack, name)
    await _drained(stack)

    assert load.failures, f"{stop}: the write in flight fails"
    assert {method for method, _path, _status in load.failures} == {"POST"}, f"reads failed: {load.failures}"
    assert all(status.startswith("503 ") for _method, _path, status in load.failures), load.failures
    if stop != "SIGKILL":
        assert exit_status == 1, "a replica that cut a call short says so in its exit status"
    await _stored_exactly_once(stack, unit_id, load)
