"""The kinds of decision (quyết định) that change people's records, each declared once (R-PER-3).

A decision names one or many people and, for each, the entry it makes in one section of the
record, or the status it gives them. Personnel applies it on its effective date and reverses it
when it is cancelled; the gateway builds each kind's typed request from this declaration and the
section's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from qlcb_common.record_sections import BY_NAME, RecordSection


class SalaryRule(StrEnum):
    """What a salary decision must respect beyond the section's own checks (TT 08/2013/TT-BNV)."""

    REGULAR_RAISE = "regular_raise"  # the next step of the same rank, once the months per step are served
    EARLY_RAISE = "early_raise"  # the next step, at most 12 months before it is due
    OVER_FRAME = "over_frame"  # at the rank's last step only


@dataclass(frozen=True)
class DecisionKind:
    name: str
    label: str  # Vietnamese, as the decision's title reads
    section: str | None = None  # the record section each person's entry goes to
    status: str | None = None  # or the status each person is given (personnel.v1.PersonStatus name)
    salary_rule: SalaryRule | None = None

    @property
    def record_section(self) -> RecordSection | None:
        return BY_NAME[self.section] if self.section else None


KINDS: tuple[DecisionKind, ...] = (
    DecisionKind("recruitment", "Quyết định tuyển dụng", section="recruitment"),
    DecisionKind("placement", "Quyết định điều động, phân công công tác", section="placements"),
    DecisionKind("appointment", "Quyết định bổ nhiệm, bổ nhiệm lại", section="appointments"),
    DecisionKind("concurrent_post", "Quyết định giao kiêm nhiệm", section="concurrent_posts"),
    DecisionKind("rotation", "Quyết định luân chuyển", section="rotations"),
    DecisionKind("secondment", "Quyết định biệt phái", section="secondments"),
    DecisionKind("rank_change", "Quyết định bổ nhiệm ngạch, chuyển ngạch, nâng ngạch", section="salary"),
    DecisionKind(
        "regular_raise",
        "Quyết định nâng bậc lương thường xuyên",
        section="salary",
        salary_rule=SalaryRule.REGULAR_RAISE,
    ),
    DecisionKind(
        "early_raise",
        "Quyết định nâng bậc lương trước thời hạn",
        section="salary",
        salary_rule=SalaryRule.EARLY_RAISE,
    ),
    DecisionKind(
        "over_frame",
        "Quyết định hưởng phụ cấp thâm niên vượt khung",
        section="salary",
        salary_rule=SalaryRule.OVER_FRAME,
    ),
    DecisionKind("allowance", "Quyết định hưởng phụ cấp", section="allowances"),
    DecisionKind("evaluation", "Quyết định, kết luận đánh giá xếp loại", section="evaluations"),
    DecisionKind("reward", "Quyết định khen thưởng", section="rewards"),
    DecisionKind("honorary_title", "Quyết định phong tặng danh hiệu vinh dự nhà nước", section="honorary_titles"),
    DecisionKind("discipline", "Quyết định kỷ luật", section="disciplines"),
    DecisionKind("retirement", "Quyết định nghỉ hưu", status="PERSON_STATUS_RETIRED"),
    DecisionKind("resignation", "Quyết định thôi việc", status="PERSON_STATUS_RESIGNED"),
    DecisionKind("move_out", "Quyết định chuyển công tác ra ngoài ngành", status="PERSON_STATUS_MOVED_OUT"),
    DecisionKind("reinstatement", "Quyết định khôi phục, tiếp nhận trở lại", status="PERSON_STATUS_ACTIVE"),
)
KIND_BY_NAME: Mapping[str, DecisionKind] = {kind.name: kind for kind in KINDS}

MAX_PEOPLE = 500  # a decision names at most this many people (a unit's whole staff at once)
