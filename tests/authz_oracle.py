"""What each tier may do, written out cell by cell from the regulation: the tier table of the
domain (001/QĐ-TCHQ Điều 5–7, 003 annex 4), for the demo organisation's logins. The services are
compared against this table, never against the policy code they run (issue 17.1): nothing here
imports `qlcb_common.authz`.

Columns are the demo logins, one per tier. Rows are an operation on a target, the target seen from
the login's own unit:

    me       the login's own record (only the self tier's login is linked to one)
    own      the login's own unit (for person operations: someone working there)
    below    a unit below it (someone working there)
    outside  a unit outside its subtree (a Chi cục of another Cục, or one in Hà Nội)
    dept     another sector-level department (Vụ Pháp chế)
    any      operations about no unit (catalogs, backups, audit, one's own account)

For `unit.create` and `unit.reorganise` the target is where the new or changed unit sits: a unit
established under it, or a sub-unit of it renamed, moved, split, merged or dissolved. For
identity's operations (account requests, accounts, quotas, purpose accounts, delegations) it is the
unit of the request, account, purpose account or delegation acted on; `account.own.*` rows are
about the login's own account.

A cell says what the caller must get:

    Y  done (2xx)
    F  refused: 403 (the caller may see the target, or the target is no secret: a unit, a catalog)
    H  refused as if the record did not exist: 404 (it may not even read it, R-PER-7)
    -  no such target for this login (the root holds nobody; the self tier's unit has no sub-unit)

The local officer ("Nhân sự 1" of Hà Nội) is read with the grant its admin gave it in the demo:
the staff's particulars (identity), their work history and movements, nothing else.

The HQ unit's "intra-unit position moves of non-leaders" is read at the grain of the parts of the
record: it writes its own staff's placements, but no recruitment, leadership post (appointment,
concurrent post) nor move out of the unit (rotation, secondment): `record.work_history_moves.write`.
Whether the person placed leads, or the post named is a leader's, is finer than any part and not in
here: a placement of someone holding a leadership post that day, or into a leadership post, is refused
to that tier (test_hq_unit_moves).

The sector HR's "records resulting from its own decisions for any unit" is read with the probes'
entries, which all cite a decision of Tổng cục Hải quan. Whether it may record an entry citing
another body's decision, or none, is finer than any part and not in here: in a Cục Hải quan tỉnh,
which keeps its own staff's records, that is refused to it (test_sector_hr_writes).
"""

from __future__ import annotations

from dataclasses import dataclass

LOGINS = (
    "quantri",  # system admin, at the root (Tổng cục)
    "vutccb",  # sector HR: staff of Vụ Tổ chức cán bộ
    "lanhdaovu",  # sector viewer: leadership of Vụ Tổ chức cán bộ
    "canbo.vutccb",  # HQ department: Vụ Tổ chức cán bộ itself
    "cucdtcbl",  # HQ unit: Cục Điều tra chống buôn lậu
    "qthanoi",  # local admin of Cục Hải quan Hà Nội
    "nhansu1.hanoi",  # local officer of Hà Nội, granted identity and work history
    "thutruong.hcm",  # unit leader of Cục Hải quan TP Hồ Chí Minh
    "canbo.noibai",  # self: a civil servant of Chi cục Nội Bài
)

# Where each login's targets are, by unit code ("me" is the self login's own record in its unit).
TARGETS: dict[str, dict[str, str]] = {
    "quantri": {"own": "TCHQ", "below": "HQHN-NB", "dept": "VPC"},
    "vutccb": {"own": "VTCCB", "below": "VTCCB-TCBM", "outside": "HQHN-NB", "dept": "VPC"},
    "lanhdaovu": {"own": "VTCCB", "below": "VTCCB-TCBM", "outside": "HQHN-NB", "dept": "VPC"},
    "canbo.vutccb": {"own": "VTCCB", "below": "VTCCB-TCBM", "outside": "HQHN-NB", "dept": "VPC"},
    "cucdtcbl": {"own": "CDTCBL", "below": "CDTCBL-KV1", "outside": "HQHN-NB", "dept": "VPC"},
    "qthanoi": {"own": "HQHN", "below": "HQHN-NB", "outside": "HQHCM-SG1", "dept": "VPC"},
    "nhansu1.hanoi": {"own": "HQHN", "below": "HQHN-NB", "outside": "HQHCM-SG1", "dept": "VPC"},
    "thutruong.hcm": {"own": "HQHCM", "below": "HQHCM-TSN", "outside": "HQHN-NB", "dept": "VPC"},
    "canbo.noibai": {"me": "HQHN-NB", "own": "HQHN-NB", "outside": "HQHCM-SG1", "dept": "VPC"},
}

# The record's sections as the regulation groups them (R-PER-1; 003 annex 4 grants by these).
SECTIONS = (
    "identity",  # sơ yếu lý lịch
    "work_history",  # quá trình công tác
    "salary",  # ngạch, bậc, phụ cấp
    "training",  # đào tạo, bồi dưỡng
    "evaluation",  # đánh giá, xếp loại
    "rewards_discipline",  # khen thưởng, kỷ luật
    "asset_declaration",  # kê khai tài sản
    "labour_contract",  # hợp đồng lao động
    "family",  # quan hệ gia đình
)

