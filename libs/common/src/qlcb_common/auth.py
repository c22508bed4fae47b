"""Bearer-token verification against Keycloak's JWKS, with no call to Keycloak per request.

Keys are cached by `kid`. A token signed with an unknown `kid` triggers one JWKS refresh
(key rotation), rate-limited so that a flood of forged kids cannot hammer Keycloak.
Only RS256 is accepted, so an HS256 token "signed" with the public key is refused.

A client sends the same token with every call until it expires, and the signature check is most
of a small call's cost, so a verified token is remembered, keyed by its exact text, and served
again only while it has not expired; a JWKS refresh forgets every remembered token.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from jwt.algorithms import RSAAlgorithm

from qlcb_common.settings import OidcSettings

ALGORITHM = "RS256"
UNIT_CLAIM = "unit"


class AuthError(Exception):
    """The bearer token is missing or invalid; `reason` is a short machine-readable cause."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the verified access token says."""

    subject: str
    username: str
    roles: frozenset[str]
    unit_path: str | None
    token: str = field(repr=False)
    claims: Mapping[str, Any] = field(repr=False, default_factory=dict)

    @property
    def unit_code(self) -> str | None:
        """The last segment of the unit path: the caller's own unit."""
        if not self.unit_path:
            return None
        return self.unit_path.rstrip("/").rsplit("/", 1)[-1] or None

    def has_any_role(self, roles: Sequence[str]) -> bool:
        return not self.roles.isdisjoint(roles)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("missing", "Thiếu bearer token (Authorization header)")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("malformed", "Authorization must be 'Bearer <token>'")
    return token.strip()


class TokenVerifier:
    """Verifies the tokens sent to one service's API: they must be meant for it (`aud`)."""

    def __init__(
        self,
        settings: OidcSettings,
        service: str,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuer = str(settings.issuer).rstrip("/")
        self._audience = settings.audience_of(service)
        self._jwks_url = settings.resolved_jwks_url
        self._leeway = settings.leeway_seconds
        self._min_refresh = settings.jwks_min_refresh_seconds
        self._http = http
        self._keys: dict[str, Any] = {}
        self._last_refresh = float("-inf")
        self._lock = asyncio.Lock()
        self._clock = clock
        self._cache_size = settings.verified_cache_size
        self._verified: dict[str, tuple[int, Principal]] = {}

    async def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            expires, principal = remembered
            if expires > self._clock() - self._leeway:  # as jwt.decode tests `exp`
                return principal
            del self._verified[token]
            raise AuthError("expired", "Token has expired")
        header = _header(token)
        if header.get("alg") != ALGORITHM:
            raise AuthError("algorithm", f"Token algorithm must be {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("malformed", "Token has no key id (kid)")
        key = await self._key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("expired", "Token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthError("audience", f"Token is not meant for {self._audience}") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthError("issuer", "Token was issued by another issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthError("signature", "Token signature is invalid") from exc
        except jwt.PyJWTError as exc:
            raise AuthError("invalid", f"Token is invalid: {exc}") from exc
        principal = _principal(token, claims)
        self._remember(token, int(claims["exp"]), principal)
        return principal

    def _remember(self, token: str, expires: int, principal: Principal) -> None:
        if self._cache_size == 0:
            return
        if len(self._verified) >= self._cache_size:
            del self._verified[next(iter(self._verified))]  # the oldest: dicts keep insertion order
        self._verified[token] = (expires, principal)

    async def _key(self, kid: str) -> Any:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._last_refresh >= self._min_refresh:
                await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise AuthError("unknown_key", "Token is signed with an unknown key")
        return key

    async def _refresh(self) -> None:
        self._last_refresh = time.monotonic()
        client = self._http or httpx.AsyncClient(timeout=5.0)
        try:
            response = await client.get(self._jwks_url)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise AuthError("jwks_unavailable", f"Cannot fetch signing keys: {exc}") from exc
        finally:
            if self._http is None:
                await client.aclose()
        keys: dict[str, Any] = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") == "RSA" and jwk.get("use", "sig") == "sig" and "kid" in jwk:
                keys[jwk["kid"]] = RSAAlgorithm.from_jwk(jwk)
        self._keys = keys
        self._verified.clear()  # a withdrawn key must not outlive the refresh in what it signed


def _header(token: str) -> dict[str, Any]:
    """The JOSE header alone: cheaper than PyJWT's parse, which also decodes payload and signature."""
    encoded, dot, _ = token.partition(".")
    try:
        if not dot:
            raise ValueError("no '.' separator")
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise AuthError("malformed", f"Token is not a JWT: {exc}") from exc
    if not isinstance(header, dict):
        raise AuthError("malformed", "Token header is not a JSON object")
    return header


def _principal(token: str, claims: Mapping[str, Any]) -> Principal:
    realm_access = claims.get("realm_access") or {}
    roles = frozenset(r for r in realm_access.get("roles", []) if isinstance(r, str))
    unit = claims.get(UNIT_CLAIM)
    if isinstance(unit, list):
        unit = unit[0] if unit else None
    return Principal(
        subject=str(claims["sub"]),
        username=str(claims.get("preferred_username", claims["sub"])),
        roles=roles,
        unit_path=unit if isinstance(unit, str) else None,
        token=token,
        claims=claims,
    )
