"""`python -m qlcb_reports.statistics rebuild [--wait SECONDS]` and `… generations`: what
`POST /v1/statistics/rebuild` and `GET /v1/statistics/generations` do, for an operator on the
reports service's host or pod (`kubectl exec deploy/reports -- python -m qlcb_reports.statistics
rebuild`). A rebuild is asked in reports' store; the running reports service replays personnel's
stream into a new model beside the serving one and switches to it (ADR 0031). Reads the store's
address as the service does (QLCB_REPORTS_DATABASE_URL). Exits 0 when asked (with --wait: once the
new model serves), 1 when refused or still building at the end of the wait, saying why."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from qlcb_common.db import Database
from qlcb_common.errors import ServiceError
from qlcb_reports.statistics import generations

POLL_SECONDS = 1.0


class RebuildSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_REPORTS_", extra="ignore", hide_input_in_errors=True)

    database_url: str = Field(description="SQLAlchemy async URL of the reports service's store")


async def _rebuild(db: Database, wait: float) -> tuple[int, str]:
    """(the exit code, what to print)."""
    async with db.unit_of_work() as session:
        generation = await generations.request_rebuild(session, f"lệnh:{getpass.getuser()}")
        number = generation.id
    asked = f"Đã yêu cầu dựng lại số liệu thống kê: thế hệ {number}"
    if wait <= 0:
        return 0, f"{asked}; dịch vụ báo cáo đang dựng, mô hình cũ vẫn phục vụ."
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        state = await _state(db, number)
        if state == generations.SERVING:
            return 0, f"{asked}; đã dựng xong và đang phục vụ."
        if state != generations.BUILDING or asyncio.get_running_loop().time() >= deadline:
            return 1, f"{asked}; sau {wait:.0f} giây vẫn ở trạng thái {state}."
        await asyncio.sleep(POLL_SECONDS)


async def _state(db: Database, number: int) -> str | None:
    async with db.unit_of_work() as session:
        return next((g.state for g in await generations.listed(session) if g.id == number), None)


async def _listed(db: Database) -> str:
    async with db.unit_of_work() as session:
        found = await generations.listed(session)
    return "\n".join(
        f"{g.id}\t{g.state}\t{g.started_at:%Y-%m-%d %H:%M:%S}\t{g.requested_by or 'khởi đầu'}" for g in found
    )


async def _run(args: argparse.Namespace, settings: RebuildSettings) -> tuple[int, str]:
    db = Database(settings.database_url)
    try:
        if args.command == "rebuild":
            return await _rebuild(db, args.wait)
        return 0, await _listed(db)
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qlcb_reports.statistics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rebuild = commands.add_parser("rebuild", help="replay personnel's stream into a new model, then switch to it")
    rebuild.add_argument(
        "--wait", type=float, default=0.0, help="seconds to wait for the new model to serve (0: do not wait)"
    )
    commands.add_parser("generations", help="the models built so far and their state")
    args = parser.parse_args(argv)
    try:
        code, said = asyncio.run(_run(args, RebuildSettings()))  # type: ignore[call-arg]
    except ServiceError as exc:
        print(f"Không dựng lại: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    print(said)  # noqa: T201
    return code


if __name__ == "__main__":
    sys.exit(main())
