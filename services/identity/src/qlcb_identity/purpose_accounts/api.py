from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field

from qlcb_common.days import IsoDay
from qlcb_common.identifiers import PERSONAL_ID_PATTERN, UNIT_PATH_PATTERN, anchored
from qlcb_common.text import SingleLineText
from qlcb_common.tiers import Tier
from qlcb_identity.account_requests.schemas import EMAIL
from qlcb_identity.audit.service import audited
from qlcb_identity.dependencies import Caller, CourierDep, DatabaseDep
from qlcb_identity.purpose_accounts import service

router = APIRouter(prefix="/v1", tags=["Tài khoản dùng chung"])
UNIT_PATH = anchored(UNIT_PATH_PATTERN)


class QuotaSet(BaseModel):
    unit_path: str = Field(pattern=UNIT_PATH, max_length=1024)
    kind: Literal["admin", "user"] = Field(description="admin: tài khoản quản trị; user: tài khoản người dùng")
    limit: int = Field(ge=0, le=1000, description="Định mức")


class QuotaPublic(QuotaSet):
    set_by: str


class PurposeAccountCreate(BaseModel):
    unit_path: str = Field(pattern=UNIT_PATH, max_length=1024)
    purpose: SingleLineText = Field(min_length=1, max_length=100, description='Mục đích, e.g. "Nhân sự 1"')
    tier: Tier


class PurposeAccountPublic(BaseModel):
    id: str
    unit_path: str
    purpose: str
    tier: Tier
    username: str
    issued_at: datetime


class IssuedPurposeAccount(BaseModel):
    account: PurposeAccountPublic


class HolderCreate(BaseModel):
    holder_name: SingleLineText = Field(min_length=1, max_length=150, description="Người được giao giữ tài khoản")
    holder_personal_id: str | None = Field(
        default=None, pattern=anchored(PERSONAL_ID_PATTERN), description="Số định danh cá nhân"
    )
    holder_email: SingleLineText = Field(
        pattern=EMAIL, max_length=255, description="Thư điện tử người giữ: mã nhận mật khẩu lần đầu gửi tới đây"
    )
    since: IsoDay = Field(description="Ngày bàn giao: hôm nay (không ghi trước, không ghi lùi ngày)")


class Release(BaseModel):
    until: IsoDay = Field(description="Ngày thôi giữ: hôm nay (không ghi trước, không ghi lùi ngày)")


class HolderPublic(BaseModel):
    holder_name: str
    valid_from: IsoDay
    valid_to: IsoDay | None
    recorded_by: str


class ListedPurposeAccount(PurposeAccountPublic):
    unlinked: bool = Field(description="Không còn tài khoản này trong Keycloak sau khi khôi phục realm")
    holder: HolderPublic | None = Field(description="Người giữ hôm nay; null: chưa giao hoặc đã thôi giữ")
    manageable: bool = Field(description="Tài khoản đang gọi được giao người giữ hoặc cho thôi giữ")


class ListedPurposeAccounts(BaseModel):
    items: list[ListedPurposeAccount]
    total: int = Field(description="Số tài khoản dùng chung trong phạm vi (và cây đơn vị hỏi)")


class HolderAssigned(HolderPublic):
    delivered_to: str = Field(description="Địa chỉ (che một phần) đã nhận mã nhận mật khẩu lần đầu")


@router.put("/quotas")
async def set_quota(body: QuotaSet, actor: Caller, db: DatabaseDep) -> QuotaPublic:
    """Đặt định mức tài khoản của đơn vị."""
    quota = await audited(
        db,
        actor,
        "quota.set",
        body.unit_path,
        lambda s: service.set_quota(s, actor=actor, unit_path=body.unit_path, kind=body.kind, limit=body.limit),
    )
    return QuotaPublic.model_validate(quota, from_attributes=True)


class QuotaUsePublic(QuotaPublic):
    used: int = Field(
        description="Số tài khoản loại này của đơn vị tính vào định mức: tài khoản quản trị gồm cả tài khoản cá nhân "
        "đang mở có quyền quản trị đơn vị"
    )
    set_at: datetime


@router.get("/quotas")
async def quotas(
    actor: Caller,
    db: DatabaseDep,
    unit_path: Annotated[str, Query(pattern=UNIT_PATH, description="Đơn vị")],
    request: Request,
) -> list[QuotaUsePublic]:
    """Định mức tài khoản của đơn vị, mỗi loại với số tài khoản tính vào định mức."""
    async with db.unit_of_work() as session:
        found = await service.quotas_of(
            session, actor=actor, unit_path=unit_path, admin=request.app.state.keycloak_admin
        )
    return [
        QuotaUsePublic(
            **QuotaPublic.model_validate(f.quota, from_attributes=True).model_dump(), used=f.used, set_at=f.quota.set_at
        )
        for f in found
    ]


