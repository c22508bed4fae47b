"""A partner agency's discovery: https only outside development, the issuer and every endpoint
its document names (the running system's refusal of an http issuer: tests/integration)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qlcb_common.errors import InvalidArgument
from qlcb_identity.federation.service import discover

ISSUER = "https://sso.btc.example/realms/btc"


def _provider(**endpoints: str) -> httpx.MockTransport:
    document: dict[str, Any] = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/auth",
        "token_endpoint": f"{ISSUER}/token",
        "userinfo_endpoint": f"{ISSUER}/userinfo",
        "jwks_uri": f"{ISSUER}/certs",
    } | endpoints
    return httpx.MockTransport(lambda request: httpx.Response(200, json=document))


async def test_an_https_provider_is_read() -> None:
    document = await discover(ISSUER, allow_http=False, transport=_provider())
    assert document["token_endpoint"] == f"{ISSUER}/token"


async def test_an_http_issuer_is_refused_before_anything_is_fetched() -> None:
    def fetched(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"fetched {request.url}")

    with pytest.raises(InvalidArgument) as refused:
        await discover("http://sso.btc.example/realms/btc", allow_http=False, transport=httpx.MockTransport(fetched))
    assert [v.field for v in refused.value.violations] == ["issuer"]
    assert "https" in refused.value.violations[0].description


@pytest.mark.parametrize("endpoint", ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"])
async def test_an_https_issuer_naming_a_plain_http_endpoint_is_refused(endpoint: str) -> None:
    transport = _provider(**{endpoint: "http://sso.btc.example/plain"})
    with pytest.raises(InvalidArgument) as refused:
        await discover(ISSUER, allow_http=False, transport=transport)
    assert [v.field for v in refused.value.violations] == ["issuer"]
    assert endpoint in refused.value.violations[0].description


async def test_development_reads_a_plain_http_provider() -> None:
    issuer = "http://127.0.0.1:8080/realms/btc"
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, json={"issuer": issuer, "token_endpoint": f"{issuer}/token"})
    )
    document = await discover(issuer, allow_http=True, transport=transport)
    assert document["issuer"] == issuer
