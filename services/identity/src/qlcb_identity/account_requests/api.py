from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from qlcb_identity import credentials
from qlcb_identity.account_requests import service
from qlcb_identity.account_requests.models import AccountRequest
from qlcb_identity.account_requests.schemas import (
    AccountRequestCreate,
    AccountRequestPublic,
    Credential,
    CredentialClaim,
    IssuedAccount,
    OpenAccountRequest,
    OpenAccountRequests,
    Rejection,
)
from qlcb_identity.audit import service as audit
from qlcb_identity.dependencies import Caller, CourierDep, DatabaseDep, SettingsDep

router = APIRouter(prefix="/v1", tags=["Cấp tài khoản"])


def _public(request: AccountRequest) -> AccountRequestPublic:
    return AccountRequestPublic.model_validate(request, from_attributes=True)


@router.post("/account-requests", status_code=status.HTTP_201_CREATED)
async def submit(
    body: AccountRequestCreate, actor: Caller, db: DatabaseDep, settings: SettingsDep
) -> AccountRequestPublic:
    """Gửi đề nghị cấp tài khoản; hạn xử lý là cuối ngày làm việc thứ ba sau ngày gửi."""
    calendar = settings.working_calendar()
    created = await audit.audited(
        db,
        actor,
        "account_request.submit",
        body.unit_path,
        lambda s: service.submit(s, actor=actor, data=body, calendar=calendar),
    )
    return _public(created)


@router.post("/account-requests/{request_id}/consent")
async def consent(request_id: str, actor: Caller, db: DatabaseDep) -> AccountRequestPublic:
    """Thủ trưởng đơn vị đồng ý."""
    done = await audit.audited(
        db,
        actor,
        "account_request.consent",
        request_id,
        lambda s: service.consent(s, actor=actor, request_id=request_id),
    )
    return _public(done)


@router.post("/account-requests/{request_id}/approve")
async def approve(request_id: str, actor: Caller, db: DatabaseDep) -> AccountRequestPublic:
    """Phê duyệt (quản trị có thẩm quyền cấp)."""
    done = await audit.audited(
        db,
        actor,
        "account_request.approve",
        request_id,
        lambda s: service.approve(s, actor=actor, request_id=request_id),
    )
    return _public(done)


@router.post("/account-requests/{request_id}/reject")
async def reject(request_id: str, body: Rejection, actor: Caller, db: DatabaseDep) -> AccountRequestPublic:
    done = await audit.audited(
        db,
        actor,
        "account_request.reject",
        request_id,
        lambda s: service.reject(s, actor=actor, request_id=request_id, reason=body.reason),
    )
    return _public(done)


@router.post("/account-requests/{request_id}/issue", status_code=status.HTTP_201_CREATED)
async def issue(
    request_id: str, actor: Caller, db: DatabaseDep, courier: CourierDep, request: Request
) -> IssuedAccount:
    """Cấp tài khoản: tạo tài khoản; mã nhận mật khẩu lần đầu (dùng một lần) gửi tới thư điện tử của
    người sử dụng, không trả về cho người cấp."""
    issued, delivered_to = await audit.audited(
        db,
        actor,
        "account.issue",
        request_id,
        lambda s: service.issue(
            s, actor=actor, request_id=request_id, admin=request.app.state.keycloak_admin, courier=courier
        ),
    )
    return IssuedAccount(request=_public(issued), username=issued.username or "", delivered_to=delivered_to)


@router.get("/account-requests")
async def open_requests(
    actor: Caller,
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Liệt kê nhiều nhất")] = 100,
) -> OpenAccountRequests:
    """Đề nghị cấp tài khoản đang xử lý trong phạm vi, hạn gần nhất trước, với bước tiếp theo và
    việc tài khoản đang gọi được làm bước đó hay không."""
    async with db.unit_of_work() as session:
        found = await service.open_requests(session, actor=actor)
    items = [
        OpenAccountRequest.model_validate(
            {
                **_public(o.request).model_dump(),
                "next_step": o.next_step,
                "yours": o.yours,
                "rejectable": o.rejectable,
            }
        )
        for o in found[:limit]
    ]
    return OpenAccountRequests(items=items, total=len(found), yours=sum(o.yours for o in found))


@router.get("/account-requests/overdue")
async def overdue(actor: Caller, db: DatabaseDep) -> list[AccountRequestPublic]:
    """Đề nghị quá hạn xử lý (3 ngày làm việc)."""
    async with db.unit_of_work() as session:
        late = await service.overdue(session, actor=actor, now=datetime.now(UTC))
    return [_public(r) for r in late]


@router.post(
    "/credentials",
    tags=["Cấp tài khoản"],
    responses={404: {"description": "No credential for this code"}, 410: {"description": "Taken already, or expired"}},
)
async def retrieve_credential(body: CredentialClaim, db: DatabaseDep, courier: CourierDep) -> Credential:
    """Nhận mật khẩu lần đầu bằng mã trong thư, một lần duy nhất; the code is the secret, no login
    needed, and it travels in the body so no access log keeps it."""
    async with db.unit_of_work() as session:
        username, password = await credentials.retrieve(session, token=body.token, sealer=courier.sealer)
    return Credential(username=username, temporary_password=password)
