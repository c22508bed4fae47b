"""`python -m qlcb_identity credentials rotate`: seals every open first-login delivery again with
the first of identity's credential keys, so the older keys can be dropped from its settings."""

from __future__ import annotations

import asyncio
import sys

from qlcb_common.db import Database
from qlcb_identity import credentials
from qlcb_identity.settings import IdentitySettings


async def _rotate(settings: IdentitySettings) -> int:
    db = Database(settings.database_url)
    try:
        async with db.unit_of_work() as session:
            return await credentials.reseal(session, settings.credential_sealer())
    finally:
        await db.dispose()


def main() -> int:
    settings = IdentitySettings()  # type: ignore[call-arg]
    count = asyncio.run(_rotate(settings))
    sys.stdout.write(f"re-sealed {count} open deliveries with the first credential key\n")
    return 0
