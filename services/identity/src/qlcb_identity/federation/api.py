from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, status

from qlcb_common.errors import PermissionDenied
from qlcb_common.tiers import Tier
from qlcb_identity.audit import service as audit
from qlcb_identity.dependencies import Caller, DatabaseDep, SettingsDep
from qlcb_identity.federation import service
from qlcb_identity.federation.schemas import AgencyCreate, AgencyPublic

router = APIRouter(prefix="/v1", tags=["Liên kết cơ quan khác"])


@router.post("/federation/agencies", status_code=status.HTTP_201_CREATED)
async def register_agency(
    body: AgencyCreate, actor: Caller, db: DatabaseDep, settings: SettingsDep, request: Request
) -> AgencyPublic:
    """Liên kết đăng nhập của cơ quan khác (OIDC), với ánh xạ claim → cấp và đơn vị.

    The issuer and the endpoints its discovery document names are https (plain http only on a
    development system); no claim is mapped to the system-admin tier or a sector tier."""
    if not actor.has_any_role((Tier.SYSTEM_ADMIN,)):
        async with db.unit_of_work() as session:
            audit.record(session, actor=actor, action="federation.register", target=body.alias, outcome="refused")
        raise PermissionDenied("Chỉ quản trị hệ thống liên kết cơ quan khác")
    discovery = await service.discover(str(body.issuer), allow_http=settings.federation_allow_http_issuers)
    await asyncio.to_thread(service.register, request.app.state.keycloak_admin(), body, discovery)
    async with db.unit_of_work() as session:
        audit.record(
            session,
            actor=actor,
            action="federation.register",
            target=body.alias,
            after=body.model_dump(mode="json", exclude={"client_secret"}),
        )
    return AgencyPublic(
        alias=body.alias, display_name=body.display_name, issuer=discovery["issuer"], mappings=body.mappings
    )
