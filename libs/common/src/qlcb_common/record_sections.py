"""The sections of a civil servant's record, each declared once (R-PER-1, ADR 0009).

A declaration names the section's fields with their kinds, limits and catalogs, how its entries
sit in time, and the authorization section that guards it. Personnel stores, checks, dates and
corrects entries from it; the gateway builds the section's typed REST schema from it; consumers
of personnel's events check entries against it. Adding a section is adding a declaration here
(and, for rules beyond field types, a rule in personnel).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from qlcb_common.authz.matrix import Section
from qlcb_common.errors import FieldViolation
from qlcb_common.text import clean, control_violation


class Kind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"  # several lines allowed
    DATE = "date"
    INTEGER = "integer"
    DECIMAL = "decimal"  # sent and kept as a string, e.g. "4.98"
    CODE = "code"  # a code of the field's catalog, valid on the entry's date


class Timing(StrEnum):
    """How a section's entries sit in time."""

    TIMELINE = "timeline"  # one at a time (rank and step, placement): periods must not overlap
    PERIODS = "periods"  # periods that may run side by side (training courses, concurrent posts)
    EVENTS = "events"  # dated facts (an evaluation, a reward); `unique` fields make one per key
    FACTS = "facts"  # undated facts (family relations)


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    label: str  # Vietnamese, as the resume and the exports print it
    required: bool = True
    max_length: int = 255
    catalog: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    within: str | None = None
    """For a code whose catalog has a parent catalog (a commune's province): the field of the same
    entry holding the parent's code, which the code must belong to when both are given."""


@dataclass(frozen=True)
class RecordSection:
    name: str  # the path segment: /v1/persons/{id}/{name}
    label: str
    authz: Section
    timing: Timing
    fields: tuple[Field, ...]
    decision_required: bool = False
    unique: tuple[str, ...] = ()  # for EVENTS: at most one current entry per value of these fields
    moves_beyond_placements: bool = False
    """A part of work history that records more than a move within the unit of someone not leading
    it (a recruitment, a leadership post, a rotation or secondment out): not written by a tier whose
    work-history writes are placements only (`PLACEMENTS_ONLY`)."""

    @property
    def dated(self) -> bool:
        return self.timing is not Timing.FACTS


_NOTE = Field("note", Kind.LONG_TEXT, "Ghi chú", required=False, max_length=1000)

