"""The one authorization policy: tier × record section × action → scope, plus delegations."""

from qlcb_common.authz.matrix import (
    GRANTABLE_SECTIONS,
    GRANTED_ROWS,
    MATRIX,
    PLACEMENTS_ONLY,
    Action,
    Scope,
    Section,
)
from qlcb_common.authz.policy import (
    DELEGABLE_TIERS,
    Delegation,
    RecordRef,
    allows,
    granted_sections,
    may_at_all,
    permits,
    require,
    require_record_write,
    require_sector_wide,
    require_visible,
    scope_for,
    sql_scope,
)

__all__ = [
    "DELEGABLE_TIERS",
    "GRANTABLE_SECTIONS",
    "GRANTED_ROWS",
    "MATRIX",
    "PLACEMENTS_ONLY",
    "Action",
    "Delegation",
    "RecordRef",
    "Scope",
    "Section",
    "allows",
    "granted_sections",
    "may_at_all",
    "permits",
    "require",
    "require_record_write",
    "require_sector_wide",
    "require_visible",
    "scope_for",
    "sql_scope",
]
