from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from qlcb_common.identifiers import PERSONAL_ID_PATTERN, UNIT_PATH_PATTERN, anchored
from qlcb_common.text import MultiLineText, SingleLineText
from qlcb_common.tiers import Tier
from qlcb_identity.account_requests.models import Step

PHONE = r"^(0|\+84)[0-9]{9,10}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class AccountRequestCreate(BaseModel):
    """Phiếu đề nghị cấp tài khoản (002 Điều 6.4)."""

    holder_name: SingleLineText = Field(min_length=1, max_length=150, description="Họ tên người sử dụng")
    holder_personal_id: str | None = Field(
        default=None,
        pattern=anchored(PERSONAL_ID_PATTERN),
        description="Số định danh cá nhân: links the account to the record",
    )
    holder_email: SingleLineText = Field(
        pattern=EMAIL, max_length=255, description="Thư điện tử người sử dụng: mã nhận mật khẩu lần đầu gửi tới đây"
    )
    unit_path: str = Field(pattern=anchored(UNIT_PATH_PATTERN), max_length=1024, description="Đơn vị, e.g. /TCHQ/HQHN")
    division: SingleLineText = Field(min_length=1, max_length=255, description="Phòng, đội, bộ phận")
    position: SingleLineText = Field(min_length=1, max_length=255, description="Chức vụ")
    phone: str = Field(pattern=PHONE, description="Số điện thoại")
    account_types: list[Tier] = Field(min_length=1, description="Loại tài khoản đề nghị cấp")
    reply_name: SingleLineText = Field(min_length=1, max_length=150, description="Người nhận kết quả")
    reply_unit: SingleLineText = Field(min_length=1, max_length=255, description="Đơn vị người nhận")
    reply_email: SingleLineText = Field(pattern=EMAIL, max_length=255, description="Thư điện tử người nhận")
    reply_phone: str = Field(pattern=PHONE, description="Điện thoại người nhận")
    requester_name: SingleLineText = Field(min_length=1, max_length=150, description="Người đề nghị")


class AccountRequestPublic(BaseModel):
    id: str
    holder_name: str
    unit_path: str
    account_types: list[Tier]
    status: str
    submitted_at: datetime
    due_at: datetime = Field(description="Hạn xử lý: 3 ngày làm việc (R-ACC-5)")
    username: str | None


class OpenAccountRequest(AccountRequestPublic):
    next_step: Step = Field(description="Bước tiếp theo: consent (đồng ý), approve (phê duyệt), issue (cấp)")
    yours: bool = Field(description="Tài khoản đang gọi được làm bước tiếp theo (kể cả quy tắc bốn mắt)")
    rejectable: bool = Field(description="Tài khoản đang gọi được từ chối đề nghị")


class OpenAccountRequests(BaseModel):
    items: list[OpenAccountRequest] = Field(description="Soonest due first, at most the limit asked")
    total: int = Field(description="Đề nghị đang xử lý trong phạm vi")
    yours: int = Field(description="Trong đó, số đề nghị chờ tài khoản đang gọi xử lý")


class Rejection(BaseModel):
    reason: MultiLineText = Field(min_length=1, max_length=1000)


class IssuedAccount(BaseModel):
    request: AccountRequestPublic
    username: str
    delivered_to: str = Field(description="Địa chỉ (che một phần) đã nhận mã nhận mật khẩu lần đầu")


class CredentialClaim(BaseModel):
    token: str = Field(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="Mã trong thư")


class Credential(BaseModel):
    username: str
    temporary_password: str = Field(description="Phải đổi ở lần đăng nhập đầu tiên")
