"""The web pages' side of Keycloak's OpenID Connect endpoints: authorization code with PKCE (S256),
refresh, whether the Keycloak session behind a page's token still stands, and the end of the
Keycloak session at logout."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx


class KeycloakRefused(Exception):
    """Keycloak answered the token request with an error: the code or refresh token is not (or no
    longer) good, e.g. the Keycloak session ended or the account was disabled."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    id_token: str


def code_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class WebClient:
    def __init__(self, issuer: str, client_id: str, http: httpx.AsyncClient) -> None:
        self._endpoints = issuer.rstrip("/") + "/protocol/openid-connect"
        self._client_id = client_id
        self._http = http

    def authorization_url(self, *, redirect_uri: str, state: str, verifier: str) -> str:
        query = {
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "state": state,
            "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        return f"{self._endpoints}/auth?{urlencode(query)}"

    def end_session_url(self, *, id_token: str, post_logout_redirect_uri: str) -> str:
        query = {"id_token_hint": id_token, "post_logout_redirect_uri": post_logout_redirect_uri}
        return f"{self._endpoints}/logout?{urlencode(query)}"

    async def exchange(self, *, code: str, verifier: str, redirect_uri: str) -> Tokens:
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": redirect_uri}
        )

    async def refresh(self, refresh_token: str, id_token: str) -> Tokens:
        """New tokens for the refresh token; Keycloak sends no new ID token on refresh unless asked,
        so the one of the login is kept for the logout's hint."""
        tokens = await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})
        return Tokens(tokens.access_token, tokens.refresh_token, tokens.id_token or id_token)

    async def session_stands(self, access_token: str) -> bool:
        """Whether Keycloak still serves the token's account and session (its userinfo endpoint): no
        once the account is disabled or its sessions ended, though the token's signature and lifetime
        still hold. Raises httpx.HTTPError when Keycloak cannot be reached."""
        response = await self._http.get(
            f"{self._endpoints}/userinfo", headers={"Authorization": f"Bearer {access_token}"}
        )
        if response.status_code in (401, 403):
            return False
        response.raise_for_status()
        return True

    async def _token(self, form: dict[str, str]) -> Tokens:
        """Raises KeycloakRefused for a refused grant, httpx.HTTPError when Keycloak cannot be reached."""
        response = await self._http.post(f"{self._endpoints}/token", data={"client_id": self._client_id, **form})
        if response.status_code in (400, 401):
            raise KeycloakRefused(response.text[:200])
        response.raise_for_status()
        body = response.json()
        return Tokens(body["access_token"], body.get("refresh_token", ""), body.get("id_token", ""))