@router.get("/purpose-accounts")
async def listed(
    actor: Caller,
    db: DatabaseDep,
    unit_path: Annotated[str | None, Query(pattern=UNIT_PATH, description="Chỉ cây đơn vị này")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Liệt kê nhiều nhất")] = 200,
) -> ListedPurposeAccounts:
    """Tài khoản dùng chung của các đơn vị trong phạm vi, theo đơn vị rồi mục đích, với người giữ hôm
    nay và việc tài khoản đang gọi được giao hoặc cho thôi giữ hay không."""
    async with db.unit_of_work() as session:
        found, total = await service.in_reach(session, actor=actor, unit_path=unit_path, limit=limit)
    return ListedPurposeAccounts(items=[_listed(f) for f in found], total=total)


def _listed(found: service.ListedAccount) -> ListedPurposeAccount:
    return ListedPurposeAccount(
        **PurposeAccountPublic.model_validate(found.account, from_attributes=True).model_dump(),
        unlinked=found.account.unlinked_at is not None,
        holder=HolderPublic.model_validate(found.holder, from_attributes=True) if found.holder else None,
        manageable=found.manageable,
    )


@router.get("/purpose-accounts/{account_id}")
async def one(account_id: str, actor: Caller, db: DatabaseDep) -> ListedPurposeAccount:
    """Một tài khoản dùng chung, với người giữ hôm nay."""
    async with db.unit_of_work() as session:
        found = await service.one(session, actor=actor, account_id=account_id)
    return _listed(found)


@router.post("/purpose-accounts", status_code=status.HTTP_201_CREATED)
async def issue(body: PurposeAccountCreate, actor: Caller, db: DatabaseDep, request: Request) -> IssuedPurposeAccount:
    """Cấp tài khoản theo mục đích cho đơn vị, trong định mức; người giữ đầu tiên được giao sẽ nhận
    mật khẩu lần đầu."""
    account = await audited(
        db,
        actor,
        "purpose_account.issue",
        body.unit_path,
        lambda s: service.issue(
            s,
            actor=actor,
            unit_path=body.unit_path,
            purpose=body.purpose,
            tier=body.tier,
            admin=request.app.state.keycloak_admin,
        ),
    )
    return IssuedPurposeAccount(account=PurposeAccountPublic.model_validate(account, from_attributes=True))


@router.post("/purpose-accounts/{account_id}/holders", status_code=status.HTTP_201_CREATED)
async def assign(
    account_id: str, body: HolderCreate, actor: Caller, db: DatabaseDep, courier: CourierDep, request: Request
) -> HolderAssigned:
    """Giao tài khoản cho cán bộ từ hôm nay (bàn giao được ghi vào ngày diễn ra, không ghi lùi ngày);
    người giữ trước thôi giữ từ hôm nay, mọi phiên đăng nhập của tài khoản bị đóng, người giữ mới
    nhận mật khẩu lần đầu qua thư điện tử."""
    assignment, delivered_to = await audited(
        db,
        actor,
        "purpose_account.assign",
        account_id,
        lambda s: service.assign_holder(
            s,
            actor=actor,
            account_id=account_id,
            holder_name=body.holder_name,
            holder_personal_id=body.holder_personal_id,
            holder_email=body.holder_email.strip(),
            since=body.since,
            admin=request.app.state.keycloak_admin,
            courier=courier,
            outbox=request.app.state.outbox,
        ),
    )
    public = HolderPublic.model_validate(assignment, from_attributes=True)
    return HolderAssigned(**public.model_dump(), delivered_to=delivered_to)


@router.post("/purpose-accounts/{account_id}/release")
async def release(account_id: str, body: Release, actor: Caller, db: DatabaseDep, request: Request) -> HolderPublic:
    """Người giữ thôi giữ tài khoản (chuyển công tác, nghỉ): không còn ai giữ, mật khẩu được thay
    bằng mật khẩu không ai biết và mọi phiên đăng nhập bị đóng."""
    ended = await audited(
        db,
        actor,
        "purpose_account.release",
        account_id,
        lambda s: service.release(
            s,
            actor=actor,
            account_id=account_id,
            until=body.until,
            admin=request.app.state.keycloak_admin,
            outbox=request.app.state.outbox,
        ),
    )
    return HolderPublic.model_validate(ended, from_attributes=True)


@router.get("/purpose-accounts/{account_id}/holders")
async def holders(account_id: str, actor: Caller, db: DatabaseDep, on: IsoDay | None = None) -> list[HolderPublic]:
    """Lịch sử người giữ tài khoản, hoặc người giữ vào một ngày (`on`)."""
    async with db.unit_of_work() as session:
        found = await service.holders(session, actor=actor, account_id=account_id, on=on)
    return [HolderPublic.model_validate(h, from_attributes=True) for h in found]
