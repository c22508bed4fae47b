from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter, Request
from prometheus_client import Gauge

from qlcb_common.errors import PermissionDenied
from qlcb_common.ops_http import Readiness
from qlcb_common.shutdown import Stopping
from qlcb_common.tiers import Tier
from qlcb_identity.dependencies import Caller
from qlcb_identity.realm.sync import RealmSync
from qlcb_identity.schemas import DriftPublic

REALM_DRIFT = Gauge("qlcb_identity_realm_drift_items", "Differences between the live realm and its definition")
log = structlog.get_logger(__name__)
router = APIRouter(prefix="/v1", tags=["Realm"])


@router.get("/realm/drift")
async def realm_drift(principal: Caller, request: Request) -> list[DriftPublic]:
    """Differences between the live realm and its definition in the repository."""
    if not principal.has_any_role((Tier.SYSTEM_ADMIN,)):
        raise PermissionDenied("Chỉ quản trị hệ thống")
    drift = await asyncio.to_thread(request.app.state.realm.diff)
    REALM_DRIFT.set(len(drift))
    return [DriftPublic(kind=d.kind, name=d.name, field=d.field, description=d.describe()) for d in drift]


async def keep_realm(sync: RealmSync, readiness: Readiness, stopping: Stopping) -> None:
    """Applies the realm definition at start-up (waiting for Keycloak), then checks for drift
    hourly, until stopping."""
    delay = 0.5
    while not stopping.is_set():
        try:
            corrected = await asyncio.to_thread(sync.apply)
        except Exception as exc:
            log.warning("cannot apply the realm definition yet", error=repr(exc))
            await stopping.sleep(delay)
            delay = min(delay * 2, 10.0)
            continue
        log.info("realm definition applied", corrected=len(corrected))
        readiness.mark("realm")
        break
    while not await stopping.sleep(3600):
        try:
            REALM_DRIFT.set(len(await asyncio.to_thread(sync.diff)))
        except Exception as exc:
            log.warning("realm drift check failed", error=repr(exc))
