from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from qlcb_common.auth import TokenVerifier
from qlcb_common.http_app import install_error_handlers, instrument
from qlcb_common.ops_http import Readiness
from qlcb_common.settings import HttpApiSettings, OidcSettings
from qlcb_gateway import errors, web
from qlcb_gateway.backends import Backends
from qlcb_gateway.dependencies import SERVICE
from qlcb_gateway.resume_files import register_fonts
from qlcb_gateway.routes import (
    audit,
    deadlines,
    decisions,
    exports,
    identity,
    imports,
    operations,
    organisation,
    quotas,
    record,
    reorganisation,
    report_exports,
    report_regimes,
    report_rollup,
    report_signatures,
    report_workflow,
    resume,
    search,
    statistics,
    transfers,
)
from qlcb_gateway.settings import GatewaySettings
from qlcb_gateway.web.state import WebState

UPLOAD_PATHS = ("/v1/imports/",)
"""The routes that take files (the bulk import): their bodies may be up to QLCB_HTTP_MAX_UPLOAD_BYTES."""


def create_app(
    settings: GatewaySettings | None = None, oidc: OidcSettings | None = None, http: HttpApiSettings | None = None
) -> FastAPI:
    readiness = Readiness()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        given = settings or GatewaySettings()  # type: ignore[call-arg]
        register_fonts(given.resume_font_dir)
        given_oidc = oidc or OidcSettings()  # type: ignore[call-arg]
        app.state.verifier = TokenVerifier(given_oidc, SERVICE)
        app.state.backends = Backends.connect(given)
        app.state.web = WebState.connect(given, given_oidc)
        try:
            yield
        finally:
            await app.state.web.close()
            await app.state.backends.close()

    app = FastAPI(
        title="QLCB — Hệ thống Quản lý cán bộ tập trung",
        version="1",
        description="REST API of the centralized personnel-records system.",
        lifespan=lifespan,
    )
    instrument(app, service=SERVICE, readiness=readiness, http=http or HttpApiSettings(), upload_paths=UPLOAD_PATHS)
    # Every operation calls a backend, which may be down or slow.
    install_error_handlers(app, every_operation=(503, 504))
    errors.install(app)
    # The export before the persons' routes: `/v1/persons/export` is not a person's id.
    for module in (
        exports,
        organisation,
        search,
        audit,
        record,
        resume,
        decisions,
        deadlines,
        reorganisation,
        quotas,
        report_regimes,
        report_workflow,
        report_exports,
        report_rollup,
        report_signatures,
        statistics,
        transfers,
        operations,
        identity,
        imports,
    ):
        app.include_router(module.router)
    web.install(app)
    return app
