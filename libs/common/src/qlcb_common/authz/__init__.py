"""The one authorization policy: tier × record section × action → scope, plus delegations."""

from qlcb_common.authz.matrix import MATRIX, Action, Scope, Section
from qlcb_common.authz.policy import Delegation, allows, require, scope_for, sql_scope

__all__ = ["MATRIX", "Action", "Delegation", "Scope", "Section", "allows", "require", "scope_for", "sql_scope"]
