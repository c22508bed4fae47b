"""`python -m qlcb_common.migrations upgrade|check|revision <service>`: the store's schema, from the
service's own settings (QLCB_<SERVICE>_DATABASE_URL), without starting the service."""

from __future__ import annotations

import argparse
import asyncio
import sys

from alembic import command

from qlcb_common.db import Database
from qlcb_common.logging import configure_logging
from qlcb_common.migrations import SchemaError, alembic_config, require_current, upgrade
from qlcb_common.settings import DatabaseSettings

SERVICES = ("identity", "personnel", "reports", "backup")


def _database(service: str, url: str | None) -> Database:
    given = url or DatabaseSettings(_env_prefix=f"QLCB_{service.upper()}_").database_url  # type: ignore[call-arg]
    return Database(given)


async def _run(action: str, service: str, url: str | None, message: str | None) -> str | None:
    package = f"qlcb_{service}"
    db = _database(service, url)
    try:
        await db.wait_connected()
        if action == "check":
            return await require_current(db, package)
        revision = await upgrade(db, package)
        if action == "revision":
            async with db.engine.begin() as conn:
                await conn.run_sync(
                    lambda sync: command.revision(alembic_config(package, sync), message=message, autogenerate=True)
                )
        return revision
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qlcb_common.migrations")
    parser.add_argument("action", choices=["upgrade", "check", "revision"])
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--url", help="a database other than the service's (revision: a scratch database)")
    parser.add_argument("-m", "--message", help="revision: what the new revision changes")
    args = parser.parse_args(argv)
    if args.action == "revision" and not (args.url and args.message):
        parser.error("revision needs --url (a scratch database, upgraded first) and --message")
    configure_logging(f"{args.service}-migrations", "INFO")
    try:
        revision = asyncio.run(_run(args.action, args.service, args.url, args.message))
    except SchemaError as exc:
        sys.stderr.write(f"{args.service}: {exc}\n")
        return 1
    sys.stdout.write(f"{args.service}: at revision {revision}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
