"""Applying the matrix: a scope per caller, a check per target, a SQL condition per listing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

import structlog
from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.orm import QueryableAttribute

from qlcb_common.auth import Principal
from qlcb_common.authz.matrix import (
    GRANTABLE_SECTIONS,
    GRANTED_ROWS,
    MATRIX,
    PLACEMENTS_ONLY,
    Action,
    Scope,
    Section,
)
from qlcb_common.days import vietnam_today
from qlcb_common.errors import NotFound, PermissionDenied
from qlcb_common.metrics import AUTHZ_REFUSALS
from qlcb_common.tiers import TIER_NAMES, Tier, in_subtree

Column = QueryableAttribute[str] | ColumnElement[str]
log = structlog.get_logger(__name__)

SECTIONS_CLAIM = "sections"
PERSONAL_ID_CLAIM = "personal_id"
"""The token claim linking an account to its holder's record (the user attribute identity sets
at issuance from the checked request): what the self tier's OWN_RECORD scope matches."""

DELEGABLE_TIERS = frozenset({Tier.HQ_DEPARTMENT, Tier.HQ_UNIT, Tier.LOCAL_ADMIN, Tier.LOCAL_OFFICER, Tier.UNIT_LEADER})
"""The tiers a delegation can be for: the unit-relative working tiers. Never `self` (a clerk's
own-record account) and never the sector tiers (they hold the sector already)."""


@dataclass(frozen=True)
class Delegation:
    """A right a higher tier gave a unit beyond its tier (R-TIER-2, 001 Điều 6.1.d).

    It serves only the callers of `grantee_unit_path` who hold one of `tiers`, for the listed
    sections and actions, during its period; it covers the records of the subtree
    `target_unit_path` (anywhere in the sector), or the listed people wherever they sit.
    E.g. the Director General lets the Anti-smuggling Dept's admin record salary-step raises of
    the staff of /TCHQ/HQHN: ("/TCHQ/CDTCBL", {local-admin}, {salary}, {update}, "/TCHQ/HQHN").
    """

    grantee_unit_path: str
    tiers: frozenset[str]
    sections: frozenset[Section]
    actions: frozenset[Action]
    target_unit_path: str | None = None
    person_ids: frozenset[str] = field(default_factory=frozenset)
    valid_from: date | None = None
    valid_to: date | None = None

    def serves_caller(self, principal: Principal, *, on: date | None = None) -> bool:
        """Whether the caller is one this delegation is for, today."""
        day = on or vietnam_today()
        return (
            principal.unit_path == self.grantee_unit_path
            and not self.tiers.isdisjoint(principal.roles)
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_to is None or day <= self.valid_to)
        )

    def serves(self, principal: Principal, section: Section, action: Action, *, on: date | None = None) -> bool:
        return section in self.sections and action in self.actions and self.serves_caller(principal, on=on)

    def covers(self, unit_path: str, person_id: str | None) -> bool:
        if self.target_unit_path is not None and in_subtree(unit_path, self.target_unit_path):
            return True
        return person_id is not None and person_id in self.person_ids


@dataclass(frozen=True)
class RecordRef:
    """The person a check is about: its id (for delegations that list people) and its personal
    identification number (for the self tier's own record)."""

    id: str
    personal_id: str


def granted_sections(principal: Principal) -> frozenset[Section]:
    """The record sections the caller's admin granted it (the token's `sections` claim)."""
    claimed = principal.claims.get(SECTIONS_CLAIM) or ()
    if isinstance(claimed, str):
        claimed = (claimed,)
    grantable = {s.value: s for s in GRANTABLE_SECTIONS}
    return frozenset(grantable[s] for s in claimed if s in grantable)


def linked_personal_id(principal: Principal) -> str | None:
    claimed = principal.claims.get(PERSONAL_ID_CLAIM)
    if isinstance(claimed, list):
        claimed = claimed[0] if len(claimed) == 1 else None
    return claimed if isinstance(claimed, str) and claimed.isascii() and claimed.isdigit() else None


def _granted_scope(principal: Principal, section: Section, action: Action) -> Scope:
    """The scope of the granted rows of the caller's tiers, if `section` is granted to it."""
    scopes = [
        scope
        for tier, (sections, actions, scope) in GRANTED_ROWS.items()
        if principal.has_any_role((tier,)) and section in tuple(sections) and action in tuple(actions)
    ]
    if not scopes or section not in granted_sections(principal):
        return Scope.NONE
    return max(scopes)