SECTIONS: tuple[RecordSection, ...] = (
    RecordSection(
        name="salary",
        label="Diễn biến lương (ngạch, bậc, hệ số)",
        authz=Section.SALARY,
        timing=Timing.TIMELINE,
        decision_required=True,
        fields=(
            Field("rank_code", Kind.CODE, "Mã ngạch", catalog="ranks", max_length=16),
            Field("step", Kind.INTEGER, "Bậc", minimum=1, maximum=20),
            Field("coefficient", Kind.DECIMAL, "Hệ số lương", max_length=8),
            Field("over_frame_percent", Kind.INTEGER, "Phụ cấp vượt khung (%)", required=False, minimum=5, maximum=50),
            _NOTE,
        ),
    ),
    RecordSection(
        name="personal_details",
        label="Sơ yếu lý lịch: nhân thân",
        authz=Section.IDENTITY,
        timing=Timing.TIMELINE,
        fields=(
            Field("other_names", Kind.TEXT, "Tên gọi khác", required=False, max_length=150),
            Field("birthplace", Kind.TEXT, "Nơi sinh"),
            Field(
                "birthplace_province",
                Kind.CODE,
                "Tỉnh, thành phố nơi sinh",
                required=False,
                catalog="provinces",
                max_length=8,
            ),
            Field(
                "birthplace_commune",
                Kind.CODE,
                "Xã, phường nơi sinh",
                required=False,
                catalog="communes",
                max_length=8,
                within="birthplace_province",
            ),
            Field("home_town", Kind.TEXT, "Quê quán"),
            Field(
                "home_town_province",
                Kind.CODE,
                "Tỉnh, thành phố quê quán",
                required=False,
                catalog="provinces",
                max_length=8,
            ),
            Field(
                "home_town_commune",
                Kind.CODE,
                "Xã, phường quê quán",
                required=False,
                catalog="communes",
                max_length=8,
                within="home_town_province",
            ),
            Field("ethnicity", Kind.CODE, "Dân tộc", catalog="ethnicities", max_length=8),
            Field("religion", Kind.CODE, "Tôn giáo", catalog="religions", max_length=16),
            Field(
                "general_education",
                Kind.CODE,
                "Trình độ giáo dục phổ thông",
                required=False,
                catalog="general_education",
                max_length=8,
            ),
            Field("social_insurance_number", Kind.TEXT, "Số sổ BHXH", required=False, max_length=20),
            Field("strengths", Kind.TEXT, "Sở trường", required=False),
            _NOTE,
        ),
    ),
    RecordSection(
        name="residences",
        label="Nơi thường trú, nơi ở hiện nay, liên lạc",
        authz=Section.IDENTITY,
        timing=Timing.TIMELINE,
        fields=(
            Field("permanent_residence", Kind.TEXT, "Nơi thường trú"),
            Field(
                "permanent_residence_province",
                Kind.CODE,
                "Tỉnh, thành phố nơi thường trú",
                required=False,
                catalog="provinces",
                max_length=8,
            ),
            Field(
                "permanent_residence_commune",
                Kind.CODE,
                "Xã, phường nơi thường trú",
                required=False,
                catalog="communes",
                max_length=8,
                within="permanent_residence_province",
            ),
            Field("current_residence", Kind.TEXT, "Nơi ở hiện nay"),
            Field(
                "current_residence_province",
                Kind.CODE,
                "Tỉnh, thành phố nơi ở hiện nay",
                required=False,
                catalog="provinces",
                max_length=8,
            ),
            Field(
                "current_residence_commune",
                Kind.CODE,
                "Xã, phường nơi ở hiện nay",
                required=False,
                catalog="communes",
                max_length=8,
                within="current_residence_province",
            ),
            Field("phone", Kind.TEXT, "Điện thoại", required=False, max_length=20),
            Field("email", Kind.TEXT, "Thư điện tử", required=False, max_length=254),
        ),
    ),
    RecordSection(
        name="id_documents",
        label="Giấy tờ tùy thân",
        authz=Section.IDENTITY,
        timing=Timing.PERIODS,
        fields=(
            Field("kind", Kind.CODE, "Loại giấy tờ", catalog="id_document_kinds", max_length=16),
            Field("number", Kind.TEXT, "Số", max_length=20),
            Field("issued_by", Kind.TEXT, "Nơi cấp"),
        ),
    ),
    RecordSection(
        name="memberships",
        label="Đảng, tổ chức chính trị – xã hội",
        authz=Section.IDENTITY,
        timing=Timing.PERIODS,
        fields=(
            Field("organisation", Kind.CODE, "Tổ chức", catalog="organisations", max_length=16),
            Field("official_on", Kind.DATE, "Ngày chính thức (đảng viên)", required=False),
            Field("role", Kind.TEXT, "Chức vụ trong tổ chức", required=False),
            _NOTE,
        ),
    ),
    RecordSection(
        name="military_service",
        label="Nhập ngũ, xuất ngũ",
        authz=Section.IDENTITY,
        timing=Timing.PERIODS,
        fields=(
            Field("highest_rank", Kind.TEXT, "Quân hàm cao nhất", required=False, max_length=50),
            Field("unit_name", Kind.TEXT, "Đơn vị", required=False),
        ),
    ),
    RecordSection(
        name="health",
        label="Tình trạng sức khỏe",
        authz=Section.IDENTITY,
        timing=Timing.EVENTS,
        fields=(
            Field("status", Kind.TEXT, "Tình trạng sức khỏe", max_length=100),
            Field("height_cm", Kind.INTEGER, "Chiều cao (cm)", required=False, minimum=50, maximum=250),
            Field("weight_kg", Kind.INTEGER, "Cân nặng (kg)", required=False, minimum=20, maximum=300),
            Field("blood_group", Kind.TEXT, "Nhóm máu", required=False, max_length=5),
        ),
    ),
    RecordSection(
        name="policy_status",
        label="Thương binh, gia đình chính sách",
        authz=Section.IDENTITY,
        timing=Timing.PERIODS,
        fields=(Field("kind", Kind.TEXT, "Diện chính sách (hạng thương binh, con liệt sĩ…)"), _NOTE),
    ),
    RecordSection(
        name="personal_history",
        label="Đặc điểm lịch sử bản thân",
        authz=Section.IDENTITY,
        timing=Timing.FACTS,
        fields=(
            Field(
                "detention",
                Kind.LONG_TEXT,
                "Bị bắt, bị tù (từ ngày nào đến ngày nào, ở đâu), đã khai báo cho ai, những vấn đề gì",
                required=False,
                max_length=2000,
            ),
            Field(
                "foreign_organisations",
                Kind.LONG_TEXT,
                "Tham gia hoặc có quan hệ với các tổ chức chính trị, kinh tế, xã hội ở nước ngoài",
                required=False,
                max_length=2000,
            ),
            Field(
                "relatives_abroad",
                Kind.LONG_TEXT,
                "Thân nhân (cha, mẹ, vợ, chồng, con, anh chị em ruột) ở nước ngoài: làm gì, địa chỉ",
                required=False,
                max_length=2000,
            ),
        ),
    ),
    RecordSection(
        name="recruitment",
        label="Tuyển dụng",
        authz=Section.WORK_HISTORY,
        moves_beyond_placements=True,
        timing=Timing.EVENTS,
        decision_required=True,
        fields=(
            Field("body", Kind.TEXT, "Cơ quan tuyển dụng"),
            Field("occupation_before", Kind.TEXT, "Nghề nghiệp khi được tuyển dụng", required=False),
            _NOTE,
        ),
    ),
    RecordSection(
        name="placements",
        label="Quá trình công tác",
        authz=Section.WORK_HISTORY,
        timing=Timing.TIMELINE,
        fields=(
            Field("unit_name", Kind.TEXT, "Cơ quan, đơn vị"),
            Field("post", Kind.TEXT, "Chức danh, chức vụ"),
            Field("main_duties", Kind.LONG_TEXT, "Công việc chính", required=False, max_length=1000),
            _NOTE,
        ),
    ),
    RecordSection(
        name="concurrent_posts",
        label="Chức vụ kiêm nhiệm",
        authz=Section.WORK_HISTORY,
        moves_beyond_placements=True,
        timing=Timing.PERIODS,
        decision_required=True,
        fields=(
            Field("unit_name", Kind.TEXT, "Cơ quan, đơn vị"),
            Field("post", Kind.TEXT, "Chức vụ kiêm nhiệm"),
            _NOTE,
        ),
    ),
    RecordSection(
        name="appointments",
        label="Bổ nhiệm, bổ nhiệm lại",
        authz=Section.WORK_HISTORY,
        moves_beyond_placements=True,
        timing=Timing.PERIODS,
        decision_required=True,
        fields=(
            Field("kind", Kind.CODE, "Hình thức", catalog="appointment_kinds", max_length=16),
            Field("post", Kind.TEXT, "Chức vụ"),
            Field("post_code", Kind.CODE, "Mã chức vụ lãnh đạo", required=False, catalog="posts", max_length=32),
            Field("unit_name", Kind.TEXT, "Cơ quan, đơn vị"),
            Field("term_months", Kind.INTEGER, "Thời hạn (tháng)", minimum=1, maximum=120),
            _NOTE,
        ),
    ),
    RecordSection(
        name="rotations",
        label="Luân chuyển",
        authz=Section.WORK_HISTORY,
        moves_beyond_placements=True,
        timing=Timing.PERIODS,
        decision_required=True,
        fields=(
            Field("unit_name", Kind.TEXT, "Nơi luân chuyển đến"),
            Field("post", Kind.TEXT, "Chức vụ"),
            Field("term_months", Kind.INTEGER, "Thời hạn (tháng)", minimum=1, maximum=120),
            _NOTE,
        ),
    ),
    RecordSection(
        name="secondments",
        label="Biệt phái (giữ đơn vị gốc)",
        authz=Section.WORK_HISTORY,
        moves_beyond_placements=True,
        timing=Timing.PERIODS,
        decision_required=True,
        fields=(
            Field("host_unit", Kind.TEXT, "Nơi biệt phái đến"),
            Field("post", Kind.TEXT, "Công việc, chức vụ", required=False),
            _NOTE,
        ),
    ),
    RecordSection(
        name="allowances",
        label="Phụ cấp",
        authz=Section.SALARY,
        timing=Timing.PERIODS,
        decision_required=True,
        fields=(
            Field("kind", Kind.CODE, "Loại phụ cấp", catalog="allowance_kinds", max_length=16),
            Field("coefficient", Kind.DECIMAL, "Hệ số", required=False, max_length=8),
            Field("percent", Kind.INTEGER, "Tỷ lệ (%)", required=False, minimum=1, maximum=100),
            _NOTE,
        ),
    ),
    RecordSection(
        name="trainings",
        label="Đào tạo, bồi dưỡng",
        authz=Section.TRAINING,
        timing=Timing.PERIODS,
        fields=(
            Field("kind", Kind.CODE, "Loại", catalog="training_kinds", max_length=16),
            Field("level", Kind.CODE, "Trình độ, văn bằng", catalog="training_levels", max_length=16),
            Field("field", Kind.TEXT, "Chuyên ngành", required=False),
            Field("institution", Kind.TEXT, "Cơ sở đào tạo"),
            Field("mode", Kind.TEXT, "Hình thức đào tạo", required=False, max_length=50),
            _NOTE,
        ),
    ),
    RecordSection(
        name="evaluations",
        label="Đánh giá, xếp loại hằng năm",
        authz=Section.EVALUATION,
        timing=Timing.EVENTS,
        decision_required=True,
        unique=("year",),
        fields=(
            Field("year", Kind.INTEGER, "Năm đánh giá", minimum=1975, maximum=2100),
            Field("level", Kind.CODE, "Mức xếp loại", catalog="evaluation_levels", max_length=16),
            _NOTE,
        ),
    ),
    RecordSection(
        name="rewards",
        label="Khen thưởng",
        authz=Section.REWARDS_DISCIPLINE,
        timing=Timing.EVENTS,
        decision_required=True,
        fields=(
            Field("form", Kind.CODE, "Hình thức khen thưởng", catalog="reward_forms", max_length=16),
            Field("reason", Kind.TEXT, "Thành tích", required=False, max_length=500),
        ),
    ),
    RecordSection(
        name="honorary_titles",
        label="Danh hiệu vinh dự nhà nước được phong tặng",
        authz=Section.REWARDS_DISCIPLINE,
        timing=Timing.EVENTS,
        decision_required=True,
        unique=("title",),
        fields=(
            Field("title", Kind.CODE, "Danh hiệu", catalog="honorary_titles", max_length=16),
            _NOTE,
        ),
    ),
    RecordSection(
        name="disciplines",
        label="Kỷ luật",
        authz=Section.REWARDS_DISCIPLINE,
        timing=Timing.PERIODS,
        decision_required=True,
        fields=(
            Field("form", Kind.CODE, "Hình thức kỷ luật", catalog="discipline_forms", max_length=16),
            Field("reason", Kind.TEXT, "Hành vi vi phạm", max_length=500),
        ),
    ),
    RecordSection(
        name="asset_declarations",
        label="Kê khai tài sản, thu nhập",
        authz=Section.ASSET_DECLARATION,
        timing=Timing.EVENTS,
        unique=("year",),
        fields=(
            Field("year", Kind.INTEGER, "Năm kê khai", minimum=1990, maximum=2100),
            Field("receiving_body", Kind.TEXT, "Cơ quan nhận bản kê khai"),
            _NOTE,
        ),
    ),
    RecordSection(
        name="labour_contracts",
        label="Hợp đồng lao động",
        authz=Section.LABOUR_CONTRACT,
        timing=Timing.TIMELINE,
        fields=(
            Field("contract_type", Kind.CODE, "Loại hợp đồng", catalog="contract_types", max_length=16),
            Field("job", Kind.TEXT, "Công việc"),
            _NOTE,
        ),
    ),
    RecordSection(
        name="family",
        label="Quan hệ gia đình",
        authz=Section.FAMILY,
        timing=Timing.FACTS,
        fields=(
            Field("side", Kind.CODE, "Về bản thân hay bên vợ/chồng", catalog="family_sides", max_length=16),
            Field("relation", Kind.TEXT, "Quan hệ", max_length=50),
            Field("full_name", Kind.TEXT, "Họ và tên", max_length=150),
            Field("birth_year", Kind.INTEGER, "Năm sinh", minimum=1880, maximum=2100),
            Field("home_town", Kind.TEXT, "Quê quán", required=False),
            Field("occupation", Kind.TEXT, "Nghề nghiệp", required=False),
            Field("workplace", Kind.TEXT, "Cơ quan công tác", required=False),
            Field("residence", Kind.TEXT, "Nơi ở", required=False),
        ),
    ),
)
BY_NAME: Mapping[str, RecordSection] = {section.name: section for section in SECTIONS}

