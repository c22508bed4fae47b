"""The balanced channel against two real in-process gRPC servers playing replicas of personnel:
calls go round-robin to those whose health is SERVING, a read answered UNAVAILABLE or CANCELLED (a
replica going away, or stopped without grace) is asked again elsewhere, a write never is, nor a
stream (an export) that failed after sending rows."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc, search_pb2, search_pb2_grpc
from qlcb_common.grpc_client import balanced_channel, reads, service_config
from qlcb_common.grpc_runtime import server_options
from qlcb_common.settings import GrpcServiceSettings

PERSONNEL = personnel_pb2.DESCRIPTOR.services_by_name["PersonnelService"]
SEARCH = search_pb2.DESCRIPTOR.services_by_name["PersonSearchService"]
SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


class Replica(personnel_pb2_grpc.PersonnelServiceServicer):
    """Answers with its name; `refusing` makes it answer that code, as a replica dying would
    (UNAVAILABLE), or one stopped without grace with the call in hand (CANCELLED)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.refusing: grpc.StatusCode | None = None
        self.calls: Counter[str] = Counter()
        self.peers: set[str] = set()

    async def GetPerson(
        self, request: personnel_pb2.GetPersonRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> personnel_pb2.GetPersonResponse:
        self.calls["GetPerson"] += 1
        self.peers.add(context.peer())
        if self.refusing is not None:
            await context.abort(self.refusing, f"{self.name} is going away")
        return personnel_pb2.GetPersonResponse(person=personnel_pb2.Person(id=request.id, full_name=self.name))

    async def CreatePerson(
        self, request: personnel_pb2.CreatePersonRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> personnel_pb2.CreatePersonResponse:
        self.calls["CreatePerson"] += 1
        if self.refusing is not None:
            await context.abort(self.refusing, f"{self.name} died after committing, maybe")
        return personnel_pb2.CreatePersonResponse(person=personnel_pb2.Person(full_name=self.name))


@dataclass
class Running:
    replica: Replica
    health: HealthServicer
    server: grpc.aio.Server
    port: int


Replicas = tuple[Running, Running, personnel_pb2_grpc.PersonnelServiceStub]


async def _start(name: str, options: Sequence[tuple[str, int]] = ()) -> Running:
    server = grpc.aio.server(options=options)
    # The generated stubs declare every method abstract; a replica implements the two it is asked.
    replica, health = Replica(name), HealthServicer()  # type: ignore[abstract]
    personnel_pb2_grpc.add_PersonnelServiceServicer_to_server(replica, server)
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await health.set("", SERVING)
    return Running(replica, health, server, port)


@pytest.fixture
async def replicas() -> AsyncIterator[Replicas]:
    a, b = await _start("a"), await _start("b")
    channel = balanced_channel(f"ipv4:127.0.0.1:{a.port},127.0.0.1:{b.port}", [PERSONNEL])
    try:
        yield a, b, personnel_pb2_grpc.PersonnelServiceStub(channel)
    finally:
        await channel.close()
        await a.server.stop(0)
        await b.server.stop(0)


async def _answered_by(stub: personnel_pb2_grpc.PersonnelServiceStub, n: int) -> Counter[str]:
    names: Counter[str] = Counter()
    for _ in range(n):
        reply = await stub.GetPerson(personnel_pb2.GetPersonRequest(id="p"), timeout=5)
        names[reply.person.full_name] += 1
    return names


def test_only_the_reads_the_protos_mark_are_retried() -> None:
    names = {entry["method"] for entry in reads([PERSONNEL])}
    assert {"GetPerson", "ListPersons", "GetUnit", "ListUnits"} <= names
    assert not names & {"CreatePerson", "CreateUnit", "ChangePersonStatus", "SendTransfer", "AcceptTransfer"}
    config = service_config([PERSONNEL])
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    assert config["healthCheckConfig"] == {"serviceName": ""}
    assert config["methodConfig"][0]["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE", "CANCELLED"]


async def test_calls_go_round_robin_to_the_replicas_reporting_serving(replicas: Replicas) -> None:
    a, _b, stub = replicas
    assert set(await _answered_by(stub, 20)) == {"a", "b"}

    await a.health.enter_graceful_shutdown()
    deadline = time.monotonic() + 10
    while (answered := await _answered_by(stub, 10)) != Counter(b=10):
        assert time.monotonic() < deadline, f"a, NOT_SERVING, still gets calls: {answered}"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED])
