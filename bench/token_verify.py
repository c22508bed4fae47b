"""Bearer-token verification: the shared TokenVerifier (cached JWKS) vs a bare PyJWT decode
with the same key and checks."""

from __future__ import annotations

import time

import jwt

from qlcb_common.auth import TokenVerifier
from qlcb_common.settings import OidcSettings, api_audience

N = 3000
SERVICE = "personnel"  # verifies as personnel's API does; the admin's token is meant for every API


async def measure(issuer: str, token: str) -> dict[str, float]:
    verifier = TokenVerifier(OidcSettings(issuer=issuer), SERVICE)  # type: ignore[arg-type]
    await verifier.verify(token)  # warms the key cache
    key = jwt.PyJWKClient(f"{issuer}/protocol/openid-connect/certs").get_signing_key_from_jwt(token).key
    started = time.perf_counter()
    for _ in range(N):
        jwt.decode(token, key=key, algorithms=["RS256"], audience=api_audience(SERVICE), issuer=issuer)
    bare = (time.perf_counter() - started) / N
    started = time.perf_counter()
    for _ in range(N):
        await verifier.verify(token)
    ours = (time.perf_counter() - started) / N
    return {"bare_us": bare * 1e6, "ours_us": ours * 1e6, "ratio": ours / bare}