MAX_DECISION_TEXT = 255
MAX_SIGNER = 150
"""The signer's name: a person's name, as long as a full name may be."""
MAX_ENTRIES_AT_ONCE = 200
"""The most entries one request may record together (a whole career fits in far fewer)."""


def check_values(
    section: RecordSection, raw: Mapping[str, object], violations: list[FieldViolation]
) -> dict[str, object]:
    """The entry's values as stored (text trimmed and NFC, numbers typed), checked field by field
    against the declaration; unknown fields are refused. Catalog codes are checked by personnel,
    which keeps the catalogs."""
    known = {f.name for f in section.fields}
    for name in raw:
        if name not in known:
            violations.append(FieldViolation(f"values.{name}", "không phải trường của mục này"))
    values: dict[str, object] = {}
    for spec in section.fields:
        value = raw.get(spec.name)
        where = f"values.{spec.name}"
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                violations.append(FieldViolation(where, f"{spec.label}: bắt buộc"))
            continue
        checked = _check(spec, value, where, violations)
        if checked is not None:
            values[spec.name] = checked
    return values


_DECIMAL = re.compile(r"[0-9]{1,5}(\.[0-9]{1,2})?")
"""A coefficient as the grids write one: digits, and at most two after the point (never rounded
away); no sign, no exponent."""


