"""Every service exposes metrics, liveness and readiness; gRPC services report SERVING."""

from __future__ import annotations

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support import System


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
    expected = "qlcb_http_server_requests_total" if service in ("identity", "gateway") else "qlcb_grpc_server"
    assert expected in metrics.text


@pytest.mark.parametrize("service", ["personnel", "reports", "backup"])
async def test_grpc_health_is_serving(system: System, service: str) -> None:
    async with grpc.aio.insecure_channel(system.services.grpc_target(service)) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_red_metrics_count_calls_by_method_and_code(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        assert (await api.get("/v1/units/does-not-exist")).status_code == 404
    async with httpx.AsyncClient(base_url=system.services.ops_url("personnel"), timeout=10) as ops:
        text = (await ops.get("/metrics")).text
    assert 'method="/qlcb.personnel.v1.PersonnelService/GetUnit"' in text
    assert 'code="NOT_FOUND"' in text
