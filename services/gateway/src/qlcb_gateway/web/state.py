"""What the web pages hold while the gateway runs: the session cookies' key, Keycloak's endpoints, and
the security headers every page carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qlcb_common.settings import OidcSettings
from qlcb_gateway.settings import GatewaySettings
from qlcb_gateway.web.kept import Kept
from qlcb_gateway.web.keycloak import WebClient
from qlcb_gateway.web.notice_board import NoticeBoard
from qlcb_gateway.web.session import PATH, SessionCookies


@dataclass
class WebState:
    cookies: SessionCookies
    client: WebClient
    http: httpx.AsyncClient
    headers: tuple[tuple[str, str], ...]
    catalog_labels: Kept[dict[str, str]] = field(default_factory=Kept)
    filter_choices: Kept[list[tuple[str, str]]] = field(default_factory=Kept)
    account_names: Kept[str] = field(default_factory=Kept)
    notices: NoticeBoard = field(default_factory=NoticeBoard)

    @classmethod
    def connect(cls, settings: GatewaySettings, oidc: OidcSettings) -> WebState:
        issuer = str(oidc.issuer).rstrip("/")
        http = httpx.AsyncClient(timeout=settings.call_timeout_seconds)
        return cls(
            cookies=SessionCookies(settings.session_key(), settings.web_session_idle_seconds),
            client=WebClient(issuer, settings.web_client_id, http),
            http=http,
            headers=security_headers(issuer),
        )

    async def close(self) -> None:
        await self.http.aclose()


def security_headers(issuer: str) -> tuple[tuple[str, str], ...]:
    """The headers of every page: no script at all, styles and images only from here, forms posted
    only here or to Keycloak (the logout's redirect to end its session), never in a frame."""
    parts = urlsplit(issuer)
    keycloak = f"{parts.scheme}://{parts.netloc}"
    policy = (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        f"form-action 'self' {keycloak}; frame-ancestors 'none'; base-uri 'none'"
    )
    return (
        ("content-security-policy", policy),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
    )


class SecurityHeaders:
    """Adds the pages' security headers to every response under /web (error pages and redirects
    included), leaving the REST API's as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (scope["path"] == PATH or scope["path"].startswith(PATH + "/")):
            await self.app(scope, receive, send)
            return
        web: WebState = scope["app"].state.web

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in web.headers:
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