def _check(spec: Field, value: object, where: str, violations: list[FieldViolation]) -> object | None:
    if spec.kind is Kind.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            violations.append(FieldViolation(where, f"{spec.label}: phải là số nguyên"))
            return None
        if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
            violations.append(FieldViolation(where, f"{spec.label}: phải từ {spec.minimum} đến {spec.maximum}"))
            return None
        return value
    if not isinstance(value, str):
        violations.append(FieldViolation(where, f"{spec.label}: phải là chuỗi ký tự"))
        return None
    if refused := control_violation(where, value, multiline=spec.kind is Kind.LONG_TEXT):
        violations.append(refused)
        return None
    text = clean(value) if spec.kind is not Kind.LONG_TEXT else "\n".join(clean(line) for line in value.splitlines())
    if len(text) > spec.max_length:
        violations.append(FieldViolation(where, f"{spec.label}: dài quá {spec.max_length} ký tự"))
        return None
    if spec.kind is Kind.DECIMAL:
        if not _DECIMAL.fullmatch(text):
            violations.append(
                FieldViolation(where, f"{spec.label}: phải là số không âm, tối đa hai chữ số thập phân, ví dụ 4.98")
            )
            return None
        return f"{Decimal(text).quantize(Decimal('0.01'))}"
    if spec.kind is Kind.DATE:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            violations.append(FieldViolation(where, f"{spec.label}: phải theo dạng YYYY-MM-DD"))
            return None
    if spec.kind is Kind.CODE:
        return text.upper()
    return text
