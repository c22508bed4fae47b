"""Identifiers as the system writes them, one pattern each for every place that checks one: the
APIs' pydantic fields, personnel's checks, and the consumers of events (`events.contracts`).

ASCII classes only (`[0-9]`, `[A-Z]`): `\\d` and `\\w` would take any script's digits and letters.
The `*_PATTERN` strings are unanchored; pydantic fields anchor them with `anchored`.
"""

from __future__ import annotations

import re

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
"""Ids of units, persons, transfers and delegations (`uuid.uuid4()`) and of events (`uuid6.uuid7()`),
lower case."""

UNIT_CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{1,31}"
"""A unit code as typed; it is stored upper case, checked before upper-casing ("ı".upper() is "I")."""

UNIT_PATH_PATTERN = r"(/[A-Z0-9][A-Z0-9_-]{1,31})+"
"""Stored unit codes from the root down, e.g. /TCHQ/HQHN/HQHN-NB; also the Keycloak group path."""

PERSONAL_ID_PATTERN = r"[0-9]{12}"
"""Số định danh cá nhân."""

STAFF_NUMBER_PATTERN = r"[A-Za-z0-9./-]{1,20}"
"""Số hiệu cán bộ."""

UUID = re.compile(UUID_PATTERN, re.ASCII)
UNIT_CODE = re.compile(UNIT_CODE_PATTERN, re.ASCII)
UNIT_PATH = re.compile(UNIT_PATH_PATTERN, re.ASCII)
PERSONAL_ID = re.compile(PERSONAL_ID_PATTERN, re.ASCII)
STAFF_NUMBER = re.compile(STAFF_NUMBER_PATTERN, re.ASCII)


def anchored(pattern: str) -> str:
    """The pattern for a pydantic field, which must match the whole value."""
    return f"^{pattern}$"
