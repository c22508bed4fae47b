from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qlcb_common.auth import Principal
from qlcb_common.http_app import caller_dependency
from qlcb_gateway.backends import Backends

SERVICE = "gateway"


def backends(request: Request) -> Backends:
    found: Backends = request.app.state.backends
    return found


Caller = Annotated[Principal, Depends(caller_dependency(SERVICE))]
BackendsDep = Annotated[Backends, Depends(backends)]
