"""Audit chain verification at scale (issue 9, Performance): `entries` audit entries, sealed into
one hash chain as personnel's sealer seals them (`qlcb_personnel.audit.chain.digest`), are loaded
with COPY into a scratch database of personnel's schema; then personnel's own verification
(`chain.verify`: SQLAlchemy streaming the entries in order a batch at a time, recomputing each
hash) runs beside a raw baseline doing the same work by hand (an asyncpg cursor over the same
rows, the same canonical JSON and SHA-256).

The run checks itself: both must find the chain intact over every entry loaded; and, once one
entry in the middle is changed in the table, personnel's verification must name that entry.
Figures over a check that passes by accident would mean nothing."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from qlcb_common.db import Database
from qlcb_personnel import app as _app  # noqa: F401  (registers every table of personnel's store)
from qlcb_personnel.audit import chain
from qlcb_personnel.audit.models import AuditChainHead, AuditEntry
from qlcb_personnel.db_models import Base

_COLUMNS = (
    "id",
    "seq",
    "occurred_at",
    "transaction_id",
    "account",
    "subject",
    "tiers",
    "action",
    "target",
    "target_id",
    "person_id",
    "unit_path",
    "details",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class Sizes:
    """`entries` in the chain."""

    entries: int = 1_000_000

    def __post_init__(self) -> None:
        if self.entries < 3:
            raise ValueError("at least 3 entries: the check changes one in the middle")


SMOKE = Sizes(entries=500)


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    load_seconds: float
    ours_per_s: float
    raw_per_s: float
    checked: dict[str, int]
    """Entries each verification found intact ("ours", "raw": `sizes.entries` each), and the seq
    personnel's verification named once an entry was changed ("tampered")."""

    @property
    def ratio(self) -> float:
        return self.ours_per_s / self.raw_per_s


def _entry(index: int, start: datetime) -> AuditEntry:
    """An entry as a day of work leaves them: mostly reads of whole records, some writes."""
    person = str(uuid.UUID(int=index // 7 + 1))
    write = index % 5 == 0
    return AuditEntry(
        id=str(uuid.UUID(int=index + 1)),
        occurred_at=start + timedelta(milliseconds=index * 40),
        transaction_id=str(uuid.UUID(int=index // 3 + 1)),
        account=f"canbo{index % 400:03d}.hanoi",
        subject=str(uuid.UUID(int=index % 400 + 1)),
        tiers="local-admin",
        action="update" if write else "read",
        target="record_entries" if write else "record",
        target_id=person,
        person_id=person,
        unit_path=f"/TCHQ/HQ{index % 35:02d}/CC{index % 7}",
        details={"changes": {"values.step": [index % 9, index % 9 + 1]}}
        if write
        else {"sections": ["identity", "salary", "training"], "as_of": None, "known_at": None, "entries": 41},
    )


async def _load(connection: asyncpg.Connection, entries: int) -> str:
    """COPYs the chain in; returns its head hash."""
    start = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    head = chain.GENESIS

    async def rows() -> AsyncIterator[tuple[Any, ...]]:
        nonlocal head
        for index in range(entries):
            entry = _entry(index, start)
            seq = index + 1
            sealed = chain.digest(head, seq, entry)
            yield (
                entry.id,
                seq,
                entry.occurred_at,
                entry.transaction_id,
                entry.account,
                entry.subject,
                entry.tiers,
                entry.action,
                entry.target,
                entry.target_id,
                entry.person_id,
                entry.unit_path,
                json.dumps(entry.details, ensure_ascii=False),
                head,
                sealed,
            )
            head = sealed

    status = await connection.copy_records_to_table(AuditEntry.__tablename__, records=rows(), columns=_COLUMNS)
    if status != f"COPY {entries}":
        raise RuntimeError(f"generated {entries} entries, PostgreSQL answered {status!r}")
    await connection.execute(
        f"INSERT INTO {AuditChainHead.__tablename__} (id, seq, hash) VALUES ($1, $2, $3)",
        chain.HEAD_ID,
        entries,
        head,
    )
    await connection.execute(f"VACUUM (ANALYZE) {AuditEntry.__tablename__}")
    return head


async def _raw(connection: asyncpg.Connection) -> int:
    """The verification by hand: the rows in order through a cursor, each hash recomputed."""
    running, checked = chain.GENESIS, 0
    async with connection.transaction():
        async for row in connection.cursor(
            f"SELECT {', '.join(_COLUMNS)} FROM {AuditEntry.__tablename__} WHERE seq IS NOT NULL ORDER BY seq",
            prefetch=5000,
        ):
            content = {
                "seq": row["seq"],
                "id": row["id"],
                "occurred_at": row["occurred_at"].astimezone(UTC).isoformat(),
                "transaction_id": row["transaction_id"],
                "account": row["account"],
                "subject": row["subject"],
                "tiers": row["tiers"],
                "action": row["action"],
                "target": row["target"],
                "target_id": row["target_id"],
                "person_id": row["person_id"],
                "unit_path": row["unit_path"],
                "details": json.loads(row["details"]),
            }
            canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            digest = hashlib.sha256(f"{running}\n{canonical}".encode()).hexdigest()
            if row["seq"] != checked + 1 or row["prev_hash"] != running or row["hash"] != digest:
                break
            running, checked = digest, checked + 1
    return checked


async def _ours(db: Database) -> chain.Verification:
    async with db.unit_of_work() as session:
        return await chain.verify(session)


async def measure(database_url: str, dsn: str, sizes: Sizes = Sizes()) -> Result:
    """`database_url` (SQLAlchemy, asyncpg) and `dsn` (asyncpg) name one empty scratch database."""
    db = Database(database_url)
    connection = await asyncpg.connect(dsn)
    try:
        await db.create_schema(Base.metadata)
        began = time.perf_counter()
        await _load(connection, sizes.entries)
        loaded = time.perf_counter() - began

        began = time.perf_counter()
        ours = await _ours(db)
        ours_seconds = time.perf_counter() - began
        began = time.perf_counter()
        raw = await _raw(connection)
        raw_seconds = time.perf_counter() - began
        if not ours.intact or ours.checked != sizes.entries or raw != sizes.entries:
            raise RuntimeError(f"the chain loaded is not found intact: ours {ours}, raw {raw} of {sizes.entries}")

        middle = sizes.entries // 2
        await connection.execute(f"UPDATE {AuditEntry.__tablename__} SET account = 'ke.gian' WHERE seq = $1", middle)
        tampered = await _ours(db)
        if tampered.intact or tampered.first_broken_seq != middle:
            raise RuntimeError(f"entry {middle} was changed; the verification answered {tampered}")
    finally:
        await connection.close()
        await db.dispose()
    return Result(
        sizes=sizes,
        load_seconds=loaded,
        ours_per_s=sizes.entries / ours_seconds,
        raw_per_s=sizes.entries / raw_seconds,
        checked={"ours": ours.checked, "raw": raw, "tampered": middle},
    )
