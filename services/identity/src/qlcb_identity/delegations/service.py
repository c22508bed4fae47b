"""Delegations are granted and revoked by the sector tiers; every enforcing service follows
them through identity's events (qlcb_common.authz.delegations)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.identity.v1 import events_pb2
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Scope, Section
from qlcb_common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_common.text import clean
from qlcb_common.tiers import Tier
from qlcb_identity.audit import service as audit
from qlcb_identity.delegations.models import DelegationRecord

GRANTORS = (Tier.SYSTEM_ADMIN, Tier.SECTOR_HR)


def _require_grantor(actor: Principal) -> None:
    if not actor.has_any_role(GRANTORS):
        raise PermissionDenied("Chỉ quản trị hệ thống hoặc Vụ TCCB được ủy quyền")


def _payload(record: DelegationRecord) -> events_pb2.Delegation:
    return events_pb2.Delegation(
        id=record.id, unit_path=record.unit_path, section=record.section, action=record.action, scope=record.scope
    )


async def grant(
    session: AsyncSession,
    *,
    actor: Principal,
    outbox: Outbox,
    unit_path: str,
    section: Section,
    action: Action,
    scope: Scope,
    reason: str,
) -> DelegationRecord:
    _require_grantor(actor)
    if scope not in (Scope.OWN_UNIT, Scope.SUBTREE):
        raise InvalidArgument.single("scope", "Ủy quyền cho đơn vị: own_unit hoặc subtree")
    record = DelegationRecord(
        id=str(uuid.uuid4()),
        unit_path=unit_path,
        section=section.value,
        action=action.value,
        scope=scope.name.lower(),
        reason=clean(reason),
        granted_by=actor.username,
        granted_at=datetime.now(UTC),
    )
    session.add(record)
    await outbox.add(
        session,
        subject=subjects.IDENTITY_DELEGATION_GRANTED,
        payload=events_pb2.DelegationGranted(delegation=_payload(record)),
        actor=actor.subject,
    )
    audit.record(
        session,
        actor=actor,
        action="delegation.grant",
        target=unit_path,
        after={"id": record.id, "section": record.section, "action": record.action, "scope": record.scope},
    )
    return record


async def revoke(session: AsyncSession, *, actor: Principal, outbox: Outbox, delegation_id: str) -> DelegationRecord:
    _require_grantor(actor)
    record = await session.get(DelegationRecord, delegation_id)
    if record is None:
        raise NotFound(f"Không có ủy quyền {delegation_id!r}")
    if record.revoked_at is not None:
        raise FailedPrecondition("Ủy quyền đã bị thu hồi")
    record.revoked_by, record.revoked_at = actor.username, datetime.now(UTC)
    await outbox.add(
        session,
        subject=subjects.IDENTITY_DELEGATION_REVOKED,
        payload=events_pb2.DelegationRevoked(id=record.id),
        actor=actor.subject,
    )
    audit.record(session, actor=actor, action="delegation.revoke", target=record.unit_path, before={"id": record.id})
    return record


async def in_force(session: AsyncSession) -> list[DelegationRecord]:
    query = select(DelegationRecord).where(DelegationRecord.revoked_at.is_(None)).order_by(DelegationRecord.granted_at)
    return list((await session.scalars(query)).all())


async def follow_unit(
    session: AsyncSession, *, actor: Principal, outbox: Outbox, previous_path: str, new_path: str | None
) -> None:
    """A unit personnel moved (`new_path`) or dissolved (None): its delegations in force follow
    it to the new path, or end with it; the enforcing services hear of either."""
    records = await session.scalars(
        select(DelegationRecord).where(
            DelegationRecord.unit_path == previous_path, DelegationRecord.revoked_at.is_(None)
        )
    )
    for record in records:
        if new_path is None:
            record.revoked_by, record.revoked_at = actor.username, datetime.now(UTC)
            await outbox.add(
                session,
                subject=subjects.IDENTITY_DELEGATION_REVOKED,
                payload=events_pb2.DelegationRevoked(id=record.id),
                actor=actor.subject,
            )
            audit.record(
                session, actor=actor, action="delegation.revoke", target=previous_path, before={"id": record.id}
            )
            continue
        record.unit_path = new_path
        await outbox.add(
            session,
            subject=subjects.IDENTITY_DELEGATION_GRANTED,
            payload=events_pb2.DelegationGranted(delegation=_payload(record)),
            actor=actor.subject,
        )
        audit.record(
            session, actor=actor, action="delegation.follow_unit", target=new_path, before={"unit_path": previous_path}
        )
