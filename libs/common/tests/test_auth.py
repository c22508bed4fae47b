"""Token verification: every way a token can be wrong is refused, and keys are cached."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jwt_keys import ISSUER, SERVICE, FakeKeycloak, new_key

from qlcb_common.auth import AuthError, TokenVerifier, bearer_token
from qlcb_common.settings import OidcSettings


@pytest.fixture
def verifier(keycloak: FakeKeycloak) -> TokenVerifier:
    settings = OidcSettings(issuer=ISSUER, jwks_min_refresh_seconds=60)  # type: ignore[arg-type]
    http = httpx.AsyncClient(transport=httpx.MockTransport(keycloak.handler))
    return TokenVerifier(settings, SERVICE, http=http)


async def test_valid_token_gives_roles_and_unit(keycloak: FakeKeycloak, verifier: TokenVerifier) -> None:
    principal = await verifier.verify(keycloak.token())
    assert principal.subject == "user-1"
    assert principal.username == "qthanoi"
    assert "local-admin" in principal.roles
    assert principal.unit_path == "/TCHQ/HQHN"
    assert principal.unit_code == "HQHN"


async def test_keys_are_cached_between_requests(keycloak: FakeKeycloak, verifier: TokenVerifier) -> None:
    for _ in range(5):
        await verifier.verify(keycloak.token())
    assert keycloak.fetches == 1


async def test_rotated_key_is_fetched_once(keycloak: FakeKeycloak) -> None:
    settings = OidcSettings(issuer=ISSUER, jwks_min_refresh_seconds=0)  # type: ignore[arg-type]
    verifier = TokenVerifier(settings, SERVICE, http=httpx.AsyncClient(transport=httpx.MockTransport(keycloak.handler)))
    await verifier.verify(keycloak.token("k1"))
    keycloak.keys["k2"] = new_key()
    await verifier.verify(keycloak.token("k2"))
    await verifier.verify(keycloak.token("k2"))
    await verifier.verify(keycloak.token("k1"))
    assert keycloak.fetches == 2


async def test_unknown_kids_do_not_hammer_keycloak(keycloak: FakeKeycloak, verifier: TokenVerifier) -> None:
    await verifier.verify(keycloak.token())
    for i in range(10):
        with pytest.raises(AuthError) as error:
            await verifier.verify(keycloak.token(kid=f"forged-{i}"))
        assert error.value.reason == "unknown_key"
    assert keycloak.fetches == 1


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"iss": "http://evil.test/realms/qlcb"}, "issuer"),
        ({"aud": "qlcb-reports"}, "audience"),
        ({"aud": ["qlcb-api", "account"]}, "audience"),
        ({"exp": None}, "invalid"),
    ],
)
async def test_bad_claims_are_refused(
    keycloak: FakeKeycloak, verifier: TokenVerifier, overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(AuthError) as error:
        await verifier.verify(keycloak.token(**overrides))
    assert error.value.reason == reason


async def test_a_token_for_another_api_is_refused_naming_the_audience(
    keycloak: FakeKeycloak, verifier: TokenVerifier
) -> None:
    with pytest.raises(AuthError) as error:
        await verifier.verify(keycloak.token(aud=["qlcb-reports", "qlcb-gateway"]))
    assert error.value.reason == "audience"
    assert "qlcb-personnel" in str(error.value)


def test_each_service_checks_its_own_audience_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QLCB_OIDC_AUDIENCE", raising=False)
    assert OidcSettings(issuer=ISSUER).audience_of("reports") == "qlcb-reports"  # type: ignore[arg-type]
    monkeypatch.setenv("QLCB_OIDC_AUDIENCE", "qlcb-staging-reports")
    assert OidcSettings(issuer=ISSUER).audience_of("reports") == "qlcb-staging-reports"  # type: ignore[arg-type]


async def test_the_configured_audience_replaces_the_services_own(keycloak: FakeKeycloak) -> None:
    settings = OidcSettings(issuer=ISSUER, audience="qlcb-staging")  # type: ignore[arg-type]
    verifier = TokenVerifier(settings, SERVICE, http=httpx.AsyncClient(transport=httpx.MockTransport(keycloak.handler)))
    assert (await verifier.verify(keycloak.token(aud="qlcb-staging"))).username == "qthanoi"
    with pytest.raises(AuthError) as error:
        await verifier.verify(keycloak.token())
    assert error.value.reason == "audience"


async def test_tampered_payload_is_refused(keycloak: FakeKeycloak, verifier: TokenVerifier) -> None:
    header, payload, signature = keycloak.token().split(".")
    forged = keycloak.token(realm_access={"roles": ["system-admin"]}).split(".")[1]
    with pytest.raises(AuthError) as error:
        await verifier.verify(f"{header}.{forged}.{signature}")
    assert error.value.reason == "signature"
    assert payload != forged


async def test_hs256_signed_with_public_key_is_refused(keycloak: FakeKeycloak, verifier: TokenVerifier) -> None:
    public_pem = (
        keycloak.keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "qlcb-personnel", "sub": "x", "iat": now, "exp": now + 60}
    token = jwt.encode(claims, public_pem.decode()[:64], algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(AuthError) as error:
        await verifier.verify(token)
    assert error.value.reason == "algorithm"


async def test_garbage_is_malformed(verifier: TokenVerifier) -> None:
    with pytest.raises(AuthError) as error:
        await verifier.verify("not-a-jwt")
    assert error.value.reason == "malformed"


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer"])
def test_authorization_header_must_be_bearer(header: str | None) -> None:
    with pytest.raises(AuthError):
        bearer_token(header)


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _remembering_verifier(keycloak: FakeKeycloak, clock: _Clock) -> TokenVerifier:
    settings = OidcSettings(issuer=ISSUER, jwks_min_refresh_seconds=0)  # type: ignore[arg-type]
    http = httpx.AsyncClient(transport=httpx.MockTransport(keycloak.handler))
    return TokenVerifier(settings, SERVICE, http=http, clock=clock)


async def test_a_remembered_token_is_refused_once_it_expires(keycloak: FakeKeycloak) -> None:
    clock = _Clock()
    verifier = _remembering_verifier(keycloak, clock)
    token = keycloak.token()
    await verifier.verify(token)
    clock.now = jwt.decode(token, options={"verify_signature": False})["exp"]
    with pytest.raises(AuthError) as error:
        await verifier.verify(token)
    assert error.value.reason == "expired"


async def test_a_token_differing_from_a_remembered_one_is_verified_anew(keycloak: FakeKeycloak) -> None:
    verifier = _remembering_verifier(keycloak, _Clock())
    token = keycloak.token()
    assert (await verifier.verify(token)).username == "qthanoi"
    assert (await verifier.verify(keycloak.token(preferred_username="qtdanang"))).username == "qtdanang"
    header, _, signature = token.split(".")
    forged = keycloak.token(realm_access={"roles": ["system-admin"]}).split(".")[1]
    with pytest.raises(AuthError) as error:
        await verifier.verify(f"{header}.{forged}.{signature}")
    assert error.value.reason == "signature"


async def test_a_remembered_token_is_refused_once_its_key_is_withdrawn(keycloak: FakeKeycloak) -> None:
    verifier = _remembering_verifier(keycloak, _Clock())
    token = keycloak.token("k1")
    await verifier.verify(token)
    keycloak.keys = {"k2": new_key()}
    await verifier.verify(keycloak.token("k2"))
    with pytest.raises(AuthError) as error:
        await verifier.verify(token)
    assert error.value.reason == "unknown_key"
