"""The administrative tiers: one Keycloak realm role each (see the domain's tier table)."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    SYSTEM_ADMIN = "system-admin"
    SECTOR_HR = "sector-hr"
    SECTOR_VIEWER = "sector-viewer"
    HQ_DEPARTMENT = "hq-department"
    HQ_UNIT = "hq-unit"
    LOCAL_ADMIN = "local-admin"
    LOCAL_OFFICER = "local-officer"
    UNIT_LEADER = "unit-leader"
    SELF = "self"


TIER_NAMES = frozenset(t.value for t in Tier)


def in_subtree(unit_path: str, scope_path: str) -> bool:
    """Whether `unit_path` is `scope_path` itself or lies below it ("/A/B" is under "/A")."""
    scope = scope_path.rstrip("/")
    return unit_path == scope or unit_path.startswith(scope + "/")