def scope_for(principal: Principal, section: Section, action: Action) -> Scope:
    """The widest scope any of the caller's tiers or its granted sections give (delegations
    are not scopes: they cover named records, see `serving`)."""
    scopes = [MATRIX[Tier(role)][section][action] for role in principal.roles if role in TIER_NAMES]
    scopes.append(_granted_scope(principal, section, action))
    scope = max(scopes, default=Scope.NONE)
    if scope in (Scope.OWN_UNIT, Scope.SUBTREE) and not principal.unit_path:
        return Scope.NONE
    if scope is Scope.OWN_RECORD and linked_personal_id(principal) is None:
        return Scope.NONE
    return scope


def serving(
    principal: Principal, section: Section, action: Action, delegations: Iterable[Delegation]
) -> list[Delegation]:
    """The delegations that give this caller this section and action today."""
    return [d for d in delegations if d.serves(principal, section, action)]


def may_at_all(principal: Principal, section: Section, action: Action, delegations: Iterable[Delegation] = ()) -> bool:
    """Whether the caller holds this right anywhere (by tier, grant or delegation)."""
    return scope_for(principal, section, action) is not Scope.NONE or bool(
        serving(principal, section, action, delegations)
    )


def allows(scope: Scope, principal: Principal, unit_path: str, person: RecordRef | None = None) -> bool:
    """Whether a record of `unit_path` (of `person`, when the check is about one) lies inside
    the caller's scope."""
    anchor = principal.unit_path or ""
    return (
        scope is Scope.SECTOR
        or (scope is Scope.SUBTREE and in_subtree(unit_path, anchor))
        or (scope is Scope.OWN_UNIT and unit_path == anchor)
        or (scope is Scope.OWN_RECORD and person is not None and person.personal_id == linked_personal_id(principal))
    )


def permits(
    principal: Principal,
    section: Section,
    action: Action,
    unit_path: str,
    *,
    person: RecordRef | None = None,
    delegations: Iterable[Delegation] = (),
) -> bool:
    return allows(scope_for(principal, section, action), principal, unit_path, person) or _delegated(
        principal, section, action, unit_path, person, delegations
    )


def _delegated(
    principal: Principal,
    section: Section,
    action: Action,
    unit_path: str,
    person: RecordRef | None,
    delegations: Iterable[Delegation],
) -> bool:
    """Whether a delegation in force gives the caller this right over the record."""
    person_id = person.id if person is not None else None
    return any(d.covers(unit_path, person_id) for d in serving(principal, section, action, delegations))


def _refused(principal: Principal, section: Section, action: Action, target: str) -> None:
    """Counts a refusal and leaves its trace in the service's audit log stream."""
    AUTHZ_REFUSALS.labels(section.value, action.value).inc()
    log.warning(
        "authorization refused",
        audit=True,
        actor=principal.subject,
        username=principal.username,
        section=section.value,
        action=action.value,
        target=target,
    )


def require(
    principal: Principal,
    section: Section,
    action: Action,
    unit_path: str,
    *,
    person: RecordRef | None = None,
    delegations: Iterable[Delegation] = (),
) -> None:
    """Refuses a call on a target the caller may not touch. The message names the section and
    action only: never the target's unit, which would tell where a record sits."""
    if not permits(principal, section, action, unit_path, person=person, delegations=delegations):
        _refused(principal, section, action, person.id if person is not None else unit_path)
        raise PermissionDenied(f"Không có quyền {action.value} phần {section.value} của bản ghi này")


def require_record_write(
    principal: Principal,
    section: Section,
    action: Action,
    unit_path: str,
    *,
    beyond_placements: bool,
    person: RecordRef | None = None,
    delegations: Iterable[Delegation] = (),
) -> None:
    """`require` for writing a part of a record; a part that records more than a move within the
    unit (`beyond_placements`) needs the right from something other than a `PLACEMENTS_ONLY` tier:
    another tier, a granted section or a delegation."""
    require(principal, section, action, unit_path, person=person, delegations=delegations)
    if not beyond_placements or not placements_only(principal, section, action, unit_path, person, delegations):
        return
    _refused(principal, section, action, person.id if person is not None else unit_path)
    raise PermissionDenied(
        "Không có quyền ghi phần này: cấp của tài khoản chỉ ghi điều động trong đơn vị của người không giữ "
        "chức vụ lãnh đạo (không ghi tuyển dụng, bổ nhiệm, kiêm nhiệm, luân chuyển, biệt phái)"
    )


