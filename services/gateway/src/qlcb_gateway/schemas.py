from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from qlcb_common.days import IsoDay
from qlcb_common.limits import MAX_MERGE_SOURCES, MAX_SPLIT_PERSONS, MAX_SPLIT_SUB_UNITS, MAX_SPLIT_SUCCESSORS
from qlcb_common.personnel_rules import MAX_QUOTA
from qlcb_common.text import MultiLineText, SingleLineText

UNIT_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"
"""ASCII letters (stored upper-case), digits, '-' and '_'."""

STORE = r"^[a-z][a-z0-9_]{0,62}$"
"""The name a data store has in the backup service's configuration, e.g. personnel."""

RecordId = Annotated[str, Field(min_length=1, max_length=36, description="Mã định danh (UUID)")]
"""The id of a unit or a person record: a UUID in its 36-character form."""


class UnitKind(StrEnum):
    """Loại đơn vị."""

    GENERAL_DEPARTMENT = "general_department"  # Tổng cục
    HQ_DEPARTMENT = "hq_department"  # Vụ
    HQ_UNIT = "hq_unit"  # Cục, Văn phòng, đơn vị sự nghiệp
    PROVINCIAL_DEPARTMENT = "provincial_department"  # Cục Hải quan tỉnh, thành phố
    SUB_UNIT = "sub_unit"  # Chi cục, phòng, đội
    COMMUNE = "commune"  # Xã, phường, đặc khu (chính quyền cấp xã)


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class UnitCreate(BaseModel):
    code: str = Field(pattern=UNIT_CODE, description="Mã đơn vị, e.g. HQHN")
    name: SingleLineText = Field(min_length=1, max_length=255, description="Tên đơn vị")
    kind: UnitKind
    parent_id: str | None = Field(default=None, description="Đơn vị cấp trên; none only for the root")
    effective_date: IsoDay | None = Field(default=None, description="Ngày hiệu lực của quyết định thành lập")
    decision: SingleLineText | None = Field(default=None, max_length=100, description="Số quyết định thành lập")


class UnitPublic(BaseModel):
    id: str
    code: str
    name: str
    kind: UnitKind
    parent_id: str | None
    path: str
    dissolved_on: IsoDay | None = Field(default=None, description="Ngày giải thể")


class Decided(BaseModel):
    """The decision (quyết định) behind a change."""

    effective_date: IsoDay = Field(description="Ngày hiệu lực")
    decision: SingleLineText = Field(min_length=1, max_length=100, description="Số quyết định")


class UnitDissolve(Decided):
    pass


class UnitRename(Decided):
    name: SingleLineText = Field(min_length=1, max_length=255, description="Tên mới")


class UnitMove(Decided):
    new_parent_id: str = Field(min_length=1, description="Đơn vị cấp trên mới")


class UnitMerge(Decided):
    source_unit_ids: list[RecordId] = Field(
        min_length=1, max_length=MAX_MERGE_SOURCES, description="Các đơn vị bị sáp nhập"
    )
    target_unit_id: RecordId = Field(description="Đơn vị nhận sáp nhập")


class MergeResult(BaseModel):
    target: UnitPublic
    sources: list[UnitPublic]
    persons_moved: int = Field(description="Số cán bộ chuyển về đơn vị nhận")


class SplitSuccessor(BaseModel):
    code: str = Field(pattern=UNIT_CODE, description="Mã đơn vị mới")
    name: SingleLineText = Field(min_length=1, max_length=255, description="Tên đơn vị mới")
    kind: UnitKind


class SplitAssignment(BaseModel):
    id: RecordId = Field(description="Hồ sơ cán bộ hoặc đơn vị trực thuộc")
    successor_code: str = Field(pattern=UNIT_CODE, description="Mã đơn vị mới nhận")


