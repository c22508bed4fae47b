from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from qlcb_common.auth import Principal
from qlcb_common.http_app import authenticate, bearer_scheme
from qlcb_gateway.backends import Backends

SERVICE = "gateway"


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    return await authenticate(SERVICE, request.app.state.verifier, credentials)


def backends(request: Request) -> Backends:
    found: Backends = request.app.state.backends
    return found


Caller = Annotated[Principal, Depends(caller)]
BackendsDep = Annotated[Backends, Depends(backends)]
