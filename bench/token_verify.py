"""Bearer-token verification: the shared TokenVerifier (cached JWKS) vs a bare PyJWT decode
with the same key and checks, with its cache of verified tokens off; then what a token it
has already verified costs with the cache on, as the services run it. The three are timed in
turns, round after round, so that what else the machine is doing weighs on each alike."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import jwt

from qlcb_common.auth import TokenVerifier
from qlcb_common.settings import Environment, OidcSettings, api_audience

N, ROUNDS = 3000, 10
SERVICE = "personnel"  # verifies as personnel's API does; the admin's token is meant for every API


async def measure(issuer: str, token: str) -> dict[str, float]:
    settings = OidcSettings(issuer=issuer, QLCB_ENVIRONMENT=Environment.DEVELOPMENT)  # type: ignore[arg-type]
    key = jwt.PyJWKClient(f"{issuer}/protocol/openid-connect/certs").get_signing_key_from_jwt(token).key
    uncached = TokenVerifier(settings.model_copy(update={"verified_cache_size": 0}), SERVICE)
    remembering = TokenVerifier(settings, SERVICE)

    async def bare() -> None:
        jwt.decode(token, key=key, algorithms=["RS256"], audience=api_audience(SERVICE), issuer=issuer)

    async def ours() -> None:
        await uncached.verify(token)

    async def remembered() -> None:
        await remembering.verify(token)

    ways: dict[str, Callable[[], Awaitable[None]]] = {"bare": bare, "ours": ours, "remembered": remembered}
    seconds = dict.fromkeys(ways, 0.0)
    for way in ways.values():
        await way()  # fills the key cache, and the remembered token
    for round_ in range(ROUNDS):
        for name in list(ways)[round_ % 3 :] + list(ways)[: round_ % 3]:
            started = time.perf_counter()
            for _ in range(N // ROUNDS):
                await ways[name]()
            seconds[name] += time.perf_counter() - started
    us = {name: total / N * 1e6 for name, total in seconds.items()}
    return {
        "bare_us": us["bare"],
        "ours_us": us["ours"],
        "ratio": us["ours"] / us["bare"],
        "remembered_us": us["remembered"],
    }
