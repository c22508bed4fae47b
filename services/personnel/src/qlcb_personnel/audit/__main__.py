"""`python -m qlcb_personnel.audit verify`: checks the audit trail's hash chain in personnel's
database (QLCB_PERSONNEL_DATABASE_URL) and names the first entry that breaks it; exits 0 when
intact, 1 when broken. For the operator, beside the system admin's endpoint."""

from __future__ import annotations

import argparse
import asyncio
import sys

from qlcb_common.db import Database
from qlcb_personnel.audit import chain
from qlcb_personnel.settings import PersonnelSettings


async def _verify(url: str) -> chain.Verification:
    db = Database(url)
    try:
        async with db.unit_of_work() as session:
            return await chain.verify(session)
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m qlcb_personnel.audit", description=__doc__)
    parser.add_argument("command", choices=["verify"])
    parser.add_argument("--database-url", help="default: QLCB_PERSONNEL_DATABASE_URL")
    args = parser.parse_args()
    url = args.database_url or PersonnelSettings().database_url  # type: ignore[call-arg]
    result = asyncio.run(_verify(url))
    if result.intact:
        print(  # noqa: T201
            f"Chuỗi nhật ký nguyên vẹn: {result.checked} mục đã kiểm tra, {result.unsealed} mục chưa niêm phong. "
            f"Mã băm cuối chuỗi: {result.head_hash}"
        )
        return 0
    print(  # noqa: T201
        f"Chuỗi nhật ký bị phá vỡ tại mục số {result.first_broken_seq}"
        f"{f' ({result.first_broken_id})' if result.first_broken_id else ''}: {result.reason}. "
        f"{result.checked} mục trước đó nguyên vẹn.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