class UnitSplit(Decided):
    successors: list[SplitSuccessor] = Field(
        min_length=2, max_length=MAX_SPLIT_SUCCESSORS, description="Các đơn vị mới"
    )
    persons: list[SplitAssignment] = Field(
        default_factory=list, max_length=MAX_SPLIT_PERSONS, description="Phân công từng cán bộ đang công tác"
    )
    sub_units: list[SplitAssignment] = Field(
        default_factory=list, max_length=MAX_SPLIT_SUB_UNITS, description="Phân công từng đơn vị trực thuộc"
    )


class SplitResult(BaseModel):
    source: UnitPublic
    successors: list[UnitPublic]


class UnitChangePublic(BaseModel):
    change: str = Field(description="established, renamed, moved, moved_with_parent, dissolved")
    unit: UnitPublic
    effective_date: IsoDay | None = Field(
        description="Ngày hiệu lực; trống khi đơn vị được nhập vào hệ thống không kèm quyết định thành lập "
        "(đã có từ trước khi có hồ sơ)"
    )
    decision: str
    recorded_at: datetime
    recorded_by: str


class QuotaSet(Decided):
    """Giao (phân bổ) biên chế cho đơn vị trong một năm, theo quyết định."""

    quota: int = Field(ge=0, le=MAX_QUOTA, description="Số biên chế được giao cho đơn vị trong năm")


class QuotaChangeKind(StrEnum):
    ASSIGNED = "assigned"  # Giao lần đầu trong năm
    CHANGED = "changed"  # Thay đổi, từ một ngày hiệu lực sau
    CORRECTED = "corrected"  # Đính chính lần giao cùng ngày hiệu lực


class QuotaChangePublic(BaseModel):
    """Một lần giao, thay đổi hoặc đính chính biên chế của đơn vị (không bao giờ ghi đè)."""

    unit_id: str
    year: int = Field(description="Năm")
    quota: int = Field(description="Số biên chế được giao")
    previous_quota: int | None = Field(description="Số biên chế trước lần này; không có với lần giao đầu tiên")
    change: QuotaChangeKind = Field(
        description="assigned: giao lần đầu; changed: thay đổi từ ngày hiệu lực sau; corrected: đính chính cùng ngày"
    )
    effective_date: IsoDay = Field(description="Ngày hiệu lực")
    decision: str = Field(description="Số quyết định")
    recorded_at: datetime = Field(description="Thời điểm ghi nhận")
    recorded_by: str = Field(description="Tài khoản ghi nhận")


class QuotaState(StrEnum):
    OVER = "over"  # Vượt biên chế
    WITHIN = "within"  # Trong biên chế được giao
    NO_QUOTA = "no_quota"  # Chưa giao biên chế


class QuotaLinePublic(BaseModel):
    """Biên chế của một đơn vị so với số có mặt tại ngày: giao, đã phân bổ, còn lại, có mặt, thừa/thiếu."""

    unit_id: str
    code: str = Field(description="Mã đơn vị")
    name: str = Field(description="Tên đơn vị")
    path: str
    parent_id: str | None = Field(description="Đơn vị cấp trên")
    quota: int | None = Field(description="Biên chế được giao; trống: chưa giao")
    allocated: int = Field(description="Đã phân bổ cho các đơn vị trực thuộc")
    remaining: int | None = Field(description="Còn lại: được giao trừ đã phân bổ (âm: phân bổ vượt)")
    headcount: int = Field(description="Có mặt: cán bộ đang công tác tại đơn vị và các đơn vị trực thuộc ngày đó")
    own_headcount: int = Field(description="Có mặt tại chính đơn vị, không kể đơn vị trực thuộc")
    difference: int | None = Field(description="Thừa (dương) hoặc thiếu (âm): có mặt trừ biên chế được giao")
    state: QuotaState = Field(description="over: vượt biên chế; within: trong biên chế; no_quota: chưa giao")


class QuotaTotal(BaseModel):
    """Tổng hợp: biên chế và số có mặt của đơn vị (gồm cả các đơn vị trực thuộc)."""

    quota: int | None = Field(description="Biên chế được giao cho đơn vị")
    headcount: int = Field(description="Có mặt tại đơn vị và các đơn vị trực thuộc")
    difference: int | None = Field(description="Thừa (dương) hoặc thiếu (âm)")
    units_over: int = Field(description="Số đơn vị trong danh sách vượt biên chế")
    units_without_quota: int = Field(description="Số đơn vị trong danh sách có cán bộ mà chưa giao biên chế")


