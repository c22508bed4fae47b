"""Every kind of bad token is refused at the REST edge (401) and at the gRPC services
(UNAUTHENTICATED), and nothing is written on its behalf."""

from __future__ import annotations

import time

import grpc
import httpx
import jwt
import pytest

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_devstack.procs import wait_until
from tests.support import EVERY_API, RETIRED_AUDIENCE, System, password_client, unique_code


@pytest.fixture(scope="module")
def bad_tokens(system: System) -> dict[str, str]:
    """Real Keycloak tokens that must not be accepted, keyed by what is wrong with them."""
    admin = system.infra.keycloak_admin("qlcb")
    base = system.infra.keycloak.base_url
    password = system.passwords["quantri"]
    password_client(admin, "test-short-lived", EVERY_API, lifespan=1)
    short = password_token(base, "quantri", password, client_id="test-short-lived")
    expiry = jwt.decode(short, options={"verify_signature": False})["exp"]
    password_client(admin, "test-retired-audience", [RETIRED_AUDIENCE])
    good = system.token("quantri")
    header, payload, signature = good.split(".")
    tampered_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b'"system-admin"', b'"system-admiX"')
    ).decode()

    master = system.infra.keycloak_admin("master")
    master.create_realm({"realm": "other-agency", "enabled": True}, skip_exists=True)
    other = system.infra.keycloak_admin("other-agency")
    password_client(other, "qlcb-cli", EVERY_API)
    other.create_realm_role({"name": "system-admin"}, skip_exists=True)
    ensure_user(other, Account("quantri", password, "system-admin", None, "Kẻ Mạo Danh"))
    foreign = password_token(base, "quantri", password, realm="other-agency")

    tokens = {
        "malformed": "not.a.jwt",
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "wrong-issuer": foreign,
        "wrong-audience": password_token(base, "quantri", password, client_id="test-retired-audience"),
        "expired": short,
    }
    # The setup above usually outlasts the one-second lifespan; if not, wait for the token's exp.
    wait_until(lambda: time.time() > expiry + 1, timeout=30, what="the short-lived token to expire")
    return tokens


@pytest.mark.parametrize("kind", ["missing", "malformed", "tampered", "wrong-issuer", "wrong-audience", "expired"])
async def test_rest_edge_refuses_bad_tokens(system: System, bad_tokens: dict[str, str], kind: str) -> None:
    headers = {} if kind == "missing" else {"Authorization": f"Bearer {bad_tokens[kind]}"}
    staff = unique_code("S")
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        me = await api.get("/v1/me", headers=headers)
        created = await api.post(
            "/v1/persons",
            headers=headers,
            json={
                "personal_id": "001190000001",
                "staff_number": staff,
                "full_name": "Lê Văn Giả",
                "date_of_birth": "1990-01-01",
                "sex": "male",
                "unit_id": system.root_unit_id,
            },
        )
        assert me.status_code == 401
        assert created.status_code == 401
        assert me.headers["WWW-Authenticate"].startswith("Bearer")
        good = {"Authorization": f"Bearer {system.token('quantri')}"}
        listing = await api.get(f"/v1/units/{system.root_unit_id}/persons", headers=good, params={"page_size": 500})
    assert staff not in {p["staff_number"] for p in listing.json()["items"]}


@pytest.mark.parametrize("kind", ["missing", "malformed", "tampered", "wrong-issuer", "wrong-audience", "expired"])
async def test_grpc_services_refuse_bad_tokens(system: System, bad_tokens: dict[str, str], kind: str) -> None:
    metadata = () if kind == "missing" else (("authorization", f"Bearer {bad_tokens[kind]}"),)
    async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
        stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.CreateUnit(
                personnel_pb2.CreateUnitRequest(
                    code=unique_code("X"),
                    name="Giả",
                    kind=personnel_pb2.UNIT_KIND_HQ_UNIT,
                    parent_id=system.root_unit_id,
                ),
                metadata=metadata,
                timeout=10,
            )
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_a_fresh_token_of_the_short_lived_client_passes(system: System, bad_tokens: dict[str, str]) -> None:
    """The expired token is refused for its expiry alone: the same client's fresh token works."""
    admin = system.infra.keycloak_admin("qlcb")
    password_client(admin, "test-short-lived-2", EVERY_API, lifespan=60)
    fresh = password_token(
        system.infra.keycloak.base_url, "quantri", system.passwords["quantri"], client_id="test-short-lived-2"
    )
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        response = await api.get("/v1/me", headers={"Authorization": f"Bearer {fresh}"})
    assert response.status_code == 200
    assert "expired" in bad_tokens
