from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, field_validator

from qlcb_common.authz import GRANTABLE_SECTIONS, Section
from qlcb_identity.account_sections import service
from qlcb_identity.audit.service import audited
from qlcb_identity.dependencies import Caller, DatabaseDep
from qlcb_identity.schemas import Username

router = APIRouter(prefix="/v1", tags=["Phân quyền"])
_GRANTABLE = ", ".join(sorted(s.value for s in GRANTABLE_SECTIONS))


class SectionGrant(BaseModel):
    sections: list[Section] = Field(description="Các phần hồ sơ được giao; danh sách rỗng thu hồi tất cả")

    @field_validator("sections")
    @classmethod
    def _record_sections_only(cls, sections: list[Section]) -> list[Section]:
        outside = sorted({s.value for s in sections} - {s.value for s in GRANTABLE_SECTIONS})
        if outside:
            raise ValueError(f"chỉ giao được các phần của hồ sơ ({_GRANTABLE}), không giao {', '.join(outside)}")
        return sections


class AccountSections(BaseModel):
    username: str
    sections: list[Section]


@router.put("/accounts/{username}/sections")
async def replace(
    username: Username, body: SectionGrant, actor: Caller, db: DatabaseDep, request: Request
) -> AccountSections:
    """Giao phần hồ sơ cho cán bộ nghiệp vụ (thay toàn bộ danh sách đã giao)."""
    sections = await audited(
        db,
        actor,
        "account.sections",
        username,
        lambda s: service.replace(
            s, actor=actor, username=username, sections=body.sections, admin=request.app.state.keycloak_admin
        ),
    )
    return AccountSections(username=username, sections=[Section(v) for v in sections])


@router.get("/accounts/{username}/sections")
async def granted(username: Username, actor: Caller, request: Request) -> AccountSections:
    """Các phần hồ sơ tài khoản được giao (quản trị của tài khoản, hoặc chính tài khoản)."""
    sections = await service.granted(actor, username=username, admin=request.app.state.keycloak_admin)
    return AccountSections(username=username, sections=[Section(v) for v in sections])
