"""Control characters refused in a request's path and query, before any route reads them.

A path parameter or query value is an id, a code, a date or words to search for: none holds a
control character (C0 or DEL), and PostgreSQL cannot hold U+0000 at all. Refused here, each is
named (422, as FastAPI names a parameter it refuses) instead of reaching a service's statement as an
argument. The OpenAPI documents say so: every string parameter of a path or query without a pattern
of its own carries `NO_CONTROLS` (`http_errors.document`)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from qlcb_common.text import control_message

NO_CONTROLS = "^[^\\x00-\\x1f\\x7f]*$"
"""The pattern of a path or query parameter: no control character."""
_CONTROL = re.compile("[\\x00-\\x1f\\x7f]")


class ControlCharactersRefused:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (faults := _faults(scope)):
            detail = [{"loc": loc, "msg": message, "type": "value_error"} for loc, message in faults]
            await JSONResponse({"detail": detail}, status_code=422)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _controls(text: str) -> list[str]:
    return list(dict.fromkeys(_CONTROL.findall(text)))


def _faults(scope: Scope) -> list[tuple[list[str], str]]:
    faults: list[tuple[list[str], str]] = []
    if found := _controls(str(scope.get("path", ""))):
        faults.append((["path"], control_message(found)))
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    if "%" in query:  # a control character in a query is percent-encoded, or the server refused it
        for name, value in parse_qsl(query, keep_blank_values=True, errors="surrogateescape"):
            if found := _controls(name) or _controls(value):
                faults.append((["query", name], control_message(found)))
    return faults
