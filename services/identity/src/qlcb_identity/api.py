from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from qlcb_common.auth import TokenVerifier
from qlcb_common.db import Database
from qlcb_common.faults import FaultPoints
from qlcb_common.http_app import install_error_handlers, instrument
from qlcb_common.ops_http import Readiness
from qlcb_common.settings import HttpApiSettings, OidcSettings
from qlcb_common.shutdown import Stopping, Workers
from qlcb_identity import unavailable, whoami
from qlcb_identity.account_incidents import api as account_incidents_api
from qlcb_identity.account_list import api as account_list_api
from qlcb_identity.account_names import api as account_names_api
from qlcb_identity.account_requests import api as account_requests_api
from qlcb_identity.account_roles import api as account_roles_api
from qlcb_identity.account_sections import api as account_sections_api
from qlcb_identity.account_view import api as account_view_api
from qlcb_identity.audit import api as audit_api
from qlcb_identity.audit import keycloak_events
from qlcb_identity.credential_mail import SmtpMailer, run_mailer
from qlcb_identity.credentials import Courier
from qlcb_identity.db_models import make_inbox, make_outbox
from qlcb_identity.delegations import api as delegations_api
from qlcb_identity.dependencies import SERVICE
from qlcb_identity.events import run_events
from qlcb_identity.federation import api as federation_api
from qlcb_identity.federation.service import keep_partner_mappers
from qlcb_identity.lifecycle import api as lifecycle_api
from qlcb_identity.notices import api as notices_api
from qlcb_identity.positions import service as position_checks
from qlcb_identity.purpose_accounts import api as purpose_accounts_api
from qlcb_identity.realm import api as realm_api
from qlcb_identity.realm.admin import AdminClients, keycloak_admin, realm_sync
from qlcb_identity.realm.api import keep_realm
from qlcb_identity.settings import IdentitySettings

MAILER_INTERVAL_SECONDS = 5.0


def create_app(
    settings: IdentitySettings, oidc: OidcSettings | None = None, http: HttpApiSettings | None = None
) -> FastAPI:
    readiness = Readiness("realm", "database", "nats")
    inbox = make_inbox()
    outbox = make_outbox()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.verifier = TokenVerifier(oidc or OidcSettings(), SERVICE)  # type: ignore[call-arg]
        app.state.realm = realm_sync(settings)
        faults = FaultPoints.from_settings()
        db = Database(settings.database_url)
        app.state.db = db
        app.state.outbox = outbox
        courier = Courier(
            sealer=settings.credential_sealer(),
            lifetime=timedelta(hours=settings.credential_lifetime_hours),
        )
        app.state.courier = courier
        app.state.keycloak_admin = AdminClients(lambda: keycloak_admin(settings, app.state.realm.name))
        admin = app.state.keycloak_admin
        mailer = SmtpMailer(settings)

        async def realm(stopping: Stopping) -> None:
            await keep_realm(app.state.realm, readiness, stopping)

        async def events(stopping: Stopping) -> None:
            await run_events(settings, app.state.realm.name, admin, db, inbox, outbox, readiness, faults, stopping)

        async def admin_events(stopping: Stopping) -> None:
            await keycloak_events.follow(db, admin, settings.admin_events_interval_seconds, stopping)

        async def mail(stopping: Stopping) -> None:
            await run_mailer(db, courier, mailer, admin, MAILER_INTERVAL_SECONDS, stopping)

        async def partner_mappers(stopping: Stopping) -> None:
            await keep_partner_mappers(admin, settings.federation_check_interval_seconds, stopping)

        # Stopped once uvicorn has drained the HTTP requests in flight, each finishing what it holds.
        async def positions(stopping: Stopping) -> None:
            await position_checks.keep_checking(db, admin, settings.positions_check_interval_seconds, stopping)

        workers = Workers([realm, events, admin_events, mail, partner_mappers, positions])
        workers.start()
        try:
            yield
        finally:
            await workers.stop(settings.shutdown_grace_seconds)
            await db.dispose()

    app = FastAPI(
        title="QLCB Identity",
        version="1",
        description="Tài khoản và quyền truy cập: who the caller is, their tier and unit.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    instrument(app, service=SERVICE, readiness=readiness, http=http or HttpApiSettings())
    install_error_handlers(app, every_operation=(503,))
    unavailable.install(app)
    app.include_router(whoami.router)
    app.include_router(realm_api.router)
    app.include_router(account_requests_api.router)
    app.include_router(audit_api.router)
    app.include_router(federation_api.router)
    app.include_router(account_incidents_api.router)
    app.include_router(purpose_accounts_api.router)
    app.include_router(account_roles_api.router)
    app.include_router(account_sections_api.router)
    app.include_router(notices_api.router)
    app.include_router(account_list_api.router)
    app.include_router(account_view_api.router)
    app.include_router(account_names_api.router)
    app.include_router(delegations_api.router)
    app.include_router(lifecycle_api.router)

    return app
