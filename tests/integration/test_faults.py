"""Faults: NATS going away while writes continue, personnel killed mid-stream, and PostgreSQL
ending personnel's connections. Every committed change reaches reports exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os

import asyncpg
import grpc
import httpx

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from tests.support import System, eventually, metric_value, unique_code

MALE = personnel_pb2.SEX_MALE
RELAY_FAILURES = "qlcb_outbox_publish_failures_total"


async def _new_unit(system: System, api: httpx.AsyncClient) -> str:
    response = await api.post(
        "/v1/units",
        json={
            "code": unique_code("F"),
            "name": "Chi cục kiểm thử sự cố",
            "kind": "sub_unit",
            "parent_id": system.root_unit_id,
        },
    )
    assert response.status_code == 201, response.text
    unit_id: str = response.json()["id"]
    return unit_id


def _person(unit_id: str, n: int) -> personnel_pb2.CreatePersonRequest:
    return personnel_pb2.CreatePersonRequest(
        personal_id=f"{abs(hash(unit_id)) % 10**6:06d}{n:06d}",
        staff_number=unique_code("K"),
        full_name=f"Trần Văn Thử {n}",
        date_of_birth="1985-03-02",
        sex=MALE,
        unit_id=unit_id,
    )


async def _stored_persons(system: System, unit_id: str) -> set[str]:
    conn = await asyncpg.connect(system.postgres_dsn("personnel"))
    try:
        return {r["id"] for r in await conn.fetch("SELECT id FROM persons WHERE unit_id = $1", unit_id)}
    finally:
        await conn.close()


async def _headcount(api: httpx.AsyncClient, unit_id: str) -> int:
    response = await api.get(f"/v1/units/{unit_id}/headcount")
    return int(response.json()["headcount"]) if response.status_code == 200 else -1


async def _settled(system: System, api: httpx.AsyncClient, unit_id: str, stored: int) -> int:
    """Waits until the relay has nothing left and reports has caught up; returns the headcount."""
    await eventually(system.services.outbox_pending, lambda pending: pending == 0, timeout=60, what="an empty outbox")
    return await eventually(
        lambda: _headcount(api, unit_id), lambda n: n >= stored, timeout=60, what=f"headcount {stored}"
    )


async def test_events_written_while_nats_is_down_arrive_exactly_once(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        unit_id = await _new_unit(system, api)
        await eventually(lambda: _headcount(api, unit_id), lambda n: n == 0, timeout=60, what="the new unit")
        metadata = (("authorization", headers["Authorization"]),)
        async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
            stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
            for n in range(5):
                await stub.CreatePerson(_person(unit_id, n), metadata=metadata, timeout=10)
            system.infra.nats.stop()
            try:
                for n in range(5, 25):
                    await stub.CreatePerson(_person(unit_id, n), metadata=metadata, timeout=10)
                assert await system.services.outbox_pending() > 0
            finally:
                system.infra.nats.start()
                system.infra.nats.wait_ready()
        stored = await _stored_persons(system, unit_id)
        assert len(stored) == 25
        assert await _settled(system, api, unit_id, len(stored)) == 25


async def test_killing_personnel_mid_stream_loses_and_doubles_nothing(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    metadata = (("authorization", headers["Authorization"]),)
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        unit_id = await _new_unit(system, api)
        acknowledged: set[str] = set()
        counter = iter(range(10**6))
        stop = asyncio.Event()

        async def writer() -> None:
            async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
                stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
                while not stop.is_set():
                    with contextlib.suppress(grpc.aio.AioRpcError):
                        reply = await stub.CreatePerson(_person(unit_id, next(counter)), metadata=metadata, timeout=5)
                        acknowledged.add(reply.person.id)

        writers = [asyncio.create_task(writer()) for _ in range(4)]
        try:
            await eventually(lambda: _len(acknowledged), lambda n: n >= 40, timeout=60, what="40 writes")
            system.services.kill("personnel")
            before_restart = len(acknowledged)
            system.services.start("personnel")
            await system.services.wait_ready("personnel")
            await eventually(
                lambda: _len(acknowledged), lambda n: n >= before_restart + 20, timeout=60, what="writes after restart"
            )
        finally:
            stop.set()
            await asyncio.gather(*writers)

        stored = await _stored_persons(system, unit_id)
        assert acknowledged <= stored, "a write acknowledged to its caller is missing from personnel"
        assert await _settled(system, api, unit_id, len(stored)) == len(stored)


async def _len(items: set[str]) -> int:
    return len(items)


async def _end_resting_sessions(dsn: str) -> list[int]:
    """Ends the sessions of the database's pooled connections that rest in their pool (`idle`: in no
    transaction), in one statement, and returns their pids. One in a transaction is being used: ending
    it fails that use, which no pool can prevent, and is not what is tested."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM (SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state = 'idle' OFFSET 0) AS resting"
            " WHERE pg_terminate_backend(pid)"
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    return alive


async def test_connections_postgresql_ends_fail_no_request_after_it(system: System) -> None:
    """PostgreSQL restarted, or an administrator or an idle timeout ending personnel's sessions: every
    pooled connection is dead. Each is taken out of the pool as it is checked out and another opened,
    so neither the reads nor the writes that follow fail, nor the outbox relay's next rounds (and no
    checkout costs a round trip to find that out)."""
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    metadata = (("authorization", headers["Authorization"]),)
    dsn = system.postgres_dsn("personnel")
    async with (
        httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api,
        grpc.aio.insecure_channel(system.services.personnel_target) as channel,
    ):
        stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
        unit_id = await _new_unit(system, api)

        async def create(n: int) -> str:
            reply = await stub.CreatePerson(_person(unit_id, n), metadata=metadata, timeout=10)
            person_id: str = reply.person.id
            return person_id

        # Several at once, so that the pool holds several connections.
        people = await asyncio.gather(*(create(n) for n in range(8)))
        # The relay done with their events: it then only looks for more once a second.
        await eventually(
            system.services.outbox_pending, lambda pending: pending == 0, timeout=60, what="an empty outbox"
        )
        relay_failures = await metric_value(system, "personnel", RELAY_FAILURES, {"service": "personnel"})
        pids = await _end_resting_sessions(dsn)
        assert len(pids) >= 2, f"personnel's pools hold {len(pids)} resting connections to its database"
        await eventually(lambda: _alive(pids), lambda alive: not alive, timeout=30, what="the ended sessions gone")

        # Writes first: a read that fails so is tried again by the gateway's channel, a write is not.
        written = await asyncio.gather(*(create(n) for n in range(8, 16)), return_exceptions=True)
        failed = [w for w in written if isinstance(w, BaseException)]
        assert not failed, f"writes failed after the sessions ended: {failed}"
        reads = await asyncio.gather(*(api.get(f"/v1/persons/{person}") for person in people))
        assert [r.status_code for r in reads] == [200] * len(people), [r.text for r in reads if r.status_code != 200]
        assert set(people) | set(written) <= await _stored_persons(system, unit_id)
        # The relay, polling in the background, found no dead connection either.
        await eventually(
            system.services.outbox_pending, lambda pending: pending == 0, timeout=60, what="an empty outbox"
        )
        assert await metric_value(system, "personnel", RELAY_FAILURES, {"service": "personnel"}) == relay_failures
