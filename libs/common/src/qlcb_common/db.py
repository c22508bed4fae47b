"""Async SQLAlchemy engine and the unit of work: the only place that commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import ColumnElement, DateTime, Dialect, MetaData, Table, any_, bindparam, event, insert, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.types import TypeDecorator

log = structlog.get_logger(__name__)

SCHEMA_LOCK = 0x514C4342
"""The advisory lock key ("QLCB") a service holds while it creates its schema."""

PLANNED_FOR_VALUES = {"plan_cache_mode": "force_custom_plan"}
"""Every connection to PostgreSQL has each statement planned for the values it is run with (ADR
0039). asyncpg prepares every statement and a pooled connection keeps it; PostgreSQL otherwise falls
back after five runs to a plan made once for any values, which for a day, a unit or a group of codes
that decide what is read cost many times more: a search of a rank group read every fact of the
group (1.4 s against 0.15), a statistics form went from 90 to 520 ms, a unit's audit trail of a day
from 6 to 18 ms."""

PLANS_KEPT = {"plan_cache_mode": "auto"}
"""PostgreSQL's default, for the connections of keyed units of work (`Database.unit_of_work`): a
statement's plan made once for any values is kept after five runs when it is estimated to cost no
more than those runs' plans did."""


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time, stored in UTC and read back timezone-aware on every store: SQLite keeps
    no offset, so its rows would otherwise come back naive. A naive value is refused, since
    nothing says which zone it was in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored as a point in time: {value.isoformat()}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Database:
    def __init__(self, url: str, *, echo: bool = False, session_class: type[Session] = Session) -> None:
        self.url = make_url(url)
        asyncpg = self.url.get_driver_name() == "asyncpg"
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": not (self.is_sqlite or asyncpg)}
        if asyncpg:
            kwargs["connect_args"] = {"server_settings": PLANNED_FOR_VALUES}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        # Keyed units of work have a pool of their own, whose connections keep plans (ADR 0055).
        self.keyed_engine = self.engine
        if asyncpg:
            self.keyed_engine = create_async_engine(
                self.url, **kwargs | {"connect_args": {"server_settings": PLANS_KEPT}}
            )
            for engine in (self.engine, self.keyed_engine):
                event.listen(engine.sync_engine, "checkout", _closed_by_server)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=session_class)
        self._keyed_sessions = async_sessionmaker(
            self.keyed_engine, expire_on_commit=False, sync_session_class=session_class
        )

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @asynccontextmanager
    async def unit_of_work(self, *, keyed: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction: commits when the block ends, rolls back if it raises.

        `keyed`: every statement of it finds its rows by a key, such as one person's id, whose best
        plan is the same whatever the value. PostgreSQL may then keep a plan it made once for a
        pooled connection's prepared statement, instead of planning every run for its values
        (ADR 0053); the transaction's statements are planned as `PLANNED_FOR_VALUES` says otherwise.
        On PostgreSQL a keyed unit of work takes a connection of a pool whose connections keep plans
        (`PLANS_KEPT`), rather than setting it for each transaction at a round trip (ADR 0055)."""
        sessions = self._keyed_sessions if keyed else self.sessions
        async with sessions() as session, session.begin():
            yield session

    async def wait_connected(self, *, timeout: float = 60.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        delay = 0.2
        while True:
            try:
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                return
            except Exception as exc:
                if asyncio.get_running_loop().time() + delay > deadline:
                    raise
                log.warning("database not reachable yet", error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def create_schema(self, metadata: MetaData) -> None:
        """Creates what is missing of the schema straight from the models: scratch stores of tests
        and benchmarks. Services migrate their stores instead (`qlcb_common.migrations`, ADR 0022).
        Callers racing on one PostgreSQL database take turns, holding an advisory lock for the
        transaction: two `CREATE TABLE`s of the same table at once fail on the catalog's unique index."""
        async with self.engine.begin() as conn:
            if self.url.get_backend_name() == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            await conn.run_sync(metadata.create_all)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.keyed_engine is not self.engine:
            await self.keyed_engine.dispose()


def one_of(
    dialect: str, column: ColumnElement[str] | QueryableAttribute[str], values: Sequence[str]
) -> ColumnElement[bool]:
    """`column IN values`. On PostgreSQL as one array parameter (`column = ANY($1)`): SQLAlchemy
    expands an IN list into a parameter per value on every run, and each length of the list is a text
    of its own, prepared again on every pooled connection. SQLite has no arrays: IN there."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


async def insert_rows(
    session: AsyncSession, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Inserts `rows` (values in the order of `columns`, as the driver takes them: no column type's own
    conversion applies) in the session's transaction. On PostgreSQL by COPY, the rows sent as one
    stream, where an INSERT run once per row binds and sends each row as a statement of its own
    (ADR 0046); elsewhere by one INSERT run for every row."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "asyncpg":
        driver: Any = (await connection.get_raw_connection()).driver_connection
        if not driver.is_in_transaction():
            # The driver's adapter begins the session's transaction at its first statement.
            await connection.execute(text("SELECT 1"))
        await driver.copy_records_to_table(table.name, records=rows, columns=list(columns), schema_name=table.schema)
        return
    await connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def _closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Takes a pooled connection the server has closed (restarted, or ended the session) out of
    the pool before it is used: the pool then opens another. asyncpg learns of the close as soon as
    the event loop reads the socket, so unlike SQLAlchemy's `pool_pre_ping`, whose ping on asyncpg
    is three round trips (BEGIN, an empty statement, ROLLBACK), this check costs none."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
