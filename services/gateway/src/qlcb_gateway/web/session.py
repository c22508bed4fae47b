"""The web pages' session, held by the browser in cookies sealed with the gateway's key (ADR 0033):
Fernet encrypts and authenticates the tokens, so the browser can neither read them nor change them,
and its timestamp ends a session left unused for the idle time. A sealed session is larger than one
cookie may be (the access, refresh and ID tokens), so it is cut into numbered cookies."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from cryptography.fernet import Fernet, InvalidToken
from starlette.responses import Response

PATH = "/web"
SESSION_COOKIE = "qlcb_web"
LOGIN_COOKIE = "qlcb_web_login"
CHUNK = 3800
"""Characters of the sealed session per cookie: browsers keep cookies of up to 4096 bytes, name included."""
MAX_CHUNKS = 4
LOGIN_SECONDS = 600
"""How long a login begun here may take on Keycloak's pages before its state is refused."""


class SessionRefused(Exception):
    """The cookie is not one this gateway sealed (changed, cut, or sealed with another key)."""


class SessionExpired(Exception):
    """The session was sealed longer ago than the idle time allows."""


@dataclass(frozen=True)
class WebSession:
    access_token: str
    refresh_token: str
    id_token: str
    csrf_token: str


@dataclass(frozen=True)
class PendingLogin:
    """A login sent to Keycloak: the state it must come back with, the PKCE verifier of its
    challenge, and the page to return to."""

    state: str
    verifier: str
    next_page: str

    @classmethod
    def begin(cls, next_page: str) -> PendingLogin:
        return cls(state=secrets.token_urlsafe(32), verifier=secrets.token_urlsafe(64), next_page=next_page)


class SessionCookies:
    def __init__(self, key: str, idle_seconds: int, *, clock: Callable[[], float] = time.time) -> None:
        self._fernet = Fernet(key)
        self._idle = idle_seconds
        self._clock = clock

    def seal(self, session: WebSession) -> str:
        return self._seal(asdict(session))

    def open(self, sealed: str) -> WebSession:
        fields = self._open(sealed, self._idle)
        try:
            return WebSession(**fields)
        except TypeError as exc:
            raise SessionRefused("not a session") from exc

    def read(self, cookies: Mapping[str, str]) -> WebSession | None:
        """The session the request's cookies hold; None when they hold none. Raises SessionRefused
        or SessionExpired for one that cannot be used."""
        chunks = []
        for index in range(MAX_CHUNKS):
            chunk = cookies.get(f"{SESSION_COOKIE}{index}")
            if chunk is None:
                break
            chunks.append(chunk)
        if not chunks:
            return None
        return self.open("".join(chunks))

    def write(self, response: Response, session: WebSession, *, secure: bool) -> None:
        sealed = self.seal(session)
        chunks = [sealed[i : i + CHUNK] for i in range(0, len(sealed), CHUNK)]
        if len(chunks) > MAX_CHUNKS:
            raise ValueError(f"a sealed session of {len(sealed)} characters does not fit in {MAX_CHUNKS} cookies")
        for index in range(MAX_CHUNKS):
            name = f"{SESSION_COOKIE}{index}"
            if index < len(chunks):
                response.set_cookie(name, chunks[index], path=PATH, secure=secure, httponly=True, samesite="lax")
            else:
                response.delete_cookie(name, path=PATH, secure=secure, httponly=True, samesite="lax")

    def clear(self, response: Response, *, secure: bool) -> None:
        for index in range(MAX_CHUNKS):
            response.delete_cookie(f"{SESSION_COOKIE}{index}", path=PATH, secure=secure, httponly=True, samesite="lax")

    def write_login(self, response: Response, login: PendingLogin, *, secure: bool) -> None:
        response.set_cookie(
            LOGIN_COOKIE,
            self._seal(asdict(login)),
            max_age=LOGIN_SECONDS,
            path=PATH,
            secure=secure,
            httponly=True,
            samesite="lax",
        )

    def read_login(self, cookies: Mapping[str, str]) -> PendingLogin | None:
        """The login this browser began here, if it began one in the last LOGIN_SECONDS."""
        sealed = cookies.get(LOGIN_COOKIE)
        if sealed is None:
            return None
        try:
            return PendingLogin(**self._open(sealed, LOGIN_SECONDS))
        except (SessionRefused, SessionExpired, TypeError):
            return None

    def clear_login(self, response: Response, *, secure: bool) -> None:
        response.delete_cookie(LOGIN_COOKIE, path=PATH, secure=secure, httponly=True, samesite="lax")

    def _seal(self, fields: dict[str, str]) -> str:
        return self._fernet.encrypt_at_time(json.dumps(fields).encode(), int(self._clock())).decode()

    def _open(self, sealed: str, ttl: int) -> dict[str, str]:
        token = sealed.encode()
        try:
            sealed_at = self._fernet.extract_timestamp(token)
            content = self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise SessionRefused("not sealed with this gateway's key") from exc
        if self._clock() - sealed_at > ttl:
            raise SessionExpired(f"sealed {int(self._clock() - sealed_at)} s ago")
        fields = json.loads(content)
        if not isinstance(fields, dict):
            raise SessionRefused("not a session")
        return fields


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)
