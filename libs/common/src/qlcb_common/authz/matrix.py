"""The declarative matrix of the domain's tier table (001 Điều 5–7, 003 annex).

Each tier lists (sections, actions, scope) rows; every combination not listed is NONE. The
matrix is data: a change of the regulation is a change of these rows, not of code.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum

from qlcb_common.tiers import Tier


class Scope(IntEnum):
    """Ordered from narrowest to widest, so the widest of several grants is their max."""

    NONE = 0
    OWN_RECORD = 1  # chỉ hồ sơ của chính mình
    OWN_UNIT = 2  # đơn vị mình
    SUBTREE = 3  # đơn vị mình và các đơn vị trực thuộc
    SECTOR = 4  # toàn ngành


class Section(StrEnum):
    UNIT = "unit"  # tổ chức bộ máy: the unit tree
    IDENTITY = "identity"  # sơ yếu lý lịch: name, birth, ids
    WORK_HISTORY = "work_history"  # quá trình công tác: tuyển dụng, bố trí, bổ nhiệm, luân chuyển
    MOVEMENT = "movement"  # biến động: điều động sang đơn vị khác, nghỉ hưu, thôi việc, khôi phục
    SALARY = "salary"  # ngạch, bậc, hệ số, phụ cấp
    TRAINING = "training"  # đào tạo, bồi dưỡng
    EVALUATION = "evaluation"  # đánh giá, xếp loại hằng năm
    REWARDS_DISCIPLINE = "rewards_discipline"  # khen thưởng, kỷ luật
    ASSET_DECLARATION = "asset_declaration"  # kê khai tài sản
    LABOUR_CONTRACT = "labour_contract"  # hợp đồng lao động
    FAMILY = "family"  # quan hệ gia đình
    CATALOG = "catalog"  # danh mục
    REPORTS = "reports"  # báo cáo, thống kê: read; write and send a unit's report; approve or return it (operate)
    REPORT_REGIMES = "report_regimes"  # chế độ báo cáo, mẫu biểu, kỳ báo cáo, mở khóa ngoại lệ
    BACKUP = "backup"  # sao lưu, phục hồi
    AUDIT = "audit"  # nhật ký truy cập, thay đổi hồ sơ (R-AUD-1, R-PER-7)


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    EXPORT = "export"
    OPERATE = "operate"


RECORD = (
    Section.IDENTITY,
    Section.WORK_HISTORY,
    Section.MOVEMENT,
    Section.SALARY,
    Section.TRAINING,
    Section.EVALUATION,
    Section.REWARDS_DISCIPLINE,
    Section.ASSET_DECLARATION,
    Section.LABOUR_CONTRACT,
    Section.FAMILY,
)
VIEW = (Action.READ, Action.EXPORT)
WRITE = (Action.CREATE, Action.UPDATE)
Row = tuple[Iterable[Section], Iterable[Action], Scope]

_ROWS: dict[Tier, list[Row]] = {
    Tier.SYSTEM_ADMIN: [(Section, Action, Scope.SECTOR)],
    Tier.SECTOR_HR: [
        ((*RECORD, Section.UNIT, Section.REPORTS, Section.CATALOG), VIEW, Scope.SECTOR),
        # Who read, exported or changed which record: the sector's personnel organisation answers for it.
        ((Section.AUDIT,), (Action.READ,), Scope.SECTOR),
        # Records resulting from its own decisions, for any unit; catalogs; newly established units.
        ((*RECORD, Section.UNIT, Section.CATALOG), WRITE, Scope.SECTOR),
        # The personnel organisation issues the sector's personnel report regimes (R-REP-2) and, as
        # their issuer, approves or returns what the units send; it writes its own unit's reports.
        ((Section.REPORT_REGIMES,), (Action.READ, *WRITE), Scope.SECTOR),
        ((Section.REPORTS,), (Action.OPERATE,), Scope.SECTOR),
        ((Section.REPORTS,), WRITE, Scope.OWN_UNIT),
    ],
    Tier.SECTOR_VIEWER: [
        ((*RECORD, Section.UNIT, Section.REPORTS, Section.CATALOG), VIEW, Scope.SECTOR),
        ((Section.REPORT_REGIMES,), (Action.READ,), Scope.SECTOR),
    ],
    Tier.HQ_DEPARTMENT: [
        ((*RECORD, Section.UNIT, Section.REPORTS), VIEW, Scope.OWN_UNIT),
        ((Section.ASSET_DECLARATION,), WRITE, Scope.OWN_UNIT),
        # Writes and sends its own unit's reports (004 Điều 7.2).
        ((Section.REPORTS,), WRITE, Scope.OWN_UNIT),
        ((Section.CATALOG, Section.REPORT_REGIMES), (Action.READ,), Scope.SECTOR),
    ],
    Tier.HQ_UNIT: [
        ((*RECORD, Section.UNIT, Section.REPORTS), VIEW, Scope.OWN_UNIT),
        ((Section.REPORTS,), WRITE, Scope.OWN_UNIT),
        ((Section.REPORT_REGIMES,), (Action.READ,), Scope.SECTOR),
        # Intra-unit moves of non-leaders (work history, never a movement out of the unit or out of
        # service), rewards and discipline within the head's authority, asset declarations,
        # labour-contract workers.
        (
            (Section.WORK_HISTORY, Section.REWARDS_DISCIPLINE, Section.ASSET_DECLARATION, Section.LABOUR_CONTRACT),
            WRITE,
            Scope.OWN_UNIT,
        ),
        ((Section.CATALOG,), (Action.READ,), Scope.SECTOR),
    ],
    Tier.LOCAL_ADMIN: [
        ((*RECORD, Section.UNIT, Section.REPORTS), VIEW, Scope.SUBTREE),
        ((Section.AUDIT,), (Action.READ,), Scope.SUBTREE),
        (RECORD, WRITE, Scope.SUBTREE),
        # Writes and sends the reports of its subtree, and approves or returns those its sub-units
        # send it (004 Điều 7.1.b, 7.3): as the level above them, never its own.
        ((Section.REPORTS,), (*WRITE, Action.OPERATE), Scope.SUBTREE),
        ((Section.CATALOG, Section.REPORT_REGIMES), (Action.READ,), Scope.SECTOR),
    ],
    # Finds the staff of its subtree; what else it reads and writes its admin grants (GRANTED_ROWS).
    Tier.LOCAL_OFFICER: [
        ((Section.IDENTITY, Section.UNIT, Section.REPORTS), (Action.READ,), Scope.SUBTREE),
        ((Section.CATALOG, Section.REPORT_REGIMES), (Action.READ,), Scope.SECTOR),
    ],
    Tier.UNIT_LEADER: [
        ((*RECORD, Section.UNIT, Section.REPORTS), VIEW, Scope.SUBTREE),
        # The head of a unit answers for who reads and changes its staff's records.
        ((Section.AUDIT,), (Action.READ,), Scope.SUBTREE),
        # The head approves or returns the reports its sub-units send (004 Điều 7.3.a).
        ((Section.REPORTS,), (Action.OPERATE,), Scope.SUBTREE),
        ((Section.CATALOG, Section.REPORT_REGIMES), (Action.READ,), Scope.SECTOR),
    ],
    Tier.SELF: [
        (RECORD, (Action.READ,), Scope.OWN_RECORD),
        ((Section.CATALOG,), (Action.READ,), Scope.SECTOR),
    ],
}


# "The record sections its admin granted": a row that holds only for the sections listed in the
# account's own grant (the access token's `sections` claim), which its admin sets in identity.
GRANTED_ROWS: dict[Tier, Row] = {Tier.LOCAL_OFFICER: (RECORD, (*VIEW, *WRITE), Scope.SUBTREE)}
GRANTABLE_SECTIONS = frozenset(RECORD)

PLACEMENTS_ONLY: frozenset[Tier] = frozenset({Tier.HQ_UNIT})
"""Tiers whose work-history writes are moves within the unit of people not leading it (the HQ unit's,
001 Điều 6): the parts of work history that record more (`moves_beyond_placements`) need the right
from another tier, a grant or a delegation."""

OWN_DECISIONS_ONLY: frozenset[Tier] = frozenset({Tier.SECTOR_HR})
"""Tiers that write "records resulting from its own decisions for any unit" (the sector HR's, 001
Điều 6.1.b): where a unit keeps its own staff's records (001 Điều 6.2), an entry written through
such a tier alone must result from a decision of the sector's head body (personnel's
`record.sector_decisions`)."""


def _expand(rows: list[Row]) -> dict[Section, dict[Action, Scope]]:
    table = {section: dict.fromkeys(Action, Scope.NONE) for section in Section}
    for sections, actions, scope in rows:
        for section in sections:
            for action in actions:
                table[section][action] = max(table[section][action], scope)
    return table


MATRIX: dict[Tier, dict[Section, dict[Action, Scope]]] = {tier: _expand(rows) for tier, rows in _ROWS.items()}
