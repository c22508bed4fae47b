from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from qlcb_common.authz import Action, Section
from qlcb_common.authz.delegations import MAX_PERSONS
from qlcb_common.days import IsoDay
from qlcb_common.identifiers import UNIT_PATH_PATTERN, UUID_PATTERN, anchored
from qlcb_common.tiers import Tier
from qlcb_identity.audit.service import audited
from qlcb_identity.delegations import service
from qlcb_identity.delegations.models import DelegationRecord
from qlcb_identity.dependencies import Caller, DatabaseDep

router = APIRouter(prefix="/v1", tags=["Ủy quyền"])


UNIT_PATH = anchored(UNIT_PATH_PATTERN)
UUID = anchored(UUID_PATTERN)
DelegableTier = Literal["hq-department", "hq-unit", "local-admin", "local-officer", "unit-leader"]
DelegableSection = Literal[
    "unit",
    "identity",
    "work_history",
    "movement",
    "salary",
    "training",
    "evaluation",
    "rewards_discipline",
    "asset_declaration",
    "labour_contract",
    "family",
    "reports",
]
DelegableAction = Literal["read", "create", "update", "export"]


class DelegatedRecords(BaseModel):
    """The records a delegation covers: a unit subtree anywhere in the sector, people wherever
    they sit, or both."""

    model_config = ConfigDict(extra="forbid")

    unit_path: str | None = Field(default=None, pattern=UNIT_PATH, max_length=1024, description="Cây đơn vị")
    person_ids: list[Annotated[str, Field(pattern=UUID)]] = Field(
        default_factory=list, max_length=MAX_PERSONS, description="Danh sách hồ sơ"
    )


class DelegationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_path: str = Field(pattern=UNIT_PATH, max_length=1024, description="Đơn vị được ủy quyền")
    tiers: list[DelegableTier] = Field(min_length=1, max_length=5, description="Các cấp của đơn vị được dùng quyền")
    records: DelegatedRecords = Field(description="Hồ sơ được ủy quyền quản lý")
    sections: list[DelegableSection] = Field(min_length=1, max_length=9, description="Các phần hồ sơ")
    actions: list[DelegableAction] = Field(min_length=1, max_length=4, description="Các thao tác")
    valid_from: IsoDay = Field(description="Hiệu lực từ ngày")
    valid_to: IsoDay | None = Field(default=None, description="Hiệu lực đến hết ngày; trống là không thời hạn")
    reason: str = Field(min_length=1, max_length=1000, description="Căn cứ, e.g. quyết định ủy quyền")


class DelegationPublic(BaseModel):
    id: str
    unit_path: str
    tiers: list[str]
    sections: list[str]
    actions: list[str]
    target_unit_path: str | None
    person_ids: list[str]
    valid_from: IsoDay
    valid_to: IsoDay | None
    reason: str
    granted_by: str
    granted_at: datetime
    revoked_at: datetime | None


def _public(record: DelegationRecord) -> DelegationPublic:
    return DelegationPublic.model_validate(record, from_attributes=True)


@router.post("/delegations", status_code=status.HTTP_201_CREATED)
async def grant(body: DelegationCreate, actor: Caller, db: DatabaseDep, request: Request) -> DelegationPublic:
    """Ủy quyền cho các cấp của một đơn vị, trên một cây đơn vị hoặc danh sách hồ sơ;
    có hiệu lực ở mọi dịch vụ trong vài giây."""
    terms = service.DelegationTerms(
        unit_path=body.unit_path,
        tiers=frozenset(Tier(t) for t in body.tiers),
        sections=frozenset(Section(s) for s in body.sections),
        actions=frozenset(Action(a) for a in body.actions),
        target_unit_path=body.records.unit_path,
        person_ids=frozenset(body.records.person_ids),
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        reason=body.reason,
    )
    record = await audited(
        db,
        actor,
        "delegation.grant",
        body.unit_path,
        lambda s: service.grant(s, actor=actor, outbox=request.app.state.outbox, terms=terms),
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
    """Ủy quyền đang có hiệu lực: toàn ngành cho các cấp ngành, của đơn vị mình cho các cấp khác."""
    async with db.unit_of_work() as session:
        return [_public(r) for r in await service.in_force(session, actor=actor)]
