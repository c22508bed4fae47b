"""`python -m qlcb_personnel.audit verify`: checks the audit trail's hash chain in personnel's
database (QLCB_PERSONNEL_DATABASE_URL) and names the first entry that breaks it; exits 0 when
intact, 1 when broken, 2 when intact in the database but the head published on the bus could not be
read though it was asked for. With the bus (`--nats-url`, or QLCB_PERSONNEL_NATS_URL with personnel's
NATS user), the chain is checked against the head last published there too, which shows a chain
cut short or rewritten with its head row. For the operator, beside the system admin's endpoint."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace

from pydantic_settings import SettingsConfigDict

from qlcb_common.db import Database
from qlcb_common.nats_connection import connect
from qlcb_common.settings import NatsClientSettings
from qlcb_personnel.audit import chain, published
from qlcb_personnel.settings import ENV_PREFIX, PersonnelSettings


class _BusSettings(NatsClientSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")


async def _published(nats_url: str | None) -> published.Reading:
    if nats_url is None:
        return published.Reading(None)
    settings = _BusSettings(nats_url=nats_url)
    try:
        client = await connect(settings, name="qlcb-personnel-audit-verify", timeout=10)
    except Exception as exc:
        return published.Reading(None, f"không kết nối được kênh sự kiện {nats_url} ({type(exc).__name__})")
    try:
        return await published.latest(client.jetstream())
    finally:
        await client.close()


async def _verify(url: str, nats_url: str | None) -> chain.Verification:
    read = await _published(nats_url)
    db = Database(url)
    try:
        async with db.unit_of_work() as session:
            result = await chain.verify(session, published=read.head)
    finally:
        await db.dispose()
    return replace(result, published_unreadable=read.unreadable)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m qlcb_personnel.audit", description=__doc__)
    parser.add_argument("command", choices=["verify"])
    parser.add_argument("--database-url", help="default: QLCB_PERSONNEL_DATABASE_URL")
    parser.add_argument("--nats-url", help="default: QLCB_PERSONNEL_NATS_URL; neither: the database only")
    args = parser.parse_args()
    url = args.database_url or PersonnelSettings().database_url  # type: ignore[call-arg]
    nats_url = args.nats_url or os.environ.get(f"{ENV_PREFIX}NATS_URL")
    result = asyncio.run(_verify(url, nats_url))
    if result.published_seq:
        against = f"Đã đối chiếu với mục số {result.published_seq} công bố trên kênh sự kiện."
    elif result.published_unreadable:
        against = f"Không đối chiếu được với mã băm công bố: {result.published_unreadable}."
    else:
        against = "Chưa đối chiếu với mã băm công bố trên kênh sự kiện (chưa có mã nào được công bố, hoặc không hỏi)."
    if result.intact and result.published_unreadable:
        print(  # noqa: T201
            f"Chuỗi nhật ký nguyên vẹn trong cơ sở dữ liệu: {result.checked} mục đã kiểm tra. {against}",
            file=sys.stderr,
        )
        return 2
    if result.intact:
        print(  # noqa: T201
            f"Chuỗi nhật ký nguyên vẹn: {result.checked} mục đã kiểm tra, {result.unsealed} mục chưa niêm phong. "
            f"Mã băm cuối chuỗi: {result.head_hash}. {against}"
        )
        return 0
    print(  # noqa: T201
        f"Chuỗi nhật ký bị phá vỡ tại mục số {result.first_broken_seq}"
        f"{f' ({result.first_broken_id})' if result.first_broken_id else ''}: {result.reason}. "
        f"{result.checked} mục trước đó nguyên vẹn. {against}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
