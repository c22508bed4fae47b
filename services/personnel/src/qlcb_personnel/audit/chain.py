"""The audit trail's hash chain (R-AUD-1: tamper-evident). Each sealed entry holds the hash of
the one before it and its own, over its content: changing, removing or reordering an entry breaks
the chain from there on, and `verify` names the first entry where it breaks.

Entries are written unsealed in the transaction of what they record, and sealed in order shortly
after by one sealer at a time (`seal`): chaining them inside each writer's transaction would make
every write and every audited read in the sector wait for one lock."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_personnel.audit.models import AuditChainHead, AuditEntry

GENESIS = "0" * 64
"""The hash the first entry follows."""
HEAD_ID = 1


class Sealable(Protocol):
    """What the hash covers: an entry, or a row of `audit_entries` read without the ORM."""

    @property
    def id(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def transaction_id(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def tiers(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def target_id(self) -> str | None: ...
    @property
    def person_id(self) -> str | None: ...
    @property
    def unit_path(self) -> str | None: ...
    @property
    def details(self) -> dict[str, Any]: ...
    @property
    def holder_name(self) -> str | None: ...
    @property
    def holder_personal_id(self) -> str | None: ...
    @property
    def holder_folded(self) -> str | None: ...
    @property
    def seal_version(self) -> int | None: ...


SEAL_VERSION = 2
"""What the sealer of this code hashes, kept with each entry it seals: 2, the holder with the rest;
None (entries sealed before, or by a replica of the code before, while an upgrade rolls out), the
rest alone. The version is covered by the hash it chooses: an entry sealed with the holder and passed
off as sealed without hashes otherwise."""


def digest(prev_hash: str, seq: int, entry: Sealable, version: int | None = None) -> str:
    """SHA-256 of the previous hash and the entry's content in canonical JSON, as `version` of the
    sealer hashes it (`SEAL_VERSION`; default: as the entry says it was sealed)."""
    version = entry.seal_version if version is None else version
    content: dict[str, Any] = {
        "seq": seq,
        "id": entry.id,
        "occurred_at": entry.occurred_at.astimezone(UTC).isoformat(),
        "transaction_id": entry.transaction_id,
        "account": entry.account,
        "subject": entry.subject,
        "tiers": entry.tiers,
        "action": entry.action,
        "target": entry.target,
        "target_id": entry.target_id,
        "person_id": entry.person_id,
        "unit_path": entry.unit_path,
        "details": entry.details,
    }
    if version is not None:
        content["seal_version"] = version
        content["holder"] = {
            "name": entry.holder_name,
            "personal_id": entry.holder_personal_id,
            "folded": entry.holder_folded,
        }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


async def head(session: AsyncSession, *, lock: bool = False) -> AuditChainHead:
    """The chain's last sealed entry (seq 0 and GENESIS before the first), made if missing."""
    query = select(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
    found = await session.scalar(query.with_for_update() if lock else query)
    if found is None:
        found = AuditChainHead(id=HEAD_ID, seq=0, hash=GENESIS)
        session.add(found)
    return found


async def seal(session: AsyncSession, limit: int) -> int:
    """Seals up to `limit` unsealed entries, oldest first; returns how many."""
    last = await head(session, lock=True)
    pending = (
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq.is_(None))
            .order_by(AuditEntry.occurred_at, AuditEntry.id)
            .limit(limit)
        )
    ).all()
    for entry in pending:
        seq = last.seq + 1
        entry.prev_hash, entry.seq, entry.seal_version = last.hash, seq, SEAL_VERSION
        entry.hash = digest(last.hash, seq, entry)
        last.seq, last.hash = seq, entry.hash
    return len(pending)