class QuotaReport(BaseModel):
    """Biên chế so với số có mặt của đơn vị, và của từng đơn vị trực thuộc trong phạm vi của tài khoản."""

    year: int = Field(description="Năm")
    as_of: IsoDay = Field(description="Ngày tính biên chế và số có mặt")
    items: list[QuotaLinePublic] = Field(description="Đơn vị được hỏi trước, rồi các đơn vị trực thuộc theo cây")
    total: QuotaTotal


class QuotaOverPage(BaseModel):
    """Các đơn vị vượt biên chế, và các đơn vị có cán bộ mà chưa giao biên chế."""

    year: int = Field(description="Năm")
    as_of: IsoDay = Field(description="Ngày tính số có mặt")
    items: list[QuotaLinePublic]


class TransferStatus(StrEnum):
    SENT = "sent"  # Đã gửi, chờ tiếp nhận
    ACCEPTED = "accepted"  # Đã tiếp nhận
    DECLINED = "declined"  # Từ chối tiếp nhận
    WITHDRAWN = "withdrawn"  # Đơn vị gửi thu hồi


class TransferDirection(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class TransferSend(Decided):
    person_id: str = Field(min_length=1, description="Hồ sơ cán bộ")
    to_unit_id: str = Field(min_length=1, description="Đơn vị nhận")


class TransferDecline(BaseModel):
    reason: MultiLineText = Field(min_length=1, max_length=1000, description="Lý do từ chối")


class TransferWithdrawal(BaseModel):
    reason: MultiLineText = Field(min_length=1, max_length=1000, description="Lý do thu hồi")


class TransferPublic(BaseModel):
    id: str
    person_id: str
    from_unit_id: str
    to_unit_id: str
    status: TransferStatus
    effective_date: IsoDay
    decision: str
    sent_by: str
    sent_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decline_reason: str | None = Field(description="Lý do từ chối (đơn vị nhận) hoặc thu hồi (đơn vị gửi)")


class PersonStatus(StrEnum):
    """Tình trạng."""

    ACTIVE = "active"  # Đang công tác
    RETIRED = "retired"  # Nghỉ hưu
    RESIGNED = "resigned"  # Thôi việc
    DECEASED = "deceased"  # Từ trần
    MOVED_OUT = "moved_out"  # Chuyển công tác ra ngoài ngành


class StatusChange(BaseModel):
    status: PersonStatus = Field(description="active to reinstate")
    effective_date: IsoDay = Field(description="Ngày hiệu lực")
    decision: SingleLineText = Field(min_length=1, max_length=100, description="Số quyết định")


class PersonCreate(BaseModel):
    personal_id: str = Field(pattern=r"^[0-9]{12}$", description="Số định danh cá nhân (12 chữ số ASCII)")
    staff_number: str = Field(pattern=r"^[A-Za-z0-9./-]{1,20}$", description="Số hiệu cán bộ")
    full_name: SingleLineText = Field(min_length=1, max_length=150, description="Họ và tên khai sinh")
    date_of_birth: IsoDay = Field(description="Ngày sinh")
    sex: Sex = Field(description="Giới tính")
    unit_id: str = Field(min_length=1, description="Đơn vị")


class PersonPublic(BaseModel):
    id: str
    personal_id: str
    staff_number: str
    full_name: str
    date_of_birth: IsoDay
    sex: Sex
    unit_id: str
    status: PersonStatus


class PersonPage(BaseModel):
    items: list[PersonPublic]
    next_page_token: str | None


class PersonSearchPage(BaseModel):
    """A page of what a search found; with `as_of`, each person's unit and status are that day's."""

    items: list[PersonPublic]
    total: int = Field(description="Tổng số hồ sơ tìm thấy trong phạm vi của tài khoản, mọi trang")
    page: int
    page_size: int


class Headcount(BaseModel):
    unit_id: str
    include_subtree: bool
    headcount: int = Field(description="Số lượng cán bộ")


class BackupCreate(BaseModel):
    store: str = Field(pattern=STORE, description="Kho dữ liệu, e.g. personnel")


class BackupPublic(BaseModel):
    id: str
    store: str
    created_at: datetime
    size_bytes: int
    sha256: str = Field(description="SHA-256 của tệp phần sao lưu (đã nén, mã hóa)")
    content_digest: str
    set_id: str = Field(description="Bộ sao lưu chứa phần này")


class BackupSetCreate(BaseModel):
    stores: list[Annotated[str, Field(pattern=STORE)]] = Field(
        default_factory=list, max_length=32, description="Các kho dữ liệu; bỏ trống: mọi kho"
    )


class BackupSetPublic(BaseModel):
    id: str
    status: str = Field(
        description="running: đang ghi; good: hoàn tất, đã kiểm tra; failed: lỗi; pruned: đã xóa theo quy tắc giữ"
    )
    created_at: datetime
    finished_at: datetime | None
    stores: list[str]
    key_id: str = Field(description="Mã khóa mã hóa các phần")
    size_bytes: int
    manifest_sha256: str = Field(description="SHA-256 của bản kê đã ký")
    failure: str = Field(description="Lý do khi bộ lỗi")
    parts: list[BackupPublic]


class RestoreCreate(BaseModel):
    set_id: str = Field(min_length=1, max_length=36, description="Bộ sao lưu cần phục hồi (bộ đã hoàn tất)")
    stores: list[Annotated[str, Field(pattern=STORE)]] = Field(
        default_factory=list, max_length=32, description="Các kho cần phục hồi; bỏ trống: mọi phần của bộ"
    )
    target_suffix: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_]{0,39}$",
        description="Mỗi kho được phục hồi vào CSDL mới tên <kho>_<hậu tố>; các CSDL đó phải chưa có",
    )
    reason: str = Field(min_length=1, max_length=1000, description="Lý do phục hồi (sự cố, yêu cầu kiểm tra…)")


