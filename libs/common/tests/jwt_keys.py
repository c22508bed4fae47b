"""A stand-in Keycloak for unit tests: RSA keys served as JWKS, and tokens signed with them."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://keycloak.test/realms/qlcb"
SERVICE = "personnel"  # the API the tokens are meant for


class FakeKeycloak:
    """Serves a JWKS document and counts how often it is fetched."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {"k1": new_key()}
        self.fetches = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        jwks = []
        for kid, key in self.keys.items():
            jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            jwks.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return httpx.Response(200, json={"keys": jwks})

    def token(self, kid: str = "k1", **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": ["qlcb-personnel", "account"],
            "sub": "user-1",
            "preferred_username": "qthanoi",
            "iat": now,
            "exp": now + 300,
            "realm_access": {"roles": ["local-admin", "offline_access"]},
            "unit": ["/TCHQ/HQHN"],
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.keys.get(kid) or new_key(), algorithm="RS256", headers={"kid": kid})


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
