"""Tokens cross the cluster encrypted (issue 16): the five services started as devstack's
`ServiceStack(tls=True)` runs them (`make up TLS=1`) beside the suite's own stack, with the suite's
Keycloak but a bus of their own (over TLS too) and SQLite stores, so none of their consumers takes
the suite's events. gRPC and identity answer TLS clients only, the gRPC services only clients
with a certificate of their authority, and the gateway serves REST calls through them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from qlcb_common.certificates import not_after
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.ports import StackPorts
from qlcb_devstack.stack import GRPC_SERVICES, ServiceStack
from qlcb_devstack.tls import TlsFiles
from tests.support import System, api_client


@pytest.fixture(scope="module")
def tls_stack(system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceStack]:
    run_dir = tmp_path_factory.mktemp("tls-stack")
    bus = NatsServer(run_dir / "nats", tls=True)
    bus.start()
    try:
        bus.wait_ready()
        infra = dataclasses.replace(system.infra, nats=bus, postgres=None, ports=StackPorts.free())
        stack = ServiceStack(infra, run_dir, tls=True)
        try:
            stack.start_all()
            yield stack
        finally:
            stack.stop_all()
    finally:
        bus.stop()


def _authority(stack: ServiceStack) -> TlsFiles:
    assert stack.tls is not None, "the stack runs TLS"
    return stack.tls


def _credentials(tls: TlsFiles, *, client_certificate: bool) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=tls.ca.read_bytes(),
        private_key=tls.client_key.read_bytes() if client_certificate else None,
        certificate_chain=tls.client_cert.read_bytes() if client_certificate else None,
    )


async def _health(channel: grpc.aio.Channel) -> int:
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    return int(reply.status)


async def _refused(channel: grpc.aio.Channel) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _health(channel)
    code: grpc.StatusCode = refused.value.code()
    return code


@pytest.mark.parametrize("service", GRPC_SERVICES)
async def test_a_grpc_service_answers_tls_clients_with_a_certificate_only(
    tls_stack: ServiceStack, service: str
) -> None:
    tls = _authority(tls_stack)
    target = tls_stack.grpc_target(service)
    async with grpc.aio.secure_channel(target, _credentials(tls, client_certificate=True)) as channel:
        assert await _health(channel) == health_pb2.HealthCheckResponse.SERVING
    async with grpc.aio.insecure_channel(target) as plaintext:
        assert await _refused(plaintext) is grpc.StatusCode.UNAVAILABLE
    async with grpc.aio.secure_channel(target, _credentials(tls, client_certificate=False)) as anonymous:
        assert await _refused(anonymous) is grpc.StatusCode.UNAVAILABLE
    async with grpc.aio.secure_channel(target, grpc.ssl_channel_credentials()) as untrusting:
        assert await _refused(untrusting) is grpc.StatusCode.UNAVAILABLE, "the system's roots do not vouch for it"


async def test_identity_answers_https_only(system: System, tls_stack: ServiceStack) -> None:
    url = tls_stack.identity_url
    assert url.startswith("https://127.0.0.1:")
    bearer = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=url, headers=bearer, verify=tls_stack.verify, timeout=30) as identity:
        me = await identity.get("/v1/me")
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "quantri"
    async with httpx.AsyncClient(timeout=10) as plaintext:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await plaintext.get(url.replace("https://", "http://", 1) + "/readyz")
    async with httpx.AsyncClient(timeout=10) as untrusting:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusting.get(url + "/readyz")


async def test_the_gateway_serves_an_authenticated_call_through_its_tls_backends(
    system: System, tls_stack: ServiceStack
) -> None:
    """Each route below reaches one backend: identity over https, personnel, reports and backup
    over gRPC with TLS and the gateway's client certificate; each verifies the forwarded token."""
    async with api_client(tls_stack.gateway_url, system.token("quantri")) as api:
        me = await api.get("/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "quantri"
        units = await api.get("/v1/units")
        assert units.status_code == 200, units.text
        assert units.json() == [], "the TLS stack's own store is empty"
        headcount = await api.get(f"/v1/units/{system.root_unit_id}/headcount")
        assert headcount.status_code == 404, headcount.text
        assert headcount.json()["detail"]["message"].startswith("Chưa có số liệu"), "reports' own answer"
        backups = await api.get("/v1/backups")
        assert backups.status_code == 200, backups.text
    async with api_client(tls_stack.gateway_url, "not-a-token") as forged:
        assert (await forged.get("/v1/units")).status_code == 401


@pytest.mark.parametrize(
    ("service", "listener"),
    [*((s, "grpc") for s in GRPC_SERVICES), ("identity", "https"), ("gateway", "grpc-client")],
)
async def test_each_service_exports_when_its_certificate_expires(
    tls_stack: ServiceStack, service: str, listener: str
) -> None:
    """`qlcb_tls_certificate_not_after_timestamp_seconds`, which the certificate alert reads, is the
    notAfter of the certificate the listener serves, and for the gateway of the client certificate
    it presents to the backends."""
    async with httpx.AsyncClient(verify=tls_stack.verify, timeout=10) as ops:
        text = (await ops.get(f"{tls_stack.ops_url(service)}/metrics")).text
    exported = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "qlcb_tls_certificate_not_after_timestamp_seconds"
        and sample.labels == {"service": service, "listener": listener}
    ]
    tls = _authority(tls_stack)
    assert exported == [not_after(tls.client_cert if listener == "grpc-client" else tls.server_cert)]
