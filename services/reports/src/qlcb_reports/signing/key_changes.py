"""The audit and the events of a unit's key changes: each rotation or revocation is recorded in its
own transaction (who, when, why, which certificate replaced which) and published on
`qlcb.reports.signing_key.rotated` / `.revoked` from the same transaction, through the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.reports.v1 import events_pb2, signatures_pb2
from qlcb_common.auth import Principal
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.tiers import TIER_NAMES
from qlcb_reports.audit import holders
from qlcb_reports.audit.models import SigningKeyChange
from qlcb_reports.headcount.models import UnitNode
from qlcb_reports.signing.service import REVOKED, ROTATED

SUBJECT_OF = {ROTATED: subjects.REPORTS_SIGNING_KEY_ROTATED, REVOKED: subjects.REPORTS_SIGNING_KEY_REVOKED}


def as_proto(row: SigningKeyChange, holder_name: str | None) -> signatures_pb2.SigningKeyChange:
    return signatures_pb2.SigningKeyChange(
        id=row.id,
        unit_id=row.unit_id,
        unit_name=row.unit_name,
        unit_path=row.unit_path,
        action=row.action,
        previous_serial=row.previous_serial,
        serial=row.serial,
        reason=row.reason,
        account=row.account,
        holder_name=holder_name or "",
        occurred_at=row.occurred_at.isoformat(),
    )


async def _holder(session: AsyncSession, row: SigningKeyChange) -> str | None:
    return await holders.named(session, row.holder_name, row.account, row.occurred_at)


async def record(
    session: AsyncSession,
    outbox: Outbox,
    actor: Principal,
    unit: UnitNode,
    *,
    action: str,
    previous_serial: str,
    serial: str,
    reason: str = "",
) -> SigningKeyChange:
    """Records the change and stages its event, in the caller's transaction."""
    now = datetime.now(UTC)
    row = SigningKeyChange(
        id=str(uuid.uuid4()),
        unit_id=unit.unit_id,
        unit_name=unit.name,
        unit_path=unit.path,
        action=action,
        previous_serial=previous_serial,
        serial=serial,
        reason=reason,
        account=actor.username,
        subject=actor.subject,
        tiers=",".join(sorted(actor.roles & TIER_NAMES)),
        occurred_at=now,
        holder_name=await holders.kept_for(session, actor.username, now),
    )
    session.add(row)
    await outbox.add(
        session,
        subject=SUBJECT_OF[action],
        payload=events_pb2.SigningKeyChanged(change=as_proto(row, await _holder(session, row))),
        actor=actor.subject,
    )
    return row


async def of_unit(session: AsyncSession, unit_id: str) -> list[signatures_pb2.SigningKeyChange]:
    """The unit's key changes, newest first, each naming who held a purpose account that day."""
    found = await session.scalars(
        select(SigningKeyChange)
        .where(SigningKeyChange.unit_id == unit_id)
        .order_by(SigningKeyChange.occurred_at.desc(), SigningKeyChange.id)
    )
    return [as_proto(row, await _holder(session, row)) for row in found]