def placements_only(
    principal: Principal,
    section: Section,
    action: Action,
    unit_path: str,
    person: RecordRef | None = None,
    delegations: Iterable[Delegation] = (),
) -> bool:
    """Whether the caller writes `section` there through a `PLACEMENTS_ONLY` tier alone: then it
    records moves within the unit of people who lead none of it, and nothing more."""
    return only_through(PLACEMENTS_ONLY, principal, section, action, unit_path, person, delegations)


def only_through(
    tiers: frozenset[Tier],
    principal: Principal,
    section: Section,
    action: Action,
    unit_path: str,
    person: RecordRef | None = None,
    delegations: Iterable[Delegation] = (),
) -> bool:
    """Whether the caller holds `action` on `section` there through one of `tiers` alone: no other
    tier of its, no granted section and no delegation gives it."""
    if not principal.has_any_role(tuple(tiers)):
        return False
    others = replace(principal, roles=principal.roles - tiers)
    # A delegation is served to the caller's own tiers, these included.
    return not (
        permits(others, section, action, unit_path, person=person)
        or _delegated(principal, section, action, unit_path, person, delegations)
    )


def require_sector_wide(principal: Principal, section: Section, action: Action, *, what: str) -> None:
    """Refuses an answer about the whole sector (a figure over every unit's records, `what`) unless
    the caller's tiers give `section` and `action` over the whole sector; a unit's scope, a granted
    section or a delegation covers part of the sector only."""
    if scope_for(principal, section, action) is not Scope.SECTOR:
        _refused(principal, section, action, what)
        raise PermissionDenied(f"Không có quyền {action.value} phần {section.value} của toàn ngành")


def require_visible(
    principal: Principal,
    section: Section,
    unit_path: str,
    *,
    person: RecordRef | None = None,
    delegations: Iterable[Delegation] = (),
    what: str,
) -> None:
    """A record the caller may not read answers exactly as an unknown one: NOT_FOUND with the
    message of a missing `what`, so a refusal reveals neither that it exists nor where.

    A record a delegation to the caller covers is visible whatever sections it names: recording
    a salary-step raise of someone means finding them first."""
    if permits(principal, section, Action.READ, unit_path, person=person, delegations=delegations):
        return
    person_id = person.id if person is not None else None
    if not any(d.serves_caller(principal) and d.covers(unit_path, person_id) for d in delegations):
        _refused(principal, section, Action.READ, person_id or unit_path)
        raise NotFound(f"Không có {what}")


def sql_scope(
    principal: Principal,
    section: Section,
    action: Action,
    path_column: Column,
    *,
    person_id_column: Column | None = None,
    personal_id_column: Column | None = None,
    delegations: Iterable[Delegation] = (),
) -> ColumnElement[bool]:
    """The WHERE condition that keeps a listing inside the caller's scope: its tier's scope on
    the unit-path column, or on the personal id for its own record, or what a delegation covers."""
    scope = scope_for(principal, section, action)
    anchor = principal.unit_path or ""
    conditions: list[ColumnElement[bool]] = []
    if scope is Scope.SECTOR:
        return true()
    if scope is Scope.SUBTREE:
        conditions.append(or_(path_column == anchor, path_column.startswith(anchor + "/", autoescape=True)))
    elif scope is Scope.OWN_UNIT:
        conditions.append(path_column == anchor)
    elif scope is Scope.OWN_RECORD and personal_id_column is not None:
        conditions.append(personal_id_column == linked_personal_id(principal))
    served = serving(principal, section, action, delegations)
    for delegation in served:
        if delegation.target_unit_path is not None:
            target = delegation.target_unit_path
            conditions.append(or_(path_column == target, path_column.startswith(target + "/", autoescape=True)))
        if delegation.person_ids and person_id_column is not None:
            conditions.append(person_id_column.in_(sorted(delegation.person_ids)))
    if scope is Scope.NONE and not served:
        _refused(principal, section, action, "listing")
        raise PermissionDenied(f"Không có quyền {action.value} phần {section.value}")
    return or_(*conditions) if conditions else false()
