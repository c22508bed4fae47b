"""Delegations are granted and revoked by the sector tiers; every enforcing service follows
them through identity's events (qlcb_common.authz.delegations)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.identity.v1 import events_pb2
from qlcb_common.auth import Principal
from qlcb_common.authz import DELEGABLE_TIERS, Action, Scope, Section, scope_for
from qlcb_common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied
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
        id=record.id,
        unit_path=record.unit_path,
        tiers=record.tiers,
        sections=record.sections,
        actions=record.actions,
        target_unit_path=record.target_unit_path or "",
        person_ids=record.person_ids,
        valid_from=record.valid_from.isoformat(),
        valid_to=record.valid_to.isoformat() if record.valid_to else "",
    )


@dataclass(frozen=True)
class DelegationTerms:
    unit_path: str
    tiers: frozenset[Tier]
    sections: frozenset[Section]
    actions: frozenset[Action]
    target_unit_path: str | None
    person_ids: frozenset[str]
    valid_from: date
    valid_to: date | None
    reason: str


def _check_terms(actor: Principal, terms: DelegationTerms) -> None:
    violations: list[FieldViolation] = []
    if not terms.tiers <= DELEGABLE_TIERS:
        violations.append(FieldViolation("tiers", "Chỉ ủy quyền cho các cấp làm việc của đơn vị, không cho 'self'"))
    if terms.target_unit_path is None and not terms.person_ids:
        violations.append(FieldViolation("records", "Phải nêu cây đơn vị hoặc danh sách người được ủy quyền quản lý"))
    if terms.valid_to is not None and terms.valid_to < terms.valid_from:
        violations.append(FieldViolation("valid_to", "Ngày hết hiệu lực trước ngày bắt đầu"))
    if violations:
        raise InvalidArgument(violations)
    # R-TIER-3: a grantor gives only what it holds itself, over the whole sector.
    for section in terms.sections:
        for action in terms.actions:
            if scope_for(actor, section, action) is not Scope.SECTOR:
                raise PermissionDenied(f"Không được ủy quyền {action.value} phần {section.value} mà mình không có")


async def grant(session: AsyncSession, *, actor: Principal, outbox: Outbox, terms: DelegationTerms) -> DelegationRecord:
    _require_grantor(actor)
    _check_terms(actor, terms)
    record = DelegationRecord(
        id=str(uuid.uuid4()),
        unit_path=terms.unit_path,
        tiers=sorted(t.value for t in terms.tiers),
        sections=sorted(s.value for s in terms.sections),
        actions=sorted(a.value for a in terms.actions),
        target_unit_path=terms.target_unit_path,
        person_ids=sorted(terms.person_ids),
        valid_from=terms.valid_from,
        valid_to=terms.valid_to,
        reason=clean(terms.reason),
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
        target=terms.unit_path,
        unit_path=terms.unit_path,
        after={
            "id": record.id,
            "tiers": record.tiers,
            "sections": record.sections,
            "actions": record.actions,
            "target_unit_path": record.target_unit_path,
            "person_ids": record.person_ids,
            "valid_from": record.valid_from.isoformat(),
            "valid_to": record.valid_to.isoformat() if record.valid_to else None,
        },
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
    audit.record(
        session,
        actor=actor,
        action="delegation.revoke",
        target=record.unit_path,
        unit_path=record.unit_path,
        before={"id": record.id},
    )
    return record


SECTOR_READERS = (Tier.SYSTEM_ADMIN, Tier.SECTOR_HR, Tier.SECTOR_VIEWER)


async def in_force(session: AsyncSession, *, actor: Principal) -> list[DelegationRecord]:
    """Delegations not revoked: all of them for the sector tiers, those to its own unit for a
    unit's working account; refused to an account without a unit and to one that reads no unit
    (a civil servant's own account reads its record only)."""
    query = select(DelegationRecord).where(DelegationRecord.revoked_at.is_(None)).order_by(DelegationRecord.granted_at)
    if not actor.has_any_role(SECTOR_READERS):
        if not actor.unit_path:
            raise PermissionDenied("Tài khoản không thuộc đơn vị nào")
        if scope_for(actor, Section.UNIT, Action.READ) is Scope.NONE:
            raise PermissionDenied("Tài khoản cá nhân chỉ xem hồ sơ của chính mình")
        query = query.where(DelegationRecord.unit_path == actor.unit_path)
    return list((await session.scalars(query)).all())


async def follow_unit(
    session: AsyncSession, *, actor: Principal, outbox: Outbox, previous_path: str, new_path: str | None
) -> None:
    """A unit personnel moved (`new_path`) or dissolved (None): the delegations in force to it,
    or over its records, follow it to the new path; with it dissolved, a delegation to it ends,
    and one over its records ends unless it still names people. The enforcing services hear of each."""
    records = await session.scalars(
        select(DelegationRecord).where(
            or_(DelegationRecord.unit_path == previous_path, DelegationRecord.target_unit_path == previous_path),
            DelegationRecord.revoked_at.is_(None),
        )
    )
    for record in records:
        before = {"unit_path": record.unit_path, "target_unit_path": record.target_unit_path}
        if record.target_unit_path == previous_path:
            record.target_unit_path = new_path
        if new_path is None and (record.unit_path == previous_path or not record.person_ids):
            record.revoked_by, record.revoked_at = actor.username, datetime.now(UTC)
            await outbox.add(
                session,
                subject=subjects.IDENTITY_DELEGATION_REVOKED,
                payload=events_pb2.DelegationRevoked(id=record.id),
                actor=actor.subject,
            )
            audit.record(
                session,
                actor=actor,
                action="delegation.revoke",
                target=previous_path,
                unit_path=previous_path,
                before={"id": record.id},
            )
            continue
        if record.unit_path == previous_path and new_path is not None:
            record.unit_path = new_path
        await outbox.add(
            session,
            subject=subjects.IDENTITY_DELEGATION_GRANTED,
            payload=events_pb2.DelegationGranted(delegation=_payload(record)),
            actor=actor.subject,
        )
        audit.record(
            session,
            actor=actor,
            action="delegation.follow_unit",
            target=record.id,
            unit_path=record.unit_path,
            before=before,
            after={"unit_path": record.unit_path, "target_unit_path": record.target_unit_path},
        )