class RestoreSwitch(BaseModel):
    replace_live: bool = Field(
        description="Phải là true: dữ liệu đang chạy được giữ dưới tên khác và bản phục hồi thay chỗ"
    )


class RestoredPartPublic(BaseModel):
    store: str
    backup_id: str
    target: str = Field(description="CSDL mới nhận phần phục hồi")
    expected_digest: str = Field(description="Dấu nội dung lúc sao lưu")
    content_digest: str = Field(description="Dấu nội dung sau phục hồi")
    verified: bool
    kept_as: str = Field(description="Sau chuyển đổi: tên giữ CSDL đang chạy trước đó")
    resent_events: int = Field(
        description="Khi chuyển đổi: số sự kiện trong hộp thư đi của bản phục hồi được gửi lại "
        "(đã gửi từ lúc bộ sao lưu bắt đầu, có thể không có trong luồng sự kiện của bộ)"
    )


class RestorePublic(BaseModel):
    id: str
    set_id: str
    status: str = Field(
        description="requested: chờ quản trị viên thứ hai xác nhận; running: đang phục hồi; verified: đã phục hồi "
        "và khớp; failed: lỗi; cancelled: đã hủy hoặc hết hạn; switching/switched: đang/đã chuyển thành dữ liệu chạy"
    )
    target_suffix: str
    reason: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    confirmed_by: str
    confirmed_at: datetime | None
    finished_at: datetime | None
    switched_by: str
    switched_at: datetime | None
    failure: str
    parts: list[RestoredPartPublic]


class DrillPublic(BaseModel):
    id: str
    set_id: str = Field(description="Bộ sao lưu được diễn tập (bộ hoàn tất mới nhất)")
    status: str = Field(description="running, passed: mọi phần phục hồi và khớp; failed")
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    failure: str
    parts: list[RestoredPartPublic]
