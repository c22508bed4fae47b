"""`python -m qlcb_identity realm diff|apply`: report or correct drift of the live realm."""

from __future__ import annotations

import sys

from qlcb_identity.realm.admin import realm_sync
from qlcb_identity.settings import KeycloakAdminSettings


def main(command: str) -> int:
    sync = realm_sync(KeycloakAdminSettings())  # type: ignore[call-arg]
    drift = sync.apply() if command == "apply" else sync.diff()
    for item in drift:
        sys.stdout.write(("corrected: " if command == "apply" else "drift: ") + item.describe() + "\n")
    if not drift:
        sys.stdout.write("the realm matches its definition\n")
    return 1 if drift and command == "diff" else 0
