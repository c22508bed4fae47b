"""Every service exposes metrics, liveness and readiness; gRPC services report SERVING."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from prometheus_client.parser import text_string_to_metric_families

from qlcb_devstack.nats import NatsServer
from qlcb_devstack.procs import ManagedProcess, free_port
from tests.support import System, eventually, metric_value


@pytest.mark.parametrize("service", ["identity", "personnel", "reports", "backup", "gateway"])
async def test_ops_endpoints(system: System, service: str) -> None:
    base = system.services.ops_url(service)
    async with httpx.AsyncClient(base_url=base, timeout=10) as ops:
        assert (await ops.get("/livez")).status_code == 200
        ready = await ops.get("/readyz")
        metrics = await ops.get("/metrics")
    assert ready.status_code == 200, ready.text
    assert ready.json()["ready"] is True
    assert metrics.status_code == 200
    families = {family.name for family in text_string_to_metric_families(metrics.text)}
    expected = "qlcb_http_server_requests" if service in ("identity", "gateway") else "qlcb_grpc_server_requests"
    assert expected in families, sorted(families)


@pytest.mark.parametrize("service", ["personnel", "reports", "backup"])
async def test_grpc_health_is_serving(system: System, service: str) -> None:
    async with grpc.aio.insecure_channel(system.services.grpc_target(service)) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_red_metrics_count_calls_by_method_and_code(system: System) -> None:
    labels = {"service": "personnel", "method": "/qlcb.personnel.v1.PersonnelService/GetUnit", "code": "NOT_FOUND"}
    sample = "qlcb_grpc_server_requests_total"
    before = await metric_value(system, "personnel", sample, labels)
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        assert (await api.get("/v1/units/does-not-exist")).status_code == 404
    assert await metric_value(system, "personnel", sample, labels) == before + 1


def _reflected_services(target: str) -> set[str]:
    """What gRPC server reflection lists, asked without a token as grpcurl does."""
    with grpc.insecure_channel(target) as channel:
        return set(ProtoReflectionDescriptorDatabase(channel).get_services())


@pytest.mark.parametrize("service", ["personnel", "reports", "backup"])
def test_reflection_is_unavailable_by_default(system: System, service: str) -> None:
    """Without a token nothing describes a running service's API: reflection is off unless
    `QLCB_<SERVICE>_GRPC_REFLECTION` turns it on (devstack does not)."""
    with pytest.raises(grpc.RpcError) as refused:
        _reflected_services(system.services.grpc_target(service))
    assert refused.value.code() is grpc.StatusCode.UNIMPLEMENTED


async def test_reflection_lists_the_service_where_enabled(system: System, tmp_path: Path) -> None:
    """A reports process with reflection turned on (its bus never started: reflection answers as
    soon as the server listens)."""
    nats = NatsServer(tmp_path / "no-nats")
    grpc_port, ops_port = free_port(), free_port()
    env = dict(
        os.environ,
        QLCB_ENVIRONMENT="development",
        QLCB_OIDC_ISSUER=system.infra.issuer,
        QLCB_REPORTS_GRPC_PORT=str(grpc_port),
        QLCB_REPORTS_OPS_PORT=str(ops_port),
        QLCB_REPORTS_GRPC_REFLECTION="true",
        QLCB_REPORTS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'reports.sqlite3'}",
        QLCB_REPORTS_SIGNING_SECRET="a-signing-secret-of-at-least-32-characters",
        QLCB_REPORTS_NATS_URL=nats.url,
    )
    process = ManagedProcess("reports-reflection", [sys.executable, "-m", "qlcb_reports"], log_dir=tmp_path, env=env)
    process.start()
    try:

        async def listed() -> set[str]:
            try:
                return _reflected_services(f"127.0.0.1:{grpc_port}")
            except grpc.RpcError:
                return set()

        services = await eventually(listed, bool, timeout=30, what="reflection to answer")
    finally:
        process.stop()
    assert "qlcb.reports.v1.ReportsService" in services
    assert "grpc.health.v1.Health" in services


async def test_sigterm_shuts_down_gracefully_and_the_service_comes_back(system: System) -> None:
    process = system.services.processes["reports"]
    assert process.stop(timeout=20) == 0, process.tail()
    system.services.start("reports")
    await system.services.wait_ready("reports")
    async with grpc.aio.insecure_channel(system.services.grpc_target("reports")) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_health_turns_serving_only_once_nats_is_connected(system: System, tmp_path: Path) -> None:
    nats = NatsServer(tmp_path / "late-nats")
    grpc_port, ops_port = free_port(), free_port()
    env = dict(
        os.environ,
        QLCB_ENVIRONMENT="development",
        QLCB_OIDC_ISSUER=system.infra.issuer,
        QLCB_REPORTS_GRPC_PORT=str(grpc_port),
        QLCB_REPORTS_OPS_PORT=str(ops_port),
        QLCB_REPORTS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'reports.sqlite3'}",
        QLCB_REPORTS_SIGNING_SECRET="a-signing-secret-of-at-least-32-characters",
        QLCB_REPORTS_NATS_URL=nats.url,
        QLCB_REPORTS_NATS_USER=nats.credentials("reports")[0],
        QLCB_REPORTS_NATS_PASSWORD=nats.credentials("reports")[1],
    )
    process = ManagedProcess("reports-late-nats", [sys.executable, "-m", "qlcb_reports"], log_dir=tmp_path, env=env)
    process.start()
    try:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops_port}", timeout=5) as ops,
        ):
            health = health_pb2_grpc.HealthStub(channel)

            async def status() -> int:
                try:
                    reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=2)
                except grpc.aio.AioRpcError:
                    return -1
                return int(reply.status)

            first = await eventually(status, lambda s: s != -1, timeout=30, what="the health service to answer")
            assert first == health_pb2.HealthCheckResponse.NOT_SERVING
            assert (await ops.get("/readyz")).status_code == 503
            nats.start()
            await eventually(status, lambda s: s == health_pb2.HealthCheckResponse.SERVING, timeout=60, what="SERVING")
            assert (await ops.get("/readyz")).status_code == 200
    finally:
        process.stop()
        nats.stop()


async def test_ready_only_once_the_database_is_connected(system: System, tmp_path: Path) -> None:
    """A reports process whose database cannot be opened yet (its folder is missing) says it is
    waiting for the database, and turns ready once the folder exists."""
    folder = tmp_path / "late-database"
    ops_port = free_port()
    user, password = system.infra.nats.credentials("reports")
    env = dict(
        os.environ,
        QLCB_ENVIRONMENT="development",
        QLCB_OIDC_ISSUER=system.infra.issuer,
        QLCB_REPORTS_GRPC_PORT=str(free_port()),
        QLCB_REPORTS_OPS_PORT=str(ops_port),
        QLCB_REPORTS_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'reports.sqlite3'}",
        QLCB_REPORTS_SIGNING_SECRET="a-signing-secret-of-at-least-32-characters",
        QLCB_REPORTS_NATS_URL=system.infra.nats.url,
        QLCB_REPORTS_NATS_USER=user,
        QLCB_REPORTS_NATS_PASSWORD=password,
    )
    process = ManagedProcess("reports-late-db", [sys.executable, "-m", "qlcb_reports"], log_dir=tmp_path, env=env)
    process.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops_port}", timeout=5) as ops:

            async def readiness() -> dict[str, Any]:
                try:
                    answer = await ops.get("/readyz")
                except httpx.TransportError:
                    return {}
                described: dict[str, Any] = answer.json()
                return {"status": answer.status_code} | described

            waiting = await eventually(readiness, bool, timeout=30, what="the ops endpoint to answer")
            assert waiting["status"] == 503
            assert "database" in waiting["waiting_for"]
            folder.mkdir()
            ready = await eventually(readiness, lambda r: r.get("status") == 200, timeout=60, what="ready")
            assert ready["waiting_for"] == []
    finally:
        process.stop()
