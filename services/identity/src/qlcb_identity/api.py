from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials

from qlcb_common.auth import Principal, TokenVerifier
from qlcb_common.http_app import authenticate, bearer_scheme, instrument
from qlcb_common.ops_http import Readiness
from qlcb_common.settings import OidcSettings
from qlcb_common.tiers import Tier
from qlcb_identity.schemas import CallerPublic

SERVICE = "identity"
_TIERS = frozenset(t.value for t in Tier)


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    return await authenticate(SERVICE, verifier, credentials)


Caller = Annotated[Principal, Depends(caller)]


def create_app(oidc: OidcSettings | None = None) -> FastAPI:
    readiness = Readiness()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.verifier = TokenVerifier(oidc or OidcSettings())  # type: ignore[call-arg]
        yield

    app = FastAPI(
        title="QLCB Identity",
        version="1",
        description="Tài khoản và quyền truy cập: who the caller is, their tier and unit.",
        lifespan=lifespan,
    )
    instrument(app, service=SERVICE, readiness=readiness)

    @app.get("/v1/me", response_model=CallerPublic, tags=["Tài khoản"])
    async def me(principal: Caller) -> CallerPublic:
        return CallerPublic(
            subject=principal.subject,
            username=principal.username,
            tiers=sorted(Tier(r) for r in principal.roles if r in _TIERS),
            unit_path=principal.unit_path,
            unit_code=principal.unit_code,
        )

    return app
