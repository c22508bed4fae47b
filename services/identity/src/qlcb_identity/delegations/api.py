from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from qlcb_common.authz import Action, Scope, Section
from qlcb_identity.audit.service import audited
from qlcb_identity.delegations import service
from qlcb_identity.delegations.models import DelegationRecord
from qlcb_identity.dependencies import Caller, DatabaseDep

router = APIRouter(prefix="/v1", tags=["Ủy quyền"])


class DelegationCreate(BaseModel):
    unit_path: str = Field(pattern=r"^(/[A-Z0-9][A-Z0-9_-]{1,31})+$", description="Đơn vị được ủy quyền")
    section: Section
    action: Action
    scope: Literal["own_unit", "subtree"] = Field(description="Đơn vị mình, hoặc cả các đơn vị trực thuộc")
    reason: str = Field(min_length=1, max_length=1000, description="Căn cứ, e.g. quyết định ủy quyền")


class DelegationPublic(BaseModel):
    id: str
    unit_path: str
    section: Section
    action: Action
    scope: str
    granted_by: str
    granted_at: datetime
    revoked_at: datetime | None


def _public(record: DelegationRecord) -> DelegationPublic:
    return DelegationPublic.model_validate(record, from_attributes=True)


@router.post("/delegations", status_code=status.HTTP_201_CREATED)
async def grant(body: DelegationCreate, actor: Caller, db: DatabaseDep, request: Request) -> DelegationPublic:
    """Ủy quyền cho đơn vị; có hiệu lực ở mọi dịch vụ trong vài giây."""
    record = await audited(
        db,
        actor,
        "delegation.grant",
        body.unit_path,
        lambda s: service.grant(
            s,
            actor=actor,
            outbox=request.app.state.outbox,
            unit_path=body.unit_path,
            section=body.section,
            action=body.action,
            scope=Scope[body.scope.upper()],
            reason=body.reason,
        ),
    )
    return _public(record)


@router.delete("/delegations/{delegation_id}")
async def revoke(delegation_id: str, actor: Caller, db: DatabaseDep, request: Request) -> DelegationPublic:
    """Thu hồi ủy quyền."""
    record = await audited(
        db,
        actor,
        "delegation.revoke",
        delegation_id,
        lambda s: service.revoke(s, actor=actor, outbox=request.app.state.outbox, delegation_id=delegation_id),
    )
    return _public(record)


@router.get("/delegations")
async def in_force(actor: Caller, db: DatabaseDep) -> list[DelegationPublic]:
    async with db.unit_of_work() as session:
        return [_public(r) for r in await service.in_force(session)]