@dataclass(frozen=True)
class Published:
    """The chain's head as the sealer last published it on the bus (`sealer`), outside the database."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Verification:
    checked: int
    """Sealed entries read, in order."""
    unsealed: int
    """Entries not sealed yet (written within the last moments, or the sealer is not running)."""
    head_hash: str
    """The hash of the last entry found intact: kept outside the database, it shows later whether
    the chain up to there was rewritten."""
    first_broken_seq: int | None = None
    first_broken_id: str | None = None
    reason: str | None = None
    published_seq: int | None = None
    """The published head the chain was checked against; None when there was none to read."""
    published_unreadable: str | None = None
    """Why no published head could be read, when one was looked for and none was (`published`)."""

    @property
    def intact(self) -> bool:
        return self.reason is None


async def verify(session: AsyncSession, batch: int = 5000, published: Published | None = None) -> Verification:
    """Reads the sealed entries in order up to the chain's head as it is when the check begins, a
    batch at a time (memory stays flat however long the chain), and recomputes each hash; stops at
    the first entry that does not fit. Entries sealed meanwhile are left to the next check.

    The database's own head row can be rewritten with the chain: `published`, the head as last
    published outside it (read before the check begins), must then be found in the chain, with its
    hash, or the chain was cut short or rewritten up to there."""
    last = await session.scalar(select(AuditChainHead).where(AuditChainHead.id == HEAD_ID))
    head_seq, head_hash = (last.seq, last.hash) if last is not None else (0, GENESIS)
    expected_seq, running, checked = 1, GENESIS, 0
    # Rows, not entries: building an ORM object for each of millions of entries cost three
    # quarters of the check's time.
    stream = await session.stream(
        select(*AuditEntry.__table__.columns)
        .where(AuditEntry.seq.is_not(None), AuditEntry.seq <= head_seq)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=batch)
    )
    broken: tuple[int | None, str | None, str] | None = None
    at_published: tuple[str, str] | None = None
    async for entry in stream:
        seq = entry.seq
        assert seq is not None  # the query's condition
        if seq != expected_seq:
            broken = (expected_seq, None, f"thiếu mục số {expected_seq} (mục tiếp theo có số {seq})")
        elif entry.prev_hash != running:
            broken = (seq, entry.id, "mã băm của mục trước không khớp: một mục trước đó đã bị sửa hoặc xoá")
        else:
            sealed = digest(running, seq, entry)
            if entry.hash != sealed:
                broken = (seq, entry.id, "nội dung mục đã bị sửa sau khi niêm phong")
        if broken is not None:
            break
        if published is not None and seq == published.seq:
            at_published = (entry.id, sealed)
        running, expected_seq, checked = sealed, seq + 1, checked + 1
    await stream.close()
    if broken is None and checked != head_seq:
        broken = (checked + 1, None, f"thiếu các mục cuối chuỗi, từ số {checked + 1} đến {head_seq}")
    elif broken is None and running != head_hash:
        broken = (checked, None, "mã băm cuối chuỗi không khớp với mục cuối: chuỗi đã bị viết lại")
    elif broken is None and published is not None:
        broken = _against_published(published, checked, at_published)
    unsealed = await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None)))
    published_seq = published.seq if published is not None else None
    if broken is None:
        return Verification(checked, unsealed or 0, running, published_seq=published_seq)
    seq, entry_id, reason = broken
    return Verification(checked, unsealed or 0, running, seq, entry_id, reason, published_seq)


def _against_published(
    published: Published, checked: int, at_published: tuple[str, str] | None
) -> tuple[int | None, str | None, str] | None:
    if at_published is None:
        return (
            checked + 1,
            None,
            f"chuỗi chỉ còn {checked} mục, thiếu các mục từ số {checked + 1} đến số {published.seq} "
            "đã công bố ra ngoài cơ sở dữ liệu: chuỗi đã bị cắt ngắn",
        )
    entry_id, found = at_published
    if found != published.hash:
        return (
            published.seq,
            entry_id,
            f"mã băm của mục số {published.seq} khác mã băm đã công bố ra ngoài cơ sở dữ liệu: "
            "chuỗi đã bị viết lại đến mục này",
        )
    return None
