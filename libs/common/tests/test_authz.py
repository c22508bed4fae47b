"""The matrix covers every tier × section × action and says what the domain's tier table says."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Column, MetaData, String, Table, select

from qlcb_common.auth import Principal
from qlcb_common.authz import (
    GRANTABLE_SECTIONS,
    GRANTED_ROWS,
    MATRIX,
    OWN_DECISIONS_ONLY,
    Action,
    Delegation,
    RecordRef,
    Scope,
    Section,
    granted_sections,
    may_at_all,
    only_through,
    require,
    require_record_write,
    require_sector_wide,
    scope_for,
    sql_scope,
)
from qlcb_common.days import vietnam_today
from qlcb_common.errors import PermissionDenied
from qlcb_common.tiers import Tier


def _who(tier: Tier, unit: str | None = "/TCHQ/HQHN") -> Principal:
    return Principal(
        subject="s", username="u", roles=frozenset({tier.value, "offline_access"}), unit_path=unit, token="t"
    )


def test_every_combination_is_declared() -> None:
    assert set(MATRIX) == set(Tier)
    for sections in MATRIX.values():
        assert set(sections) == set(Section)
        for actions in sections.values():
            assert set(actions) == set(Action)


@pytest.mark.parametrize(
    ("tier", "section", "action", "scope"),
    [
        (Tier.SYSTEM_ADMIN, Section.BACKUP, Action.OPERATE, Scope.SECTOR),
        (Tier.SECTOR_HR, Section.IDENTITY, Action.READ, Scope.SECTOR),
        (Tier.SECTOR_HR, Section.CATALOG, Action.UPDATE, Scope.SECTOR),
        (Tier.SECTOR_HR, Section.UNIT, Action.CREATE, Scope.SECTOR),
        (Tier.SECTOR_HR, Section.BACKUP, Action.OPERATE, Scope.NONE),
        (Tier.SECTOR_VIEWER, Section.REPORTS, Action.READ, Scope.SECTOR),
        (Tier.SECTOR_VIEWER, Section.IDENTITY, Action.UPDATE, Scope.NONE),
        (Tier.HQ_DEPARTMENT, Section.IDENTITY, Action.READ, Scope.OWN_UNIT),
        (Tier.HQ_DEPARTMENT, Section.ASSET_DECLARATION, Action.UPDATE, Scope.OWN_UNIT),
        (Tier.HQ_DEPARTMENT, Section.WORK_HISTORY, Action.UPDATE, Scope.NONE),
        (Tier.HQ_UNIT, Section.WORK_HISTORY, Action.UPDATE, Scope.OWN_UNIT),
        (Tier.HQ_UNIT, Section.LABOUR_CONTRACT, Action.CREATE, Scope.OWN_UNIT),
        (Tier.HQ_UNIT, Section.SALARY, Action.UPDATE, Scope.NONE),
        (Tier.LOCAL_ADMIN, Section.SALARY, Action.UPDATE, Scope.SUBTREE),
        (Tier.LOCAL_ADMIN, Section.UNIT, Action.CREATE, Scope.NONE),
        (Tier.LOCAL_OFFICER, Section.IDENTITY, Action.READ, Scope.SUBTREE),
        (Tier.LOCAL_OFFICER, Section.IDENTITY, Action.UPDATE, Scope.NONE),
        (Tier.LOCAL_OFFICER, Section.SALARY, Action.READ, Scope.NONE),  # only as granted
        (Tier.UNIT_LEADER, Section.REPORTS, Action.READ, Scope.SUBTREE),
        (Tier.UNIT_LEADER, Section.IDENTITY, Action.CREATE, Scope.NONE),
        (Tier.SELF, Section.IDENTITY, Action.READ, Scope.OWN_RECORD),
        (Tier.SELF, Section.REPORTS, Action.READ, Scope.NONE),
    ],
)
def test_rows_of_the_tier_table(tier: Tier, section: Section, action: Action, scope: Scope) -> None:
    assert MATRIX[tier][section][action] is scope


def test_the_widest_of_several_tiers_wins() -> None:
    both = Principal(subject="s", username="u", roles=frozenset({"self", "local-admin"}), unit_path="/A", token="t")
    assert scope_for(both, Section.IDENTITY, Action.READ) is Scope.SUBTREE


def _officer(sections: object, tier: Tier = Tier.LOCAL_OFFICER) -> Principal:
    return Principal(
        subject="s",
        username="nhansu1",
        roles=frozenset({tier.value}),
        unit_path="/TCHQ/HQHN",
        token="t",
        claims={"sections": sections},
    )


def test_a_local_officer_reads_and_writes_only_the_sections_granted() -> None:
    officer = _officer(["salary", "work_history"])
    assert granted_sections(officer) == {Section.SALARY, Section.WORK_HISTORY}
    for action in Action:
        expected = Scope.SUBTREE if action is not Action.OPERATE else Scope.NONE
        assert scope_for(officer, Section.SALARY, action) is expected
    assert scope_for(officer, Section.FAMILY, Action.READ) is Scope.NONE
    assert scope_for(officer, Section.IDENTITY, Action.UPDATE) is Scope.NONE
    require(officer, Section.SALARY, Action.UPDATE, "/TCHQ/HQHN/HQHN-NB")
    with pytest.raises(PermissionDenied):
        require(officer, Section.SALARY, Action.UPDATE, "/TCHQ/HQHCM")


@pytest.mark.parametrize("claim", [["backup"], ["unit"], ["reports"], "catalog", ["no-such-section"], None, []])
def test_only_record_sections_can_be_granted(claim: object) -> None:
    officer = _officer(claim)
    assert granted_sections(officer) == set()
    for section in Section:
        for action in (Action.CREATE, Action.UPDATE, Action.OPERATE):
            assert scope_for(officer, section, action) is Scope.NONE


def test_a_sections_claim_gives_nothing_to_tiers_without_granted_rows() -> None:
    viewer = _officer(["salary"], Tier.UNIT_LEADER)
    assert scope_for(viewer, Section.SALARY, Action.UPDATE) is Scope.NONE
    assert GRANTED_ROWS.keys() == {Tier.LOCAL_OFFICER}
    assert {
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
    } == GRANTABLE_SECTIONS


def _delegation(**changes: object) -> Delegation:
    """The Director General lets the Anti-smuggling Dept (an HQ unit) record salary-step raises of
    the staff of Hà Nội customs (001 Điều 6.1.d)."""
    terms: dict[str, object] = {
        "grantee_unit_path": "/TCHQ/CDTCBL",
        "tiers": frozenset({Tier.HQ_UNIT.value}),
        "sections": frozenset({Section.SALARY}),
        "actions": frozenset({Action.UPDATE}),
        "target_unit_path": "/TCHQ/HQHN",
    }
    return Delegation(**(terms | changes))  # type: ignore[arg-type]


def test_a_delegation_serves_its_grantee_tiers_over_its_records_only() -> None:
    raise_steps = _delegation()
    admin = _who(Tier.HQ_UNIT, "/TCHQ/CDTCBL")
    with pytest.raises(PermissionDenied):
        require(admin, Section.SALARY, Action.UPDATE, "/TCHQ/HQHN/HQHN-NB")
    require(admin, Section.SALARY, Action.UPDATE, "/TCHQ/HQHN/HQHN-NB", delegations=[raise_steps])
    with pytest.raises(PermissionDenied, match="bản ghi này") as refused:
        require(admin, Section.SALARY, Action.UPDATE, "/TCHQ/HQHCM", delegations=[raise_steps])
    assert "HQHCM" not in str(refused.value), "a refusal does not name where the record sits"
    with pytest.raises(PermissionDenied):
        require(admin, Section.FAMILY, Action.UPDATE, "/TCHQ/HQHN", delegations=[raise_steps])
    for not_served in (_who(Tier.SELF, "/TCHQ/CDTCBL"), _who(Tier.HQ_UNIT, "/TCHQ/VPTC")):
        with pytest.raises(PermissionDenied):
            require(not_served, Section.SALARY, Action.UPDATE, "/TCHQ/HQHN", delegations=[raise_steps])


def test_a_delegation_over_listed_people_and_its_period() -> None:
    people = _delegation(target_unit_path=None, person_ids=frozenset({"p-1"}))
    admin = _who(Tier.HQ_UNIT, "/TCHQ/CDTCBL")
    require(admin, Section.SALARY, Action.UPDATE, "/TCHQ/HQHCM", person=RecordRef("p-1", "1"), delegations=[people])
    with pytest.raises(PermissionDenied):
        require(admin, Section.SALARY, Action.UPDATE, "/TCHQ/HQHCM", person=RecordRef("p-2", "2"), delegations=[people])
    ended = _delegation(valid_from=date(2020, 1, 1), valid_to=vietnam_today() - timedelta(days=1))
    later = _delegation(valid_from=vietnam_today() + timedelta(days=1))
    assert not may_at_all(admin, Section.SALARY, Action.UPDATE, [ended, later])
    assert may_at_all(admin, Section.SALARY, Action.UPDATE, [_delegation(valid_from=vietnam_today())])


def test_self_reads_its_own_record_only() -> None:
    own = Principal(
        subject="s",
        username="u",
        roles=frozenset({Tier.SELF.value}),
        unit_path="/TCHQ/HQHN",
        token="t",
        claims={"personal_id": "001088000123"},
    )
    require(own, Section.SALARY, Action.READ, "/TCHQ/HQHN", person=RecordRef("p", "001088000123"))
    with pytest.raises(PermissionDenied):
        require(own, Section.SALARY, Action.READ, "/TCHQ/HQHN", person=RecordRef("q", "001088000124"))
    with pytest.raises(PermissionDenied):
        require(own, Section.SALARY, Action.UPDATE, "/TCHQ/HQHN", person=RecordRef("p", "001088000123"))
    unlinked = _who(Tier.SELF)
    assert scope_for(unlinked, Section.IDENTITY, Action.READ) is Scope.NONE


@pytest.mark.parametrize(
    ("tier", "target", "allowed"),
    [
        (Tier.LOCAL_ADMIN, "/TCHQ/HQHN", True),
        (Tier.LOCAL_ADMIN, "/TCHQ/HQHN/HQHN-NB", True),
        (Tier.LOCAL_ADMIN, "/TCHQ/HQHNX", False),  # a sibling whose code starts alike
        (Tier.HQ_DEPARTMENT, "/TCHQ/HQHN/HQHN-NB", False),
        (Tier.SECTOR_VIEWER, "/TCHQ/HQHCM", True),
    ],
)
def test_require_follows_the_unit_tree(tier: Tier, target: str, allowed: bool) -> None:
    if allowed:
        require(_who(tier), Section.IDENTITY, Action.READ, target)
    else:
        with pytest.raises(PermissionDenied):
            require(_who(tier), Section.IDENTITY, Action.READ, target)


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
def test_a_sector_wide_answer_needs_the_sector_scope(tier: Tier) -> None:
    """The root's own local admin reads its subtree, which is the sector today, and is still refused:
    only the tiers whose row covers the whole sector get a figure over the whole sector."""
    who = _who(tier, "/TCHQ")
    if tier in (Tier.SYSTEM_ADMIN, Tier.SECTOR_HR, Tier.SECTOR_VIEWER):
        require_sector_wide(who, Section.REPORTS, Action.READ, what="projection status")
    else:
        with pytest.raises(PermissionDenied):
            require_sector_wide(who, Section.REPORTS, Action.READ, what="projection status")


def test_a_tier_without_unit_gets_no_unit_scope() -> None:
    assert scope_for(_who(Tier.LOCAL_ADMIN, None), Section.IDENTITY, Action.READ) is Scope.NONE


def test_scope_becomes_sql() -> None:
    units = Table("units", MetaData(), Column("path", String))
    query = select(units.c.path).where(sql_scope(_who(Tier.LOCAL_ADMIN), Section.IDENTITY, Action.READ, units.c.path))
    sql = str(query.compile(compile_kwargs={"literal_binds": True}))
    assert "units.path = '/TCHQ/HQHN'" in sql
    assert "units.path LIKE '//TCHQ//HQHN//' || '%' ESCAPE '/'" in sql  # '/' escapes itself
    with pytest.raises(PermissionDenied):
        sql_scope(_who(Tier.UNIT_LEADER), Section.BACKUP, Action.OPERATE, units.c.path)


def test_an_hq_unit_writes_its_staffs_placements_but_no_appointment_nor_move_out_unless_delegated() -> None:
    """001 Điều 6: an HQ unit records intra-unit moves of people not leading it. A part that records
    more (`beyond_placements`) needs the right from another tier, a grant or a delegation."""
    cuc = _who(Tier.HQ_UNIT, "/TCHQ/CDTCBL")
    here = "/TCHQ/CDTCBL"
    require_record_write(cuc, Section.WORK_HISTORY, Action.UPDATE, here, beyond_placements=False)
    with pytest.raises(PermissionDenied, match="bổ nhiệm"):
        require_record_write(cuc, Section.WORK_HISTORY, Action.UPDATE, here, beyond_placements=True)
    moves = _delegation(sections=frozenset({Section.WORK_HISTORY}), target_unit_path=here, valid_from=vietnam_today())
    require_record_write(cuc, Section.WORK_HISTORY, Action.UPDATE, here, beyond_placements=True, delegations=[moves])
    admin = _who(Tier.LOCAL_ADMIN, "/TCHQ/HQHN")
    require_record_write(admin, Section.WORK_HISTORY, Action.UPDATE, "/TCHQ/HQHN", beyond_placements=True)


def test_the_sector_hr_writes_a_record_through_its_own_decisions_tier_alone_unless_another_right_covers_it() -> None:
    """Where only the sector HR's tier gives the write, personnel asks the entry for the sector's
    decision (ADR 0063); a second tier or a delegation that gives it lifts that."""
    here = "/TCHQ/HQHN/HQHN-NB"
    sector = _who(Tier.SECTOR_HR, "/TCHQ/VTCCB")
    assert only_through(OWN_DECISIONS_ONLY, sector, Section.FAMILY, Action.UPDATE, here)
    both = Principal(
        subject="s",
        username="u",
        roles=frozenset({Tier.SECTOR_HR.value, Tier.SYSTEM_ADMIN.value}),
        unit_path="/TCHQ/VTCCB",
        token="t",
    )
    assert not only_through(OWN_DECISIONS_ONLY, both, Section.FAMILY, Action.UPDATE, here)
    family = _delegation(
        grantee_unit_path="/TCHQ/VTCCB",
        tiers=frozenset({Tier.SECTOR_HR.value}),
        sections=frozenset({Section.FAMILY}),
        target_unit_path=here,
        valid_from=vietnam_today(),
    )
    assert not only_through(OWN_DECISIONS_ONLY, sector, Section.FAMILY, Action.UPDATE, here, delegations=[family])
    assert not only_through(
        OWN_DECISIONS_ONLY, _who(Tier.LOCAL_ADMIN, "/TCHQ/HQHN"), Section.FAMILY, Action.UPDATE, here
    )
