"""Request dependencies. Each is `async def` though it awaits nothing: FastAPI runs a plain
function dependency in a worker thread, a hop for every request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qlcb_common.auth import Principal
from qlcb_common.http_app import caller_dependency
from qlcb_gateway.backends import Backends

SERVICE = "gateway"


async def backends(request: Request) -> Backends:
    found: Backends = request.app.state.backends
    return found


Caller = Annotated[Principal, Depends(caller_dependency(SERVICE))]
BackendsDep = Annotated[Backends, Depends(backends)]
