"""A cap on the size of request bodies, enforced before anything parses or authenticates them."""

from __future__ import annotations

from contextlib import suppress

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qlcb_common.http_errors import problem


class _TooLarge(Exception):
    """Raised into the app by `receive` once the body has grown past the limit."""


class BodyLimit:
    """Pure ASGI middleware answering 413 to a body larger than `max_bytes` (`upload_bytes` under
    the paths that take files, `upload_paths`): at once, without calling the app, when
    Content-Length says so; else (a chunked body, or one longer than it claimed) as soon as the
    bytes received pass the limit. Bytes are counted as they arrive, nothing is buffered here, and
    whatever the app answers to the cut-off body is dropped."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, *, upload_paths: tuple[str, ...] = (), upload_bytes: int = 0
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_paths = upload_paths
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if str(scope.get("path", "")).startswith(self.upload_paths) else self.max_bytes
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def send_unless_too_large(message: Message) -> None:
            nonlocal started
            if received <= limit:
                started = True
                await send(message)

        with suppress(_TooLarge):  # the app may also turn it into an answer of its own, dropped above
            await self.app(scope, counting_receive, send_unless_too_large)
        if received > limit and not started:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        message = f"Nội dung yêu cầu vượt quá giới hạn {limit} byte"
        await problem(413, "PayloadTooLarge", message)(scope, receive, send)
