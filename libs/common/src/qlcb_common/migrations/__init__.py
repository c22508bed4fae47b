"""Each service's schema history, kept with Alembic (ADR 0022).

A service's migrations live in its package's `migrations` folder: Alembic's `env.py` (which calls
`run_env`), the revisions in `versions/`, and a `target_metadata()` returning every table of the
store as the code defines it. The service upgrades its store at start-up unless told not to
(`migrate_at_start`); on a cluster a Job does it before the new release starts
(`python -m qlcb_common.migrations upgrade <service>`), and the service only checks that the store
is at the revision its code expects.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, Literal, cast

import structlog
from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Column, Connection, MetaData, inspect, text

from qlcb_common.db import SCHEMA_LOCK, Database, UtcDateTime

log = structlog.get_logger(__name__)

VERSION_TABLE = "alembic_version"


class SchemaError(RuntimeError):
    """The store's schema is not the one the code expects, and migrating cannot or may not fix it."""


def migrations_module(package: str) -> ModuleType:
    """The `migrations` package of a service's package, e.g. `qlcb_personnel.migrations`."""
    return importlib.import_module(f"{package}.migrations")


def target_metadata(package: str) -> MetaData:
    factory = cast(Callable[[], MetaData], migrations_module(package).target_metadata)
    return factory()


def alembic_config(package: str, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", f"{package}:migrations")
    config.attributes["connection"] = connection
    config.attributes["package"] = package
    return config


def head_revision(package: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(package)).get_current_head()
    if head is None:
        raise SchemaError(f"{package} has no migration")
    return head


def run_env() -> None:
    """The body of every service's `env.py`: migrate on the connection the caller holds, inside its
    transaction (PostgreSQL's DDL is transactional: a failed upgrade leaves the schema as it was)."""
    connection = context.config.attributes["connection"]
    if connection is None:
        raise SchemaError("migrations run on a connection given by qlcb_common.migrations, not from a URL")
    context.configure(
        connection=connection,
        target_metadata=target_metadata(context.config.attributes["package"]),
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(kind: str, item: Any, autogen_context: Any) -> str | Literal[False]:
    """Revisions name a column's type by what the database stores, never by the code's class of it:
    a revision must not change when the code's types move."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def differences(connection: Connection, metadata: MetaData) -> list[Any]:
    """What the store's tables, columns and indexes lack or have beyond `metadata`."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    with warnings.catch_warnings():
        # An index on an expression that Alembic or SQLAlchemy cannot reflect (one with an operator
        # class, as personnel's trigram index had; any on SQLite) is left out, with a warning that says
        # so; the migrations create them and the tests that need them use them. One it reflects
        # (PostgreSQL's, without an operator class) is compared by name (`_restated_expression_indexes`).
        warnings.filterwarnings("ignore", message=".*(expression-based index|operator clause)", category=UserWarning)
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        found = compare_metadata(context, metadata)
    restated = _restated_expression_indexes(found)
    return [diff for diff in found if not _version_table(diff) and not _index_named(diff, restated)]


def _restated_expression_indexes(found: list[Any]) -> set[str]:
    """The indexes on an expression that the store has under the name the code gives them, which
    Alembic lists as removed and added: PostgreSQL gives an expression back in its own words (casts
    and parentheses added), never as the code wrote it, so only the name can be compared."""
    removed = {diff[1].name for diff in found if isinstance(diff, tuple) and diff[0] == "remove_index"}
    return {
        diff[1].name
        for diff in found
        if isinstance(diff, tuple)
        and diff[0] == "add_index"
        and diff[1].name in removed
        and any(not isinstance(e, Column) for e in diff[1].expressions)
    }


def _index_named(diff: Any, names: set[str]) -> bool:
    return isinstance(diff, tuple) and diff[0] in ("add_index", "remove_index") and diff[1].name in names


def _version_table(diff: Any) -> bool:
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == VERSION_TABLE


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _newer_than_code(package: str, revision: str | None) -> bool:
    """A revision this code's history does not hold: one of a newer release, after a rollback.
    Migrations add before they remove (ADR 0022), so the older code runs on it as it is."""
    if revision is None:
        return False
    try:
        ScriptDirectory.from_config(alembic_config(package)).get_revision(revision)
    except CommandError:
        return True
    return False


def _upgrade(connection: Connection, package: str) -> str | None:
    before = current_revision(connection)
    if _newer_than_code(package, before):
        log.warning("store at a revision newer than this code, left as it is", package=package, revision=before)
        return before
    if before is None:
        _adopt(connection, package)
    command.upgrade(alembic_config(package, connection), "head")
    after = current_revision(connection)
    if after != before:
        log.info("schema migrated", package=package, revision_before=before, revision=after)
    return after


def _adopt(connection: Connection, package: str) -> None:
    """A store made before its service kept a history (by `create_all`, ADR 0003) is stamped with the
    newest revision when its schema is exactly what the code defines; otherwise nothing is touched."""
    metadata = target_metadata(package)
    present = set(inspect(connection).get_table_names()) & set(metadata.tables)
    if not present:
        return
    found = differences(connection, metadata)
    if found:
        raise SchemaError(
            f"the store holds tables of {package} ({len(present)}) but no migration history, and its schema "
            f"differs from the code's, so no revision can be assumed: {found[:5]}"
        )
    command.stamp(alembic_config(package, connection), "head")
    log.warning("store without a migration history adopted at the newest revision", package=package)


async def upgrade(db: Database, package: str) -> str | None:
    """Brings the store to the newest revision in one transaction. Replicas starting together take
    turns on PostgreSQL, holding an advisory lock for the transaction."""
    async with db.engine.begin() as conn:
        if db.url.get_backend_name() == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        return await conn.run_sync(_upgrade, package)


async def require_current(db: Database, package: str) -> str:
    """Refuses to go on unless the store is at the revision the code expects: a service told not to
    migrate (the cluster's Job does) must not run on a schema it was not written for."""
    async with db.engine.connect() as conn:
        revision = await conn.run_sync(current_revision)
    head = head_revision(package)
    if _newer_than_code(package, revision):
        log.warning("store at a revision newer than this code", package=package, revision=revision, expected=head)
        return cast(str, revision)
    if revision != head:
        raise SchemaError(
            f"the store is at revision {revision or 'none (empty)'} and {package} expects {head}: run "
            f"`python -m qlcb_common.migrations upgrade {package.removeprefix('qlcb_')}` first"
        )
    return revision


async def prepare(db: Database, package: str, *, migrate: bool) -> None:
    if migrate:
        await upgrade(db, package)
    else:
        await require_current(db, package)
