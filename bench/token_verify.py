"""Bearer-token verification: the shared TokenVerifier (cached JWKS) vs a bare PyJWT decode
with the same key and checks, with its cache of verified tokens off; then what a token it
has already verified costs with the cache on, as the services run it. The three are timed in
turns, round after round, so that what else the machine is doing weighs on each alike.

Before the timing, each of the three must return the token's subject, and the bare decode and
the uncached verifier must refuse the token with its signature altered: a way that verified
nothing would otherwise look fast."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import jwt

from qlcb_common.auth import AuthError, TokenVerifier
from qlcb_common.settings import Environment, OidcSettings, api_audience

SERVICE = "personnel"  # verifies as personnel's API does; the admin's token is meant for every API


@dataclass(frozen=True)
class Sizes:
    """`tokens` verifications by each way, split into `rounds` rounds that take turns."""

    tokens: int = 3000
    rounds: int = 10

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.tokens < self.rounds or self.tokens % self.rounds:
            raise ValueError(f"tokens ({self.tokens}) must be a multiple of rounds ({self.rounds}) ≥ 1")


SMOKE = Sizes(tokens=30, rounds=3)


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    bare_us: float
    ours_us: float
    remembered_us: float
    verified: dict[str, int]
    """Verifications each way made while timed: `sizes.tokens` each."""
    forged_refused: int
    """Ways that refused the token with an altered signature (the bare decode, the uncached verifier)."""

    @property
    def ratio(self) -> float:
        return self.ours_us / self.bare_us


def _forged(token: str) -> str:
    """The token with the first character of its signature changed (the last one's low bits are
    padding, which a decoder may ignore)."""
    signed, _, signature = token.rpartition(".")
    return f"{signed}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


async def measure(issuer: str, token: str, sizes: Sizes = Sizes()) -> Result:
    settings = OidcSettings(issuer=issuer, QLCB_ENVIRONMENT=Environment.DEVELOPMENT)  # type: ignore[arg-type]
    key = jwt.PyJWKClient(f"{issuer}/protocol/openid-connect/certs").get_signing_key_from_jwt(token).key
    uncached = TokenVerifier(settings.model_copy(update={"verified_cache_size": 0}), SERVICE)
    remembering = TokenVerifier(settings, SERVICE)

    def decode(text: str) -> str:
        claims = jwt.decode(text, key=key, algorithms=["RS256"], audience=api_audience(SERVICE), issuer=issuer)
        return str(claims["sub"])

    async def bare() -> str:
        return decode(token)

    async def ours() -> str:
        return (await uncached.verify(token)).subject

    async def remembered() -> str:
        return (await remembering.verify(token)).subject

    ways: dict[str, Callable[[], Awaitable[str]]] = {"bare": bare, "ours": ours, "remembered": remembered}
    subject = str(jwt.decode(token, options={"verify_signature": False})["sub"])
    for name, way in ways.items():  # fills the key cache, and the remembered token
        if (found := await way()) != subject:
            raise RuntimeError(f"{name}: the token's subject is {subject!r}, verification gave {found!r}")
    forged_refused = 0
    try:
        decode(_forged(token))
    except jwt.InvalidSignatureError:
        forged_refused += 1
    try:
        await uncached.verify(_forged(token))
    except AuthError:
        forged_refused += 1
    if forged_refused != 2:
        raise RuntimeError("a token with an altered signature was accepted")
    seconds = dict.fromkeys(ways, 0.0)
    verified = dict.fromkeys(ways, 0)
    for round_ in range(sizes.rounds):
        for name in list(ways)[round_ % 3 :] + list(ways)[: round_ % 3]:
            way = ways[name]
            started = time.perf_counter()
            for _ in range(sizes.tokens // sizes.rounds):
                await way()
            seconds[name] += time.perf_counter() - started
            verified[name] += sizes.tokens // sizes.rounds
    us = {name: total / sizes.tokens * 1e6 for name, total in seconds.items()}
    return Result(sizes, us["bare"], us["ours"], us["remembered"], verified, forged_refused)