async def test_a_read_answered_unavailable_or_cancelled_is_asked_again_on_the_other_replica(
    replicas: Replicas, code: grpc.StatusCode
) -> None:
    a, _b, stub = replicas
    a.replica.refusing = code
    assert await _answered_by(stub, 20) == Counter(b=20)
    assert a.replica.calls["GetPerson"] > 0, "a was asked and refused"


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED])
async def test_a_write_answered_unavailable_or_cancelled_is_not_asked_again(
    replicas: Replicas, code: grpc.StatusCode
) -> None:
    a, b, stub = replicas
    a.replica.refusing = b.replica.refusing = code
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreatePerson(personnel_pb2.CreatePersonRequest(personal_id="001088012345"), timeout=5)
    assert refused.value.code() is code
    assert a.replica.calls["CreatePerson"] + b.replica.calls["CreatePerson"] == 1, "asked once, whatever it did"


class Exporter(search_pb2_grpc.PersonSearchServiceServicer):
    """Streams two chunks of rows; `dies` makes it answer UNAVAILABLE after the first."""

    def __init__(self) -> None:
        self.dies = False
        self.calls = 0

    async def ExportPersons(
        self, request: search_pb2.ExportPersonsRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> AsyncIterator[search_pb2.ExportPersonsResponse]:
        self.calls += 1
        yield search_pb2.ExportPersonsResponse(persons=[personnel_pb2.Person(full_name="Nguyễn Văn An")])
        if self.dies:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "died midway")
        yield search_pb2.ExportPersonsResponse(persons=[personnel_pb2.Person(full_name="Trần Thị Bình")])


async def test_an_export_streams_through_the_balanced_channel_and_is_never_asked_again() -> None:
    """A stream is not a read to retry: one that failed after sending rows is answered as it failed
    (the client has rows already, and the export is in the audit trail once)."""
    assert "ExportPersons" not in {entry["method"] for entry in reads([SEARCH])}
    # The generated stubs declare every method abstract; this one implements the one it is asked.
    server, exporter, health = grpc.aio.server(), Exporter(), HealthServicer()  # type: ignore[abstract]
    search_pb2_grpc.add_PersonSearchServiceServicer_to_server(exporter, server)
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await health.set("", SERVING)
    channel = balanced_channel(f"ipv4:127.0.0.1:{port}", [PERSONNEL, SEARCH])
    try:
        stub = search_pb2_grpc.PersonSearchServiceStub(channel)
        request = search_pb2.ExportPersonsRequest(format="csv")
        names = [p.full_name async for chunk in stub.ExportPersons(request, timeout=5) for p in chunk.persons]
        assert names == ["Nguyễn Văn An", "Trần Thị Bình"]
        exporter.dies, exporter.calls = True, 0
        received: list[str] = []
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _read_names(stub.ExportPersons(request, timeout=5), received)
        assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
        assert (received, exporter.calls) == (["Nguyễn Văn An"], 1)
    finally:
        await channel.close()
        await server.stop(0)


async def _read_names(call: AsyncIterator[search_pb2.ExportPersonsResponse], names: list[str]) -> None:
    async for chunk in call:
        names += [p.full_name for p in chunk.persons]


async def test_connections_are_recycled_at_their_age_without_failing_a_call() -> None:
    """What lets the gateway find replicas added behind a headless Service: it resolves the name
    again whenever a connection ends, and the service ends each one at its age."""
    settings = GrpcServiceSettings(database_url="sqlite+aiosqlite://", grpc_max_connection_age_seconds=0.3)
    replica = await _start("a", server_options(settings))
    channel = balanced_channel(f"127.0.0.1:{replica.port}", [PERSONNEL])
    stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
    deadline = time.monotonic() + 20
    try:
        while len(replica.replica.peers) < 3:
            assert time.monotonic() < deadline, f"connections never recycled: {replica.replica.peers}"
            assert set(await _answered_by(stub, 5)) == {"a"}
            await asyncio.sleep(0.05)
    finally:
        await channel.close()
        await replica.server.stop(0)
