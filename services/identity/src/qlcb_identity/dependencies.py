"""Request dependencies. Each is `async def` though it awaits nothing: FastAPI runs a plain
function dependency in a worker thread, a hop for every request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.http_app import caller_dependency
from qlcb_identity.credentials import Courier
from qlcb_identity.settings import IdentitySettings

SERVICE = "identity"


async def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def courier(request: Request) -> Courier:
    found: Courier = request.app.state.courier
    return found


async def settings(request: Request) -> IdentitySettings:
    found: IdentitySettings = request.app.state.settings
    return found


Caller = Annotated[Principal, Depends(caller_dependency(SERVICE))]
DatabaseDep = Annotated[Database, Depends(database)]
CourierDep = Annotated[Courier, Depends(courier)]
SettingsDep = Annotated[IdentitySettings, Depends(settings)]
