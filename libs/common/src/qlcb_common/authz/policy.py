"""Applying the matrix: a scope per caller, a check per target, a SQL condition per listing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.orm import QueryableAttribute

from qlcb_common.auth import Principal
from qlcb_common.authz.matrix import GRANTABLE_SECTIONS, GRANTED_ROWS, MATRIX, Action, Scope, Section
from qlcb_common.errors import PermissionDenied
from qlcb_common.tiers import TIER_NAMES, Tier, in_subtree


@dataclass(frozen=True)
class Delegation:
    """A right a higher tier gave a unit beyond its tier (R-TIER-2), e.g. the Anti-smuggling
    Dept recording salary-step raises of its staff: (/TCHQ/CDTCBL, SALARY, UPDATE, OWN_UNIT)."""

    unit_path: str
    section: Section
    action: Action
    scope: Scope


SECTIONS_CLAIM = "sections"


def granted_sections(principal: Principal) -> frozenset[Section]:
    """The record sections the caller's admin granted it (the token's `sections` claim)."""
    claimed = principal.claims.get(SECTIONS_CLAIM) or ()
    if isinstance(claimed, str):
        claimed = (claimed,)
    grantable = {s.value: s for s in GRANTABLE_SECTIONS}
    return frozenset(grantable[s] for s in claimed if s in grantable)


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


def scope_for(principal: Principal, section: Section, action: Action, delegations: Iterable[Delegation] = ()) -> Scope:
    """The widest scope any of the caller's tiers, its granted sections, or a delegation to its
    unit gives."""
    scopes = [MATRIX[Tier(role)][section][action] for role in principal.roles if role in TIER_NAMES]
    scopes.append(_granted_scope(principal, section, action))
    scopes += [
        d.scope
        for d in delegations
        if d.section == section and d.action == action and principal.unit_path == d.unit_path
    ]
    scope = max(scopes, default=Scope.NONE)
    if scope in (Scope.OWN_UNIT, Scope.SUBTREE) and not principal.unit_path:
        return Scope.NONE
    return scope


def allows(scope: Scope, principal: Principal, unit_path: str) -> bool:
    """Whether a record of `unit_path` lies inside the caller's scope.

    OWN_RECORD never matches a unit: accounts are not linked to their holder's record yet.
    """
    anchor = principal.unit_path or ""
    return (
        scope is Scope.SECTOR
        or (scope is Scope.SUBTREE and in_subtree(unit_path, anchor))
        or (scope is Scope.OWN_UNIT and unit_path == anchor)
    )


def require(
    principal: Principal,
    section: Section,
    action: Action,
    unit_path: str,
    *,
    delegations: Iterable[Delegation] = (),
) -> None:
    scope = scope_for(principal, section, action, delegations)
    if not allows(scope, principal, unit_path):
        raise PermissionDenied(f"Không có quyền {action.value} phần {section.value} của đơn vị {unit_path}")


def sql_scope(
    principal: Principal,
    section: Section,
    action: Action,
    path_column: QueryableAttribute[str] | ColumnElement[str],
    *,
    delegations: Iterable[Delegation] = (),
) -> ColumnElement[bool]:
    """The WHERE condition on a unit-path column that keeps a listing inside the caller's scope."""
    scope = scope_for(principal, section, action, delegations)
    anchor = principal.unit_path or ""
    if scope is Scope.SECTOR:
        return true()
    if scope is Scope.SUBTREE:
        return or_(path_column == anchor, path_column.startswith(anchor + "/", autoescape=True))
    if scope is Scope.OWN_UNIT:
        return path_column == anchor
    if scope is Scope.OWN_RECORD:
        return false()
    raise PermissionDenied(f"Không có quyền {action.value} phần {section.value}")
