from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from cryptography.fernet import Fernet
from fastapi import FastAPI, HTTPException
from prometheus_client import Gauge

from qlcb_common.auth import TokenVerifier
from qlcb_common.db import Database
from qlcb_common.events import streams
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.inbox import Inbox
from qlcb_common.events.streams import ensure_streams
from qlcb_common.http_app import install_error_handlers, instrument
from qlcb_common.nats_connection import connect
from qlcb_common.ops_http import Readiness
from qlcb_common.settings import OidcSettings
from qlcb_common.tiers import Tier
from qlcb_identity.account_incidents import api as account_incidents_api
from qlcb_identity.account_requests import api as account_requests_api
from qlcb_identity.account_roles import api as account_roles_api
from qlcb_identity.audit import api as audit_api
from qlcb_identity.audit import keycloak_events
from qlcb_identity.db_models import Base, make_inbox
from qlcb_identity.dependencies import SERVICE, Caller
from qlcb_identity.federation import api as federation_api
from qlcb_identity.purpose_accounts import api as purpose_accounts_api
from qlcb_identity.realm.admin import keycloak_admin, realm_sync
from qlcb_identity.realm.sync import RealmSync
from qlcb_identity.schemas import CallerPublic, DriftPublic
from qlcb_identity.settings import IdentitySettings
from qlcb_identity.unit_groups.projection import UNIT_SUBJECTS, projection

REALM_DRIFT = Gauge("qlcb_identity_realm_drift_items", "Differences between the live realm and its definition")
log = structlog.get_logger(__name__)
_TIERS = frozenset(t.value for t in Tier)


def create_app(settings: IdentitySettings, oidc: OidcSettings | None = None) -> FastAPI:
    readiness = Readiness("realm", "database", "nats")
    inbox = make_inbox()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.verifier = TokenVerifier(oidc or OidcSettings())  # type: ignore[call-arg]
        app.state.realm = realm_sync(settings)
        db = Database(settings.database_url)
        app.state.db = db
        app.state.sealer = Fernet(settings.credential_key.get_secret_value().encode())
        app.state.keycloak_admin = lambda: keycloak_admin(settings, app.state.realm.name)
        tasks = [
            asyncio.create_task(_keep_realm(app.state.realm, readiness)),
            asyncio.create_task(_follow_units(settings, app.state.realm.name, db, inbox, readiness)),
            asyncio.create_task(
                keycloak_events.follow(db, app.state.keycloak_admin, settings.admin_events_interval_seconds)
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await db.dispose()

    app = FastAPI(
        title="QLCB Identity",
        version="1",
        description="Tài khoản và quyền truy cập: who the caller is, their tier and unit.",
        lifespan=lifespan,
    )
    instrument(app, service=SERVICE, readiness=readiness)
    install_error_handlers(app)
    app.include_router(account_requests_api.router)
    app.include_router(audit_api.router)
    app.include_router(federation_api.router)
    app.include_router(account_incidents_api.router)
    app.include_router(purpose_accounts_api.router)
    app.include_router(account_roles_api.router)

    @app.get("/v1/me", response_model=CallerPublic, tags=["Tài khoản"])
    async def me(principal: Caller) -> CallerPublic:
        return CallerPublic(
            subject=principal.subject,
            username=principal.username,
            tiers=sorted(Tier(r) for r in principal.roles if r in _TIERS),
            unit_path=principal.unit_path,
            unit_code=principal.unit_code,
        )

    @app.get("/v1/realm/drift", tags=["Realm"])
    async def realm_drift(principal: Caller) -> list[DriftPublic]:
        """Differences between the live realm and its definition in the repository."""
        if Tier.SYSTEM_ADMIN not in principal.roles:
            raise HTTPException(status_code=403, detail="Chỉ quản trị hệ thống")
        drift = await asyncio.to_thread(app.state.realm.diff)
        REALM_DRIFT.set(len(drift))
        return [DriftPublic(kind=d.kind, name=d.name, field=d.field, description=d.describe()) for d in drift]

    return app


async def _follow_units(
    settings: IdentitySettings, realm: str, db: Database, inbox: Inbox, readiness: Readiness
) -> None:
    """Mirrors personnel's unit tree into Keycloak groups, event by event."""
    await db.wait_connected()
    await db.create_schema(Base.metadata)
    readiness.mark("database")
    nc = await connect(settings.nats_url, name="qlcb-identity")
    try:
        await ensure_streams(nc.jetstream())
        readiness.mark("nats")
        consumer = DurableConsumer(
            name="identity-units",
            stream=streams.PERSONNEL,
            filter_subjects=list(UNIT_SUBJECTS),
            db=db,
            inbox=inbox,
            js=nc.jetstream(),
            handler=projection(lambda: keycloak_admin(settings, realm)),
        )
        await consumer.run()
    finally:
        await nc.close()


async def _keep_realm(sync: RealmSync, readiness: Readiness) -> None:
    """Applies the realm definition at start-up (waiting for Keycloak), then checks for drift hourly."""
    delay = 0.5
    while True:
        try:
            corrected = await asyncio.to_thread(sync.apply)
        except Exception as exc:
            log.warning("cannot apply the realm definition yet", error=repr(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
            continue
        log.info("realm definition applied", corrected=len(corrected))
        readiness.mark("realm")
        break
    while True:
        await asyncio.sleep(3600)
        try:
            REALM_DRIFT.set(len(await asyncio.to_thread(sync.diff)))
        except Exception as exc:
            log.warning("realm drift check failed", error=repr(exc))
