from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from qlcb_common.text import MultiLineText
from qlcb_identity.account_incidents import service
from qlcb_identity.account_incidents.models import AccountIncident
from qlcb_identity.account_incidents.service import IncidentKind
from qlcb_identity.audit.service import audited
from qlcb_identity.dependencies import Caller, CourierDep, DatabaseDep
from qlcb_identity.schemas import Username

router = APIRouter(prefix="/v1", tags=["Cấp lại mật khẩu"])


class IncidentCreate(BaseModel):
    kind: IncidentKind = Field(description="lost: mất mật khẩu; stolen: nghi bị lộ")
    note: MultiLineText = Field(default="", max_length=1000)


class IncidentPublic(BaseModel):
    id: str
    username: str
    kind: IncidentKind
    reported_by: str
    reported_at: datetime
    reset_at: datetime | None


class ResetPublic(BaseModel):
    incident: IncidentPublic
    delivered_to: str = Field(description="Địa chỉ (che một phần) của người giữ đã nhận mã nhận mật khẩu mới")


def _public(incident: AccountIncident) -> IncidentPublic:
    return IncidentPublic.model_validate(incident, from_attributes=True)


@router.post("/accounts/{username}/incidents", status_code=status.HTTP_201_CREATED)
async def report(
    username: Username, body: IncidentCreate, actor: Caller, db: DatabaseDep, request: Request
) -> IncidentPublic:
    """Báo mất mật khẩu hoặc nghi bị lộ."""
    incident = await audited(
        db,
        actor,
        "account.incident",
        username,
        lambda s: service.report(
            s, actor=actor, username=username, kind=body.kind, note=body.note, admin=request.app.state.keycloak_admin
        ),
    )
    return _public(incident)


@router.post("/accounts/{username}/reset", status_code=status.HTTP_201_CREATED)
async def reset(
    username: Username, actor: Caller, db: DatabaseDep, courier: CourierDep, request: Request
) -> ResetPublic:
    """Cấp lại mật khẩu lần đầu sau báo cáo, gửi tới người giữ tài khoản (không về người cấp lại);
    sau khi bị lộ, mọi phiên đăng nhập bị đóng."""
    incident, delivered_to = await audited(
        db,
        actor,
        "account.reset",
        username,
        lambda s: service.reset(
            s, actor=actor, username=username, admin=request.app.state.keycloak_admin, courier=courier
        ),
    )
    return ResetPublic(incident=_public(incident), delivered_to=delivered_to)
