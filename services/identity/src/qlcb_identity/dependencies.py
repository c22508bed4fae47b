from __future__ import annotations

from typing import Annotated

from cryptography.fernet import Fernet
from fastapi import Depends, Request

from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.http_app import caller_dependency

SERVICE = "identity"


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def sealer(request: Request) -> Fernet:
    fernet: Fernet = request.app.state.sealer
    return fernet


Caller = Annotated[Principal, Depends(caller_dependency(SERVICE))]
DatabaseDep = Annotated[Database, Depends(database)]
SealerDep = Annotated[Fernet, Depends(sealer)]
