"""Every kind of bad token is refused at the REST edge (401) and at the gRPC services
(UNAUTHENTICATED) for its own reason, and nothing is written on its behalf."""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_devstack.procs import wait_until
from tests.support import EVERY_API, RETIRED_AUDIENCE, System, eventually, password_client, unique_code

KINDS = ["missing", "malformed", "tampered", "foreign-realm", "wrong-issuer", "wrong-audience", "expired"]
REASON = {
    "missing": "missing",
    "malformed": "malformed",
    "tampered": "signature",
    "foreign-realm": "unknown_key",  # another realm signs with keys this realm never published
    "wrong-issuer": "issuer",
    "wrong-audience": "audience",
    "expired": "expired",
}


def _signed_by_the_realm_for_another_issuer(system: System, good: str) -> tuple[str, str]:
    """A token whose signature the realm's published keys verify but whose issuer is another: a
    key of the test's own is added to the realm (lowest priority, so Keycloak keeps signing with
    its own) and signs the good token's claims with `iss` changed. Returns the token and the key
    provider's id, to remove afterwards."""
    admin = system.infra.keycloak_admin("qlcb")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    realm_id = admin.get_realm("qlcb")["id"]
    provider_id = admin.create_component(
        {
            "name": unique_code("test-key"),
            "providerId": "rsa",
            "providerType": "org.keycloak.keys.KeyProvider",
            "parentId": realm_id,
            "config": {"priority": ["1"], "enabled": ["true"], "active": ["true"], "privateKey": [pem]},
        }
    )
    kid = next(k["kid"] for k in admin.get_keys()["keys"] if k.get("providerId") == provider_id)
    claims = jwt.decode(good, options={"verify_signature": False})
    claims["iss"] = f"{system.infra.keycloak.base_url}/realms/other-agency"
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid}), provider_id


@pytest.fixture(scope="module")
def bad_tokens(system: System) -> Iterator[dict[str, str]]:
    """Tokens that must not be accepted, keyed by what is wrong with them."""
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

    wrong_issuer, key_provider = _signed_by_the_realm_for_another_issuer(system, good)

    tokens = {
        "malformed": "not.a.jwt",
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "foreign-realm": foreign,
        "wrong-issuer": wrong_issuer,
        "wrong-audience": password_token(base, "quantri", password, client_id="test-retired-audience"),
        "expired": short,
    }
    # The setup above usually outlasts the one-second lifespan; if not, wait for the token's exp.
    wait_until(lambda: time.time() > expiry + 1, timeout=30, what="the short-lived token to expire")
    try:
        yield tokens
    finally:
        admin.delete_component(key_provider)


async def _refusal(api: httpx.AsyncClient, headers: dict[str, str], kind: str) -> httpx.Response:
    """The refusal of GET /v1/me; a key the realm published a moment ago is fetched by the edge at
    most once per refresh interval, so until then the new key reads as unknown."""

    async def probe() -> httpx.Response:
        return await api.get("/v1/me", headers=headers)

    return await eventually(
        probe,
        lambda r: r.status_code != 401 or r.json()["detail"]["reason"] == REASON[kind],
        timeout=30,
        what=f"the {kind} token refused for its own reason",
    )


@pytest.mark.parametrize("kind", KINDS)
async def test_rest_edge_refuses_bad_tokens(system: System, bad_tokens: dict[str, str], kind: str) -> None:
    headers = {} if kind == "missing" else {"Authorization": f"Bearer {bad_tokens[kind]}"}
    staff = unique_code("S")
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        me = await _refusal(api, headers, kind)
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
        assert me.json()["detail"]["reason"] == REASON[kind]
        assert me.headers["WWW-Authenticate"] == (f'Bearer error="invalid_token", error_description="{REASON[kind]}"')
        good = {"Authorization": f"Bearer {system.token('quantri')}"}
        listing = await api.get(f"/v1/units/{system.root_unit_id}/persons", headers=good, params={"page_size": 500})
    assert staff not in {p["staff_number"] for p in listing.json()["items"]}


GRPC_MESSAGE = {
    "missing": "Thiếu bearer token",
    "malformed": "JWT",
    "tampered": "signature is invalid",
    "foreign-realm": "unknown key",
    "wrong-issuer": "another issuer",
    "wrong-audience": "not meant for",
    "expired": "expired",
}


@pytest.mark.parametrize("kind", KINDS)
async def test_grpc_services_refuse_bad_tokens(system: System, bad_tokens: dict[str, str], kind: str) -> None:
    metadata = () if kind == "missing" else (("authorization", f"Bearer {bad_tokens[kind]}"),)

    async def refusal() -> grpc.aio.AioRpcError:
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
        return error.value

    # As at the edge: a key published a moment ago is fetched at most once per refresh interval.
    refused = await eventually(
        refusal,
        lambda e: e.code() is not grpc.StatusCode.UNAUTHENTICATED or GRPC_MESSAGE[kind] in (e.details() or ""),
        timeout=30,
        what=f"the {kind} token refused for its own reason",
    )
    assert refused.code() is grpc.StatusCode.UNAUTHENTICATED
    assert GRPC_MESSAGE[kind] in (refused.details() or ""), refused.details()


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