# Which regulatory section each part of the resume (each REST section) belongs to.
RESUME_PARTS = {
    "personal_details": "identity",
    "residences": "identity",
    "id_documents": "identity",
    "memberships": "identity",  # Đảng, đoàn thể
    "military_service": "identity",
    "health": "identity",
    "policy_status": "identity",  # diện chính sách
    "personal_history": "identity",  # đặc điểm lịch sử bản thân
    "recruitment": "work_history",
    "placements": "work_history",
    "concurrent_posts": "work_history",
    "appointments": "work_history",
    "rotations": "work_history",
    "secondments": "work_history",
    "salary": "salary",
    "allowances": "salary",
    "trainings": "training",
    "evaluations": "evaluation",
    "rewards": "rewards_discipline",
    "honorary_titles": "rewards_discipline",
    "disciplines": "rewards_discipline",
    "asset_declarations": "asset_declaration",
    "labour_contracts": "labour_contract",
    "family": "family",
}

WRITTEN_AS = {
    part: "work_history_moves"
    for part in ("recruitment", "concurrent_posts", "appointments", "rotations", "secondments")
}
"""The parts of the resume whose writing has a row of its own, apart from their section's reading."""

_TABLE = """
operation                         target   sys  hr  vw  dep  hqu  adm  off  ldr  self
# The unit tree (R-ORG-1, R-ORG-2). Units are read within each tier's reach; the system admin and
# the sector HR tier ("newly established units") establish and reorganise them, nobody else.
unit.read                         own      Y    Y   Y   Y    Y    Y    Y    Y    F
unit.read                         below    Y    Y   Y   F    F    Y    Y    Y    -
unit.read                         outside  -    Y   Y   F    F    F    F    F    F
unit.read                         dept     Y    Y   Y   F    F    F    F    F    F
unit.create                       own      Y    Y   F   F    F    F    F    F    F
unit.create                       below    Y    Y   F   F    F    F    F    F    -
unit.create                       outside  -    Y   F   F    F    F    F    F    F
unit.create                       dept     Y    Y   F   F    F    F    F    F    F
unit.reorganise                   own      Y    Y   F   F    F    F    F    F    F
unit.reorganise                   below    Y    Y   F   F    F    F    F    F    -
unit.reorganise                   outside  -    Y   F   F    F    F    F    F    F
unit.reorganise                   dept     Y    Y   F   F    F    F    F    F    F
# Staffing quotas (R-ORG-3, 003 Điều 8.4): a unit keeps its staff "theo biên chế được giao" (003
# Điều 7.1), the quota the level above gives it, and the sector tiers that establish units set them.
# The target is the unit that gives: a new unit below it is given a quota (of 0, which no allocation
# can refuse). Reading a quota is reading the unit; the units over their quota are a listing of the
# caller's scope, which a civil servant, reading no unit, is refused.
unit.quota                        own      Y    Y   F   F    F    F    F    F    F
unit.quota                        below    Y    Y   F   F    F    F    F    F    -
unit.quota                        outside  -    Y   F   F    F    F    F    F    F
unit.quota                        dept     Y    Y   F   F    F    F    F    F    F
unit.quota.over                   any      Y    Y   Y   Y    Y    Y    Y    Y    F
# The directory of the sector's units (code, name, place in the tree; no people) is read by every
# tier: the organisation is published, and a transfer to another Cục names its receiving unit.
unit.directory                    any      Y    Y   Y   Y    Y    Y    Y    Y    Y
# A new record: the system admin, the sector HR tier (records of its own decisions, any unit), a
# local admin for its staff, and its officer granted the particulars.
person.create                     own      -    Y   F   F    F    Y    Y    F    F
person.create                     below    Y    Y   F   F    F    Y    Y    F    -
person.create                     outside  -    Y   F   F    F    F    F    F    F
person.create                     dept     Y    Y   F   F    F    F    F    F    F
# Finding a record: the sector reads it all; Vụ and Cục of the General Department their own unit;
# local tiers their subtree; a civil servant their own record only.
person.read                       me       -    -   -   -    -    -    -    -    Y
person.read                       own      -    Y   Y   Y    Y    Y    Y    Y    H
person.read                       below    Y    Y   Y   H    H    Y    Y    Y    -
person.read                       outside  -    Y   Y   H    H    H    H    H    H
person.read                       dept     Y    Y   Y   H    H    H    H    H    H
# A unit's resumes printed at once (R-PER-1, R-PER-7): the people working there whom the caller reads,
# each resume a whole-record read; asked of a unit the caller may read (who may read a unit reads the
# people in it), refused as reading the unit is. A civil servant prints only its own, one at a time.
# The root holds nobody: the system admin has no "own" unit to print.
unit.resumes                      own      -    Y   Y   Y    Y    Y    Y    Y    F
unit.resumes                      below    Y    Y   Y   F    F    Y    Y    Y    -
unit.resumes                      outside  -    Y   Y   F    F    F    F    F    F
unit.resumes                      dept     Y    Y   Y   F    F    F    F    F    F
# Exporting a list of records (R-PER-5, R-TIER-1; 001 Điều 8.3): the accounts of Vụ Tổ chức cán bộ the
# whole sector, those of a Cục and its equals the staff their unit manages (a Vụ or a Cục of the
# General Department its own unit, the local tiers their subtree, the officer with the particulars
# its admin granted), a unit's head its subtree; a civil servant, who reads only its own record,
# exports nothing. Probed with an export of the target's unit: a record outside the caller's scope
# is not in the file, as if it did not exist (H).
person.export                     me       -    -   -   -    -    -    -    -    F
person.export                     own      -    Y   Y   Y    Y    Y    Y    Y    F
person.export                     below    Y    Y   Y   H    H    Y    Y    Y    -
person.export                     outside  -    Y   Y   H    H    H    H    H    F
person.export                     dept     Y    Y   Y   H    H    H    H    H    F
# Bulk import (issue 9.4): a template is no secret, anyone logged in downloads it. Importing new people
# is creating records, row by row, with the rights of `person.create`. Importing entries of a section
# (placements here: work history) is writing that section, row by row, with the rights of its write: a
# row about a record the caller may not read is refused as if the record did not exist (H), one it
# reads but may not write is refused (F); a caller that may write the section nowhere (viewers, a
# unit's head, a Vụ, the civil servant themself) is refused the whole file (F) before any row is read.
import.template                   any      Y    Y   Y   Y    Y    Y    Y    Y    Y
import.persons                    own      -    Y   F   F    F    Y    Y    F    F
import.persons                    below    Y    Y   F   F    F    Y    Y    F    -
import.persons                    outside  -    Y   F   F    F    F    F    F    F
import.persons                    dept     Y    Y   F   F    F    F    F    F    F
import.work_history               me       -    -   -   -    -    -    -    -    F
import.work_history               own      -    Y   F   F    Y    Y    Y    F    F
import.work_history               below    Y    Y   F   F    H    Y    Y    F    -
import.work_history               outside  -    Y   F   F    H    H    H    F    F
import.work_history               dept     Y    Y   F   F    H    H    H    F    F
# Reading each section of a found record.
record.identity.read              me       -    -   -   -    -    -    -    -    Y
record.identity.read              own      -    Y   Y   Y    Y    Y    Y    Y    H
record.identity.read              below    Y    Y   Y   H    H    Y    Y    Y    -
record.identity.read              outside  -    Y   Y   H    H    H    H    H    H
record.identity.read              dept     Y    Y   Y   H    H    H    H    H    H
record.work_history.read          me       -    -   -   -    -    -    -    -    Y
record.work_history.read          own      -    Y   Y   Y    Y    Y    Y    Y    H
record.work_history.read          below    Y    Y   Y   H    H    Y    Y    Y    -
record.work_history.read          outside  -    Y   Y   H    H    H    H    H    H
record.work_history.read          dept     Y    Y   Y   H    H    H    H    H    H
record.salary.read                me       -    -   -   -    -    -    -    -    Y
record.salary.read                own      -    Y   Y   Y    Y    Y    F    Y    H
record.salary.read                below    Y    Y   Y   H    H    Y    F    Y    -
record.salary.read                outside  -    Y   Y   H    H    H    H    H    H
record.salary.read                dept     Y    Y   Y   H    H    H    H    H    H
record.training.read              me       -    -   -   -    -    -    -    -    Y
record.training.read              own      -    Y   Y   Y    Y    Y    F    Y    H
record.training.read              below    Y    Y   Y   H    H    Y    F    Y    -
record.training.read              outside  -    Y   Y   H    H    H    H    H    H
record.training.read              dept     Y    Y   Y   H    H    H    H    H    H
record.evaluation.read            me       -    -   -   -    -    -    -    -    Y
record.evaluation.read            own      -    Y   Y   Y    Y    Y    F    Y    H
record.evaluation.read            below    Y    Y   Y   H    H    Y    F    Y    -
record.evaluation.read            outside  -    Y   Y   H    H    H    H    H    H
record.evaluation.read            dept     Y    Y   Y   H    H    H    H    H    H
record.rewards_discipline.read    me       -    -   -   -    -    -    -    -    Y
record.rewards_discipline.read    own      -    Y   Y   Y    Y    Y    F    Y    H
record.rewards_discipline.read    below    Y    Y   Y   H    H    Y    F    Y    -
record.rewards_discipline.read    outside  -    Y   Y   H    H    H    H    H    H
record.rewards_discipline.read    dept     Y    Y   Y   H    H    H    H    H    H
record.asset_declaration.read     me       -    -   -   -    -    -    -    -    Y
record.asset_declaration.read     own      -    Y   Y   Y    Y    Y    F    Y    H
record.asset_declaration.read     below    Y    Y   Y   H    H    Y    F    Y    -
record.asset_declaration.read     outside  -    Y   Y   H    H    H    H    H    H
record.asset_declaration.read     dept     Y    Y   Y   H    H    H    H    H    H
record.labour_contract.read       me       -    -   -   -    -    -    -    -    Y
record.labour_contract.read       own      -    Y   Y   Y    Y    Y    F    Y    H
record.labour_contract.read       below    Y    Y   Y   H    H    Y    F    Y    -
record.labour_contract.read       outside  -    Y   Y   H    H    H    H    H    H
record.labour_contract.read       dept     Y    Y   Y   H    H    H    H    H    H
record.family.read                me       -    -   -   -    -    -    -    -    Y
record.family.read                own      -    Y   Y   Y    Y    Y    F    Y    H
record.family.read                below    Y    Y   Y   H    H    Y    F    Y    -
record.family.read                outside  -    Y   Y   H    H    H    H    H    H
record.family.read                dept     Y    Y   Y   H    H    H    H    H    H
# A decision (a reward decision here) is a document of the section its kind writes: one the caller
# may not read that section of answers as unknown, even about someone the caller may find.
decision.read                     me       -    -   -   -    -    -    -    -    Y
decision.read                     own      -    Y   Y   Y    Y    Y    H    Y    H
decision.read                     below    Y    Y   Y   H    H    Y    H    Y    -
decision.read                     outside  -    Y   Y   H    H    H    H    H    H
decision.read                     dept     Y    Y   Y   H    H    H    H    H    H
decision.cancel                   me       -    -   -   -    -    -    -    -    F
decision.cancel                   own      -    Y   F   F    Y    Y    H    F    H
decision.cancel                   below    Y    Y   F   H    H    Y    H    F    -
decision.cancel                   outside  -    Y   F   H    H    H    H    H    H
decision.cancel                   dept     Y    Y   F   H    H    H    H    H    H
# Writing each section: the sector HR tier anywhere; a Vụ its own staff's asset declarations; a Cục
# of the General Department its own staff's placements (moves within the unit), rewards and
# discipline, asset declarations and labour contracts; a local admin everything about its staff;
# its officer what it was granted.
# Viewers, leaders and the civil servant themself write nothing.
record.identity.write             me       -    -   -   -    -    -    -    -    F
record.identity.write             own      -    Y   F   F    F    Y    Y    F    H
record.identity.write             below    Y    Y   F   H    H    Y    Y    F    -
record.identity.write             outside  -    Y   F   H    H    H    H    H    H
record.identity.write             dept     Y    Y   F   H    H    H    H    H    H
record.work_history.write         me       -    -   -   -    -    -    -    -    F
record.work_history.write         own      -    Y   F   F    Y    Y    Y    F    H
record.work_history.write         below    Y    Y   F   H    H    Y    Y    F    -
record.work_history.write         outside  -    Y   F   H    H    H    H    H    H
record.work_history.write         dept     Y    Y   F   H    H    H    H    H    H
record.work_history_moves.write   me       -    -   -   -    -    -    -    -    F
record.work_history_moves.write   own      -    Y   F   F    F    Y    Y    F    H
record.work_history_moves.write   below    Y    Y   F   H    H    Y    Y    F    -
record.work_history_moves.write   outside  -    Y   F   H    H    H    H    H    H
record.work_history_moves.write   dept     Y    Y   F   H    H    H    H    H    H
record.salary.write               me       -    -   -   -    -    -    -    -    F
record.salary.write               own      -    Y   F   F    F    Y    F    F    H
record.salary.write               below    Y    Y   F   H    H    Y    F    F    -
record.salary.write               outside  -    Y   F   H    H    H    H    H    H
record.salary.write               dept     Y    Y   F   H    H    H    H    H    H
record.training.write             me       -    -   -   -    -    -    -    -    F
record.training.write             own      -    Y   F   F    F    Y    F    F    H
record.training.write             below    Y    Y   F   H    H    Y    F    F    -
record.training.write             outside  -    Y   F   H    H    H    H    H    H
record.training.write             dept     Y    Y   F   H    H    H    H    H    H
record.evaluation.write           me       -    -   -   -    -    -    -    -    F
record.evaluation.write           own      -    Y   F   F    F    Y    F    F    H
record.evaluation.write           below    Y    Y   F   H    H    Y    F    F    -
record.evaluation.write           outside  -    Y   F   H    H    H    H    H    H
record.evaluation.write           dept     Y    Y   F   H    H    H    H    H    H
record.rewards_discipline.write   me       -    -   -   -    -    -    -    -    F
record.rewards_discipline.write   own      -    Y   F   F    Y    Y    F    F    H
record.rewards_discipline.write   below    Y    Y   F   H    H    Y    F    F    -
record.rewards_discipline.write   outside  -    Y   F   H    H    H    H    H    H
record.rewards_discipline.write   dept     Y    Y   F   H    H    H    H    H    H
record.asset_declaration.write    me       -    -   -   -    -    -    -    -    F
record.asset_declaration.write    own      -    Y   F   Y    Y    Y    F    F    H
record.asset_declaration.write    below    Y    Y   F   H    H    Y    F    F    -
record.asset_declaration.write    outside  -    Y   F   H    H    H    H    H    H
record.asset_declaration.write    dept     Y    Y   F   H    H    H    H    H    H
record.labour_contract.write      me       -    -   -   -    -    -    -    -    F
record.labour_contract.write      own      -    Y   F   F    Y    Y    F    F    H
record.labour_contract.write      below    Y    Y   F   H    H    Y    F    F    -
record.labour_contract.write      outside  -    Y   F   H    H    H    H    H    H
record.labour_contract.write      dept     Y    Y   F   H    H    H    H    H    H
record.family.write               me       -    -   -   -    -    -    -    -    F
record.family.write               own      -    Y   F   F    F    Y    F    F    H
record.family.write               below    Y    Y   F   H    H    Y    F    F    -
record.family.write               outside  -    Y   F   H    H    H    H    H    H
record.family.write               dept     Y    Y   F   H    H    H    H    H    H
# Movements (R-PER-3): a transfer between units is a hand-off, sent or withdrawn by the sending
# unit and accepted or declined by the receiving one; retirement, resignation and the like change
# the record's status. They are the sector HR tier's, a local admin's and its officer's (granted
# work history and movements); a Cục of the General Department moves its staff within the unit
# only (placements, above), never out of it nor out of service.
person.status                     own      -    Y   F   F    F    Y    Y    F    H
person.status                     below    Y    Y   F   H    H    Y    Y    F    -
person.status                     outside  -    Y   F   H    H    H    H    H    H
person.status                     dept     Y    Y   F   H    H    H    H    H    H
transfer.send                     own      -    Y   F   F    F    Y    Y    F    H
transfer.send                     below    Y    Y   F   H    H    Y    Y    F    -
transfer.send                     outside  -    Y   F   H    H    H    H    H    H
transfer.send                     dept     Y    Y   F   H    H    H    H    H    H
transfer.withdraw                 own      -    Y   F   F    F    Y    Y    F    F
transfer.withdraw                 below    Y    Y   F   F    F    Y    Y    F    -
transfer.withdraw                 outside  -    Y   F   F    F    F    F    F    F
transfer.withdraw                 dept     Y    Y   F   F    F    F    F    F    F
transfer.receive                  own      -    Y   F   F    F    Y    Y    F    F
transfer.receive                  below    Y    Y   F   F    F    Y    Y    F    -
transfer.receive                  outside  -    Y   F   F    F    F    F    F    F
transfer.receive                  dept     Y    Y   F   F    F    F    F    F    F
transfer.list                     own      -    Y   Y   Y    Y    Y    Y    Y    F
transfer.list                     below    Y    Y   Y   F    F    Y    Y    Y    -
transfer.list                     outside  -    Y   Y   F    F    F    F    F    F
transfer.list                     dept     Y    Y   Y   F    F    F    F    F    F
# Reports on a unit: the sector all of them, a Vụ or Cục its own, local tiers their subtree (a unit
# leader "all its reports"); a civil servant none.
reports.read                      own      Y    Y   Y   Y    Y    Y    Y    Y    F
reports.read                      below    Y    Y   Y   F    F    Y    Y    Y    -
reports.read                      outside  -    Y   Y   F    F    F    F    F    F
reports.read                      dept     Y    Y   Y   F    F    F    F    F    F
# Late entries of a unit (R-PER-4: "the system shows what is late, per unit"): a report on the unit's
# work, read where its reports are; the entries it counts and lists are those of the record's sections
# the login reads there (which of them is the deadline tests' concern).
late_entries.read                 own      Y    Y   Y   Y    Y    Y    Y    Y    F
late_entries.read                 below    Y    Y   Y   F    F    Y    Y    Y    -
late_entries.read                 outside  -    Y   Y   F    F    F    F    F    F
late_entries.read                 dept     Y    Y   Y   F    F    F    F    F    F
# Report regimes (R-REP-2, 004 Điều 10): the sector's personnel department issues them, as the
# system admin may, with their templates, periods and lock exceptions; every working tier reads them
# (they say what each unit must report); a civil servant has no reports.
report_regime.read                any      Y    Y   Y   Y    Y    Y    Y    Y    F
report_regime.write               any      Y    Y   F   F    F    F    F    F    F
# One unit's report of a period (004 Điều 7): read where the unit's reports are read; the root
# reports to nobody, so it has none. The target is the unit the report is assigned to.
report.read                       own      -    Y   Y   Y    Y    Y    Y    Y    F
report.read                       below    Y    Y   Y   F    F    Y    Y    Y    -
report.read                       outside  -    Y   Y   F    F    F    F    F    F
report.read                       dept     Y    Y   Y   F    F    F    F    F    F
# Written, sent, recalled, sub-assigned and consolidated by the unit itself (004 Điều 7.2): a Vụ or
# Cục of the General Department its own, a local admin its subtree's, the sector's personnel
# department its own unit's; the officers and heads, who only read reports, none.
report.send                       own      -    Y   F   Y    Y    Y    F    F    F
report.send                       below    Y    F   F   F    F    Y    F    F    -
report.send                       outside  -    F   F   F    F    F    F    F    F
report.send                       dept     Y    F   F   F    F    F    F    F    F
# Approved, returned and reopened by the level above (004 Điều 7.3): the unit above the one that
# sent it (here the regime's issuer), by a tier that approves there: the sector's personnel
# department anywhere, a local admin and a unit's head in their subtree. Never by the sending unit
# itself, whatever its tier, nor by the account that sent it (the probes' reports are sent by a
# login not probed; test_report_workflow shows the sender refused).
report.approve                    own      -    F   F   F    F    F    F    F    F
report.approve                    below    Y    Y   F   F    F    Y    F    Y    -
report.approve                    outside  -    Y   F   F    F    F    F    F    F
report.approve                    dept     Y    Y   F   F    F    F    F    F    F
# The roll-up to the national report system (R-REP-5, 004 Điều 9.3, 13) is the sector's: its
# deliveries are read, sent again and recorded as sent by other means (R-OPS-1, 004 Điều 9.4) by the
# system admin and the sector's personnel department, which approves reports over the whole sector;
# the sector's leadership, which only reads reports, and every unit-level tier, none.
report_rollup.read                any      Y    Y   F   F    F    F    F    F    F
report_rollup.operate             any      Y    Y   F   F    F    F    F    F    F
# The units' signing keys for their reports (R-REP-4): rotated, and revoked when compromised, by who
# issues the report regimes (the sector's personnel department, the system admin), for any unit; a
# report's signed PDF and its verification are read where the report is (`report.read`), a unit's
# certificates and their key changes where its reports are (`reports.read`), a template's and the
# authority's where the regimes are (`report_regime.read`).
signing_key.manage                own      Y    Y   F   F    F    F    F    F    F
signing_key.manage                below    Y    Y   F   F    F    F    F    F    -
signing_key.manage                outside  -    Y   F   F    F    F    F    F    F
signing_key.manage                dept     Y    Y   F   F    F    F    F    F    F
# Catalogs are read by everyone and kept by the sector HR tier (R-PER-6); backups and restores are
# the system admin's technical operations; everyone reads their own account.
catalog.read                      any      Y    Y   Y   Y    Y    Y    Y    Y    Y
catalog.write                     any      Y    Y   F   F    F    F    F    F    F
backup.operate                    any      Y    F   F   F    F    F    F    F    F
# The statistics read-model is rebuilt from the event stream by the system admin, a technical
# operation like a backup; the statutory forms themselves are read where a unit's reports are
# (`reports.read`), and their cells list only the people whose particulars the login reads.
statistics.rebuild                any      Y    F   F   F    F    F    F    F    F
account.me                        any      Y    Y   Y   Y    Y    Y    Y    Y    Y
# Notices to every user (R-OPS-1): an upgrade announced ahead, an incident; public, as 003 Điều 15.7
# asks of the incident notice, so every tier reads them (and so does a caller with no token).
notices.read                      any      Y    Y   Y   Y    Y    Y    Y    Y    Y
# Who recorded an entry, gave a quota or made a decision is kept as the account's subject; the
# pages of every tier name that account (its username and holder), so every tier may ask.
account.names                     any      Y    Y   Y   Y    Y    Y    Y    Y    Y
# What waits for a login in the report workflow is asked by everyone and answers with what lies
# in its reach (the reports it sends and approves: `report.send`, `report.approve`), empty for a
# tier with neither, never a refusal.
report.waiting                    any      Y    Y   Y   Y    Y    Y    Y    Y    Y
# ---- Identity: accounts and the rights they carry (section 2 of the domain) --------------------
# For these rows the target is the unit of the account request, account, purpose account or
# delegation acted on. The account-admin column of the tier table: the system admin issues and
# revokes accounts for all units (001 Điều 7.2, 11.4); a local admin grants and revokes rights for
# its own staff only (001 Điều 7.1) and issues its unit's ordinary user accounts (003 annex row 3);
# every other tier administers no account.
#
# An account request (R-ACC-4) is filed by the unit that needs the account (002 Điều 6.4): its
# head, its admin or its personnel officer in the local tiers, which administer their own accounts
# (003 annex rows 2-3); a unit of the General Department sends its request in writing to the
# system admin, who issues its accounts (001 Điều 7.2) and files it.
account_request.submit            own      Y    F   F   F    F    Y    Y    Y    F
account_request.submit            below    Y    F   F   F    F    Y    Y    Y    -
account_request.submit            outside  -    F   F   F    F    F    F    F    F
account_request.submit            dept     Y    F   F   F    F    F    F    F    F
# Only the unit head's consent lets a request go on (001 Điều 8.1.b): the unit leader of the unit
# or above it, nobody else, not even the system admin. Probed on a request just submitted by
# someone else (one person takes one step of a request: the four-eyes rule, not a tier's right).
account_request.consent           own      F    F   F   F    F    F    F    Y    F
account_request.consent           below    F    F   F   F    F    F    F    Y    -
account_request.consent           outside  -    F   F   F    F    F    F    F    F
account_request.consent           dept     F    F   F   F    F    F    F    F    F
# Approving, rejecting and issuing are the account admin's: the system admin anywhere, a local admin
# in its subtree and only for tiers it may grant (R-TIER-3). Probed with a request for a local
# officer's account (a tier a local admin may grant), in the state each step needs (consented to be
# approved, approved to be issued, submitted to be rejected), every earlier step taken by others.
account_request.approve           own      Y    F   F   F    F    Y    F    F    F
account_request.approve           below    Y    F   F   F    F    Y    F    F    -
account_request.approve           outside  -    F   F   F    F    F    F    F    F
account_request.approve           dept     Y    F   F   F    F    F    F    F    F
account_request.reject            own      Y    F   F   F    F    Y    F    F    F
account_request.reject            below    Y    F   F   F    F    Y    F    F    -
account_request.reject            outside  -    F   F   F    F    F    F    F    F
account_request.reject            dept     Y    F   F   F    F    F    F    F    F
account_request.issue             own      Y    F   F   F    F    Y    F    F    F
account_request.issue             below    Y    F   F   F    F    Y    F    F    -
account_request.issue             outside  -    F   F   F    F    F    F    F    F
account_request.issue             dept     Y    F   F   F    F    F    F    F    F
# Late requests (R-ACC-5) name their holders: listed to those who take part in requests (which of
# them the listing holds, the unit's, is the request tests' concern).
account_request.overdue           any      Y    F   F   F    F    Y    Y    Y    F
# The open requests with the step each waits for (the web's list and home page) are listed to the
# same tiers; whether a step is the caller's is the request tests' concern.
account_request.open              any      Y    F   F   F    F    Y    Y    Y    F
# An account by its username. Its existence is told to its admins only: a caller administering no
# account is refused before anything is looked up (F), a local admin outside its subtree hears of
# no such account (H). Probed on an account holding only tiers its unit's admin may grant (a local
# officer's; a self account to grant the officer's tier to; one holding both to revoke it): which
# tiers the account holds and which are granted is R-TIER-3's condition beyond the tier.
account.disable                   own      Y    F   F   F    F    Y    F    F    F
account.disable                   below    Y    F   F   F    F    Y    F    F    -
account.disable                   outside  -    F   F   F    F    H    F    F    F
account.disable                   dept     Y    F   F   F    F    H    F    F    F
account.enable                    own      Y    F   F   F    F    Y    F    F    F
account.enable                    below    Y    F   F   F    F    Y    F    F    -
account.enable                    outside  -    F   F   F    F    H    F    F    F
account.enable                    dept     Y    F   F   F    F    H    F    F    F
account.tiers.grant               own      Y    F   F   F    F    Y    F    F    F
account.tiers.grant               below    Y    F   F   F    F    Y    F    F    -
account.tiers.grant               outside  -    F   F   F    F    H    F    F    F
account.tiers.grant               dept     Y    F   F   F    F    H    F    F    F
account.tiers.revoke              own      Y    F   F   F    F    Y    F    F    F
account.tiers.revoke              below    Y    F   F   F    F    Y    F    F    -
account.tiers.revoke              outside  -    F   F   F    F    H    F    F    F
account.tiers.revoke              dept     Y    F   F   F    F    H    F    F    F
# A local officer works on "the record sections its admin granted": its admin sets and reads them.
account.sections.write            own      Y    F   F   F    F    Y    F    F    F
account.sections.write            below    Y    F   F   F    F    Y    F    F    -
account.sections.write            outside  -    F   F   F    F    H    F    F    F
account.sections.write            dept     Y    F   F   F    F    H    F    F    F
account.sections.read             own      Y    F   F   F    F    Y    F    F    F
account.sections.read             below    Y    F   F   F    F    Y    F    F    -
account.sections.read             outside  -    F   F   F    F    H    F    F    F
account.sections.read             dept     Y    F   F   F    F    H    F    F    F
# An account as a whole (holder, unit, tiers, sections, state, reported incidents) is read where its
# sections are: by its admins, and by its holder (`account.own.read`).
account.read                      own      Y    F   F   F    F    Y    F    F    F
account.read                      below    Y    F   F   F    F    Y    F    F    -
account.read                      outside  -    F   F   F    F    H    F    F    F
account.read                      dept     Y    F   F   F    F    H    F    F    F
# A unit's accounts are listed to whoever administers that unit's accounts: the system admin for
# every unit, a local admin for its own and those below it. The unit is no secret: elsewhere, 403.
account.list                      own      Y    F   F   F    F    Y    F    F    F
account.list                      below    Y    F   F   F    F    Y    F    F    -
account.list                      outside  -    F   F   F    F    F    F    F    F
account.list                      dept     Y    F   F   F    F    F    F    F    F
# A lost or stolen password (R-ACC-9, 001 Điều 10.6) is reported, then reset by an admin with a
# new first-login password that goes to the holder. The admin reports it for an account it
# administers; reset probed on an account whose loss the system admin has reported.
account.incident                  own      Y    F   F   F    F    Y    F    F    F
account.incident                  below    Y    F   F   F    F    Y    F    F    -
account.incident                  outside  -    F   F   F    F    H    F    F    F
account.incident                  dept     Y    F   F   F    F    H    F    F    F
account.reset                     own      Y    F   F   F    F    Y    F    F    F
account.reset                     below    Y    F   F   F    F    Y    F    F    -
account.reset                     outside  -    F   F   F    F    H    F    F    F
account.reset                     dept     Y    F   F   F    F    H    F    F    F
# One's own account: every holder reports its loss (001 Điều 10.6) and reads what it was granted;
# nobody raises their own rights (001 Điều 4.1, R-TIER-3), the system admin included.
account.own.incident              any      Y    Y   Y   Y    Y    Y    Y    Y    Y
account.own.sections.read         any      Y    Y   Y   Y    Y    Y    Y    Y    Y
account.own.read                  any      Y    Y   Y   Y    Y    Y    Y    Y    Y
account.own.tiers.grant           any      F    F   F   F    F    F    F    F    F
# Accounts a personnel event could not disable by itself, waiting for an account admin (R-ACC-8):
# listed to the account admins (which of them, those each may act on, is the lifecycle tests').
account.reviews                   any      Y    F   F   F    F    Y    F    F    F
# Purpose accounts (R-ACC-2, R-ACC-3): the quotas are the system admin's data; accounts are issued
# within them by the unit's account admin (probed for a local officer's account, in a quota the
# system admin set); the unit head hands each to a civil servant (001 Điều 5.2), as its admin may.
quota.set                         own      Y    F   F   F    F    F    F    F    F
quota.set                         below    Y    F   F   F    F    F    F    F    -
quota.set                         outside  -    F   F   F    F    F    F    F    F
quota.set                         dept     Y    F   F   F    F    F    F    F    F
# A unit's quotas, each with the accounts issued in it, are read where its purpose accounts are.
quota.read                        own      Y    Y   Y   Y    Y    Y    Y    Y    F
quota.read                        below    Y    Y   Y   F    F    Y    Y    Y    -
quota.read                        outside  -    Y   Y   F    F    F    F    F    F
quota.read                        dept     Y    Y   Y   F    F    F    F    F    F
purpose_account.issue             own      Y    F   F   F    F    Y    F    F    F
purpose_account.issue             below    Y    F   F   F    F    Y    F    F    -
purpose_account.issue             outside  -    F   F   F    F    F    F    F    F
purpose_account.issue             dept     Y    F   F   F    F    F    F    F    F
purpose_account.assign            own      Y    F   F   F    F    Y    F    Y    F
purpose_account.assign            below    Y    F   F   F    F    Y    F    Y    -
purpose_account.assign            outside  -    F   F   F    F    F    F    F    F
purpose_account.assign            dept     Y    F   F   F    F    F    F    F    F
purpose_account.release           own      Y    F   F   F    F    Y    F    Y    F
purpose_account.release           below    Y    F   F   F    F    Y    F    Y    -
purpose_account.release           outside  -    F   F   F    F    F    F    F    F
purpose_account.release           dept     Y    F   F   F    F    F    F    F    F
# Who held a unit's account and since when is read where the unit is: the sector everywhere, a Vụ or
# Cục of the General Department its own unit, local tiers their subtree; a civil servant reads its
# own record only.
purpose_account.holders           own      Y    Y   Y   Y    Y    Y    Y    Y    F
purpose_account.holders           below    Y    Y   Y   F    F    Y    Y    Y    -
purpose_account.holders           outside  -    Y   Y   F    F    F    F    F    F
purpose_account.holders           dept     Y    Y   Y   F    F    F    F    F    F
# The purpose accounts themselves, each with who holds it today, are listed to the same tiers, each
# the accounts of the units it reads (which ones, the purpose account tests' concern), and one is
# read where its holders are.
purpose_account.list              any      Y    Y   Y   Y    Y    Y    Y    Y    F
purpose_account.read              own      Y    Y   Y   Y    Y    Y    Y    Y    F
purpose_account.read              below    Y    Y   Y   F    F    Y    Y    Y    -
purpose_account.read              outside  -    Y   Y   F    F    F    F    F    F
purpose_account.read              dept     Y    Y   Y   F    F    F    F    F    F
# Delegations (R-TIER-2, 001 Điều 6.1.d) are the Director General's, recorded by the system admin
# or the sector's personnel department; the target is the unit delegated to. Probed with a grant
# the grantor holds over the whole sector (what it may give is R-TIER-3's condition on the terms),
# in force from a day far ahead so that the probes change nobody's rights. Those in force are read
# by the sector, and by a unit's working tiers for their own unit; not by a civil servant.
delegation.grant                  own      Y    Y   F   F    F    F    F    F    F
delegation.grant                  below    Y    Y   F   F    F    F    F    F    -
delegation.grant                  outside  -    Y   F   F    F    F    F    F    F
delegation.grant                  dept     Y    Y   F   F    F    F    F    F    F
delegation.revoke                 own      Y    Y   F   F    F    F    F    F    F
delegation.revoke                 below    Y    Y   F   F    F    F    F    F    -
delegation.revoke                 outside  -    Y   F   F    F    F    F    F    F
delegation.revoke                 dept     Y    Y   F   F    F    F    F    F    F
delegation.list                   any      Y    Y   Y   Y    Y    Y    Y    Y    F
# The records' audit trail (R-AUD-1, R-PER-7): who read, exported or changed which record. Read
# where the tier answers for the records: the sector HR tier over the sector, a local admin and a
# unit's head over their subtree; nobody reads it for a unit outside that. The hash chain is
# verified by the system admin.
records_audit.read                own      Y    Y   F   F    F    Y    F    Y    F
records_audit.read                below    Y    Y   F   F    F    Y    F    Y    -
records_audit.read                outside  -    Y   F   F    F    F    F    F    F
records_audit.read                dept     Y    Y   F   F    F    F    F    F    F
records_audit.verify              any      Y    F   F   F    F    F    F    F    F
# The system admin's technical operations: federating another agency's logins (R-ACC-10), the
# realm's drift from its definition. The account audit log (R-AUD-1) is the system admin's whole,
# and a local admin's for the accounts, requests, delegations and quotas of its subtree (its answer
# holds only those: test_purpose_accounts shows which).
federation.register               any      Y    F   F   F    F    F    F    F    F
audit.read                        any      Y    F   F   F    F    Y    F    F    F
realm.drift                       any      Y    F   F   F    F    F    F    F    F
# Notices to every user (R-OPS-1, ADR 0060): the system admin posts an upgrade or an incident,
# closes it and lists those it posted; everyone reads the ones in force (`notices.read`).
notices.post                      any      Y    F   F   F    F    F    F    F    F
notices.close                     any      Y    F   F   F    F    F    F    F    F
notices.posted                    any      Y    F   F   F    F    F    F    F    F
"""


@dataclass(frozen=True)
class Cell:
    operation: str
    target: str
    login: str
    expected: str  # Y, F or H


def cells() -> list[Cell]:
    """Every cell of the table that names an answer (not "-")."""
    found: list[Cell] = []
    seen: set[tuple[str, str]] = set()
    for line in _TABLE.strip().splitlines()[1:]:
        if line.startswith("#"):
            continue
        operation, target, *answers = line.split()
        if len(answers) != len(LOGINS) or (operation, target) in seen:
            raise ValueError(f"malformed or repeated row: {line!r}")
        seen.add((operation, target))
        for login, answer in zip(LOGINS, answers, strict=True):
            if answer not in {"Y", "F", "H", "-"}:
                raise ValueError(f"unknown answer {answer!r} in {line!r}")
            if answer != "-":
                if target != "any" and target not in TARGETS[login]:
                    raise ValueError(f"{login} has no {target} target but {line!r} answers for it")
                found.append(Cell(operation, target, login, answer))
    return found


def expected(operation: str, target: str, login: str) -> str:
    """The answer of one cell ("-" for a cell the table leaves empty)."""
    for cell in cells():
        if (cell.operation, cell.target, cell.login) == (operation, target, login):
            return cell.expected
    return "-"
