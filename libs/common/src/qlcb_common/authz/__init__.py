"""The one authorization policy: tier × record section × action → scope, plus delegations."""

from qlcb_common.authz.matrix import GRANTABLE_SECTIONS, GRANTED_ROWS, MATRIX, Action, Scope, Section
from qlcb_common.authz.policy import Delegation, allows, granted_sections, require, scope_for, sql_scope

__all__ = [
    "GRANTABLE_SECTIONS",
    "GRANTED_ROWS",
    "MATRIX",
    "Action",
    "Delegation",
    "Scope",
    "Section",
    "allows",
    "granted_sections",
    "require",
    "scope_for",
    "sql_scope",
]
