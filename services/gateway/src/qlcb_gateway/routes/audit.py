"""The audit trail (R-AUD-1, R-PER-7), read through personnel's `AuditService`: who read,
exported or changed which record, when, and, for a purpose account, who held it that day."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from qlcb.personnel.v1 import audit_pb2
from qlcb_common.days import IsoInstant
from qlcb_gateway.dependencies import BackendsDep, Caller

router = APIRouter(prefix="/v1", tags=["Nhật ký"])

ACTIONS = "^(create|update|delete|read|resume|export|import)$"
_INSTANT = "Thời điểm theo RFC 3339, có múi giờ, ví dụ 2026-12-01T08:00:00+07:00"


class AuditEntryPublic(BaseModel):
    id: str
    seq: int = Field(description="Số thứ tự trong chuỗi băm; 0 khi chưa niêm phong (vài giây sau khi ghi)")
    occurred_at: str = Field(description="Thời điểm")
    transaction_id: str = Field(description="Các mục cùng một giao dịch")
    account: str = Field(description="Tài khoản")
    tiers: list[str] = Field(description="Vai trò của tài khoản")
    holder_name: str | None = Field(description="Người giữ tài khoản dùng chung khi mục được ghi")
    holder_personal_id: str | None = Field(description="Số định danh cá nhân của người giữ")
    action: str = Field(description="create, update, delete, read, resume, export, import")
    target: str = Field(description="Đối tượng: bảng dữ liệu, hoặc record, record_section, … khi đọc")
    target_id: str | None
    person_id: str | None = Field(description="Hồ sơ liên quan")
    unit_path: str | None = Field(description="Đơn vị của hồ sơ hoặc đơn vị liên quan khi đó")
    details: dict[str, Any] = Field(description="Thay đổi từng trường [trước, sau], hoặc nội dung đã đọc, xuất")
    hash: str | None = Field(description="Mã băm SHA-256 của mục trong chuỗi")


class AuditPage(BaseModel):
    entries: list[AuditEntryPublic]
    total: int


class AuditChainCheck(BaseModel):
    intact: bool = Field(description="Chuỗi nhật ký nguyên vẹn")
    checked: int = Field(description="Số mục đã niêm phong được kiểm tra")
    unsealed: int = Field(description="Số mục chưa niêm phong")
    first_broken_seq: int | None = Field(description="Mục đầu tiên làm đứt chuỗi")
    first_broken_id: str | None
    reason: str | None = Field(description="Lý do")
    head_hash: str = Field(description="Mã băm của mục cuối còn nguyên vẹn: lưu ra ngoài để đối chiếu về sau")
    published_seq: int | None = Field(
        description="Số mục cuối chuỗi đã công bố ra ngoài cơ sở dữ liệu mà chuỗi được đối chiếu; "
        "trống khi chưa công bố hoặc không đọc được"
    )
    published_unreadable: str | None = Field(
        description="Vì sao không đọc được mã băm đã công bố (chuỗi khi đó chỉ được kiểm tra trong cơ sở dữ liệu)"
    )


def _entry(entry: audit_pb2.AuditEntry) -> AuditEntryPublic:
    return AuditEntryPublic(
        id=entry.id,
        seq=entry.seq,
        occurred_at=entry.occurred_at,
        transaction_id=entry.transaction_id,
        account=entry.account,
        tiers=list(entry.tiers),
        holder_name=entry.holder_name or None,
        holder_personal_id=entry.holder_personal_id or None,
        action=entry.action,
        target=entry.target,
        target_id=entry.target_id or None,
        person_id=entry.person_id or None,
        unit_path=entry.unit_path or None,
        details=json.loads(entry.details_json),
        hash=entry.hash or None,
    )


@router.get("/audit", responses={404: {"description": "No unit `unit_id`"}})
async def list_audit_entries(
    principal: Caller,
    backends: BackendsDep,
    person_id: Annotated[str | None, Query(max_length=36, description="Hồ sơ")] = None,
    unit_id: Annotated[str | None, Query(min_length=1, max_length=36, description="Đơn vị")] = None,
    include_subtree: Annotated[bool, Query(description="Cả các đơn vị trực thuộc")] = False,
    account: Annotated[str | None, Query(max_length=255, description="Tài khoản")] = None,
    holder: Annotated[
        str | None, Query(max_length=150, description="Người giữ tài khoản dùng chung: số định danh hoặc họ tên")
    ] = None,
    action: Annotated[str | None, Query(pattern=ACTIONS, description="Loại thao tác")] = None,
    occurred_from: Annotated[IsoInstant | None, Query(description=f"Từ (gồm): {_INSTANT}")] = None,
    occurred_to: Annotated[IsoInstant | None, Query(description=f"Đến (không gồm): {_INSTANT}")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Trang")] = 1,
    page_size: Annotated[int, Query(ge=1, le=200, description="Số dòng một trang")] = 50,
) -> AuditPage:
    """Nhật ký đọc, xuất và thay đổi hồ sơ, trong phạm vi của người hỏi, mới nhất trước."""
    response = await backends.audit.ListAuditEntries(
        audit_pb2.ListAuditEntriesRequest(
            person_id=person_id or "",
            unit_id=unit_id or "",
            include_subtree=include_subtree,
            account=account or "",
            holder=holder or "",
            action=action or "",
            occurred_from=occurred_from.isoformat() if occurred_from else "",
            occurred_to=occurred_to.isoformat() if occurred_to else "",
            page=page,
            page_size=page_size,
        ),
        **backends.call_options(principal.token),
    )
    return AuditPage(entries=[_entry(e) for e in response.entries], total=response.total)


@router.post("/audit/verify")
async def verify_audit_chain(principal: Caller, backends: BackendsDep) -> AuditChainCheck:
    """Kiểm tra chuỗi băm của nhật ký từ mục đầu tiên; chỉ quản trị hệ thống."""
    result = await backends.audit.VerifyAuditChain(
        audit_pb2.VerifyAuditChainRequest(), **backends.call_options(principal.token)
    )
    return AuditChainCheck(
        intact=result.intact,
        checked=result.checked,
        unsealed=result.unsealed,
        first_broken_seq=result.first_broken_seq or None,
        first_broken_id=result.first_broken_id or None,
        reason=result.reason or None,
        head_hash=result.head_hash,
        published_seq=result.published_seq or None,
        published_unreadable=result.published_unreadable or None,
    )
