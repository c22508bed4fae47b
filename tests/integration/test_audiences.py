"""One audience per API: each service accepts only tokens meant for it. A token minted for
reports alone is accepted by reports and refused by every other API, which names the audience
it expects; a user's login reaches every API behind the gateway."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
import httpx
import pytest

from qlcb.backup.v1 import backup_pb2, backup_pb2_grpc
from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from qlcb.reports.v1 import reports_pb2, reports_pb2_grpc
from qlcb_common.settings import api_audience
from qlcb_devstack.accounts import password_token
from tests.support import EVERY_API, System, api_audiences, browser_login, password_client

Metadata = tuple[tuple[str, str], ...]

GRPC_CALLS: dict[str, Callable[[grpc.aio.Channel, Metadata], Awaitable[object]]] = {
    "personnel": lambda channel, metadata: personnel_pb2_grpc.PersonnelServiceStub(channel).ListUnits(
        personnel_pb2.ListUnitsRequest(), metadata=metadata, timeout=10
    ),
    "backup": lambda channel, metadata: backup_pb2_grpc.BackupServiceStub(channel).ListBackups(
        backup_pb2.ListBackupsRequest(), metadata=metadata, timeout=10
    ),
}


def _bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


@pytest.fixture(scope="module")
def reports_token(system: System) -> str:
    """The system administrator's token from a throwaway client whose only audience is reports'."""
    password_client(system.infra.keycloak_admin("qlcb"), "test-reports-only", [api_audience("reports")])
    token = password_token(
        system.infra.keycloak.base_url, "quantri", system.passwords["quantri"], client_id="test-reports-only"
    )
    assert api_audiences(token) == {"qlcb-reports"}
    return token


async def test_the_api_a_token_is_meant_for_accepts_it(system: System, reports_token: str) -> None:
    async with grpc.aio.insecure_channel(system.services.grpc_target("reports")) as channel:
        response = await reports_pb2_grpc.ReportsServiceStub(channel).GetHeadcount(
            reports_pb2.GetHeadcountRequest(unit_id=system.root_unit_id),
            metadata=_bearer(reports_token),
            timeout=10,
        )
    assert response.unit_id == system.root_unit_id


@pytest.mark.parametrize("service", sorted(GRPC_CALLS))
async def test_other_grpc_apis_refuse_it_naming_their_audience(
    system: System, reports_token: str, service: str
) -> None:
    async with grpc.aio.insecure_channel(system.services.grpc_target(service)) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await GRPC_CALLS[service](channel, _bearer(reports_token))
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert api_audience(service) in (error.value.details() or "")


@pytest.mark.parametrize("service", ["gateway", "identity"])
async def test_the_http_apis_refuse_it_naming_their_audience(system: System, reports_token: str, service: str) -> None:
    base_url = system.gateway_url if service == "gateway" else system.services.identity_url
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as api:
        response = await api.get("/v1/me", headers={"Authorization": f"Bearer {reports_token}"})
    assert response.status_code == 401
    assert response.json()["detail"]["reason"] == "audience"
    assert api_audience(service) in response.json()["detail"]["message"]


LOGINS: dict[str, Callable[[System], str]] = {
    "gateway client, authorization code": lambda system: browser_login(system, "quantri", system.passwords["quantri"]),
    "command-line client, password grant": lambda system: system.token("quantri"),
}


@pytest.mark.parametrize("login", sorted(LOGINS))
async def test_a_login_reaches_every_api_behind_the_gateway(system: System, login: str) -> None:
    token = LOGINS[login](system)
    assert api_audiences(token) == set(EVERY_API)
    async with httpx.AsyncClient(
        base_url=system.gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as api:
        me = await api.get("/v1/me")
        unit = await api.get(f"/v1/units/{system.root_unit_id}")
        headcount = await api.get(f"/v1/units/{system.root_unit_id}/headcount")
        backups = await api.get("/v1/backups")
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "quantri"
    assert unit.status_code == 200, unit.text
    assert headcount.status_code == 200, headcount.text
    assert backups.status_code == 200, backups.text
