"""The transfer hand-off (R-PER-3): the old unit sends the record, the new unit accepts it and
takes the person over, or declines and the person stays; until then the old unit may withdraw
it. Each side acts within its own scope for the work history (quá trình công tác) section."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import events_pb2, personnel_pb2
from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from qlcb_common.events.outbox import Outbox
from qlcb_common.text import clean
from qlcb_personnel.audit import trail
from qlcb_personnel.deadlines import service as deadlines
from qlcb_personnel.decisions import Decision, parse_decision
from qlcb_personnel.persons import status
from qlcb_personnel.persons.messages import ACTIVE
from qlcb_personnel.persons.models import Person, Transfer
from qlcb_personnel.persons.moves import move_person
from qlcb_personnel.persons.service import record_ref, visible_person
from qlcb_personnel.units import history
from qlcb_personnel.units.models import Unit, in_subtree

SENT, ACCEPTED = "TRANSFER_STATUS_SENT", "TRANSFER_STATUS_ACCEPTED"
DECLINED, WITHDRAWN = "TRANSFER_STATUS_DECLINED", "TRANSFER_STATUS_WITHDRAWN"
MAX_REASON = 1000


async def _require_active(session: AsyncSession, person: Person) -> None:
    latest = (await status.current(session, [person.id])).get(person.id)
    if latest is not None and latest.status != ACTIVE:
        raise FailedPrecondition(f"Hồ sơ đang ở tình trạng {latest.status}: không điều động được")


async def send(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    person_id: str,
    to_unit_id: str,
    effective_date: str,
    decision: str,
) -> Transfer:
    person, _path = await visible_person(session, actor=actor, delegations=delegations, person_id=person_id)
    from_unit = await session.get(Unit, person.unit_id)
    assert from_unit is not None  # a foreign key
    authz.require(
        actor, Section.MOVEMENT, Action.UPDATE, from_unit.path, person=record_ref(person), delegations=delegations
    )
    violations: list[FieldViolation] = []
    to_unit = await session.get(Unit, to_unit_id) if to_unit_id else None
    if to_unit is None:
        violations.append(FieldViolation("to_unit_id", "Đơn vị nhận không tồn tại"))
    elif to_unit.id == from_unit.id:
        violations.append(FieldViolation("to_unit_id", "Đơn vị nhận trùng đơn vị hiện tại"))
    decided = parse_decision(effective_date, decision, violations)
    if violations or to_unit is None or decided is None:
        raise InvalidArgument(violations)
    await history.require_existing(session, [to_unit], "tiếp nhận cán bộ")
    await _require_active(session, person)
    if await session.scalar(select(Transfer.id).where(Transfer.person_id == person.id, Transfer.status == SENT)):
        raise FailedPrecondition("Hồ sơ đang chờ đơn vị khác tiếp nhận")
    transfer = Transfer(
        id=str(uuid.uuid4()),
        person_id=person.id,
        from_unit_id=from_unit.id,
        to_unit_id=to_unit.id,
        status=SENT,
        effective_date=decided.effective,
        decision=decided.number,
        sent_by=actor.subject,
        sent_at=datetime.now(UTC),
    )
    session.add(transfer)
    await session.flush()
    await deadlines.follow_change(
        session,
        person=person,
        section=deadlines.TRANSFER_SECTION,
        change_id=transfer.id,
        effective=transfer.effective_date,
        entered_at=transfer.sent_at,
        entered_by=actor.subject,
    )
    return transfer


async def _open(
    session: AsyncSession, actor: Principal, delegations: Sequence[Delegation], transfer_id: str, *, sender: bool
) -> Transfer:
    """The transfer, if the caller may act on it for its side (the sending unit or the
    receiving one) and it is still open."""
    transfer = await session.get(Transfer, transfer_id) if transfer_id else None
    if transfer is None:
        raise NotFound(f"Không có yêu cầu điều động {transfer_id!r}")
    unit = await session.get(Unit, transfer.from_unit_id if sender else transfer.to_unit_id)
    assert unit is not None  # a foreign key
    authz.require(actor, Section.MOVEMENT, Action.UPDATE, unit.path, delegations=delegations)
    if transfer.status != SENT:
        raise FailedPrecondition(f"Yêu cầu điều động đã ở trạng thái {transfer.status}")
    return transfer


async def _close(
    session: AsyncSession, transfer: Transfer, actor: Principal, new_status: str, reason: str | None
) -> None:
    """Closes an open transfer; of two deciders racing, the second gets FAILED_PRECONDITION."""
    now = datetime.now(UTC)
    result = await session.execute(
        update(Transfer)
        .where(Transfer.id == transfer.id, Transfer.status == SENT)
        .values(status=new_status, decided_by=actor.subject, decided_at=now, decline_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise FailedPrecondition("Yêu cầu điều động vừa được xử lý")
    await trail.note_update(
        session,
        target="transfers",
        target_id=transfer.id,
        person_id=transfer.person_id,
        changes={
            "status": [SENT, new_status],
            "decided_by": [None, actor.subject],
            "decided_at": [None, now],
            "decline_reason": [None, reason],
        },
    )
    await session.refresh(transfer)


async def accept(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    transfer_id: str,
) -> tuple[Transfer, Person]:
    transfer = await _open(session, actor, delegations, transfer_id, sender=False)
    person = await session.get(Person, transfer.person_id)
    from_unit = await session.get(Unit, transfer.from_unit_id)
    to_unit = await session.get(Unit, transfer.to_unit_id)
    assert person is not None  # foreign keys
    assert from_unit is not None
    assert to_unit is not None
    if person.unit_id != from_unit.id:
        raise FailedPrecondition("Cán bộ đã chuyển khỏi đơn vị gửi sau khi gửi hồ sơ: cần gửi lại")
    await _require_active(session, person)
    await history.require_existing(session, [to_unit], "tiếp nhận cán bộ")
    await _close(session, transfer, actor, ACCEPTED, None)
    await move_person(
        session,
        outbox=outbox,
        actor=actor,
        person=person,
        from_unit=from_unit,
        to_unit=to_unit,
        reason=events_pb2.MOVE_REASON_TRANSFER,
        decided=Decision(transfer.decision, transfer.effective_date),
        transfer_id=transfer.id,
    )
    return transfer, person


async def _end(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation],
    transfer_id: str,
    reason: str,
    sender: bool,
) -> Transfer:
    """Closes an open transfer without moving anyone: the receiving unit declines it, or the
    sending unit withdraws it (after which the record can be sent again)."""
    reason = clean(reason)
    if not reason or len(reason) > MAX_REASON:
        what = "thu hồi" if sender else "từ chối"
        raise InvalidArgument.single("reason", f"Lý do {what}: 1–{MAX_REASON} ký tự")
    transfer = await _open(session, actor, delegations, transfer_id, sender=sender)
    await _close(session, transfer, actor, WITHDRAWN if sender else DECLINED, reason)
    await deadlines.forget(session, transfer.id)
    return transfer


async def decline(
    session: AsyncSession, *, actor: Principal, delegations: Sequence[Delegation] = (), transfer_id: str, reason: str
) -> Transfer:
    return await _end(
        session, actor=actor, delegations=delegations, transfer_id=transfer_id, reason=reason, sender=False
    )


async def withdraw(
    session: AsyncSession, *, actor: Principal, delegations: Sequence[Delegation] = (), transfer_id: str, reason: str
) -> Transfer:
    return await _end(
        session, actor=actor, delegations=delegations, transfer_id=transfer_id, reason=reason, sender=True
    )


async def list_for_unit(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    unit_id: str,
    direction: str,
    status_filter: str,
    include_subtree: bool = False,
) -> list[Transfer]:
    unit = await session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        raise NotFound(f"Không có đơn vị {unit_id!r}")
    authz.require(actor, Section.MOVEMENT, Action.READ, unit.path, delegations=delegations)
    # The units below are listed only as far as the caller reads movements there (a unit's own scope
    # reaches no further than the unit).
    units = (
        select(Unit.id).where(
            in_subtree(unit.path),
            authz.sql_scope(actor, Section.MOVEMENT, Action.READ, Unit.path, delegations=delegations),
        )
        if include_subtree
        else select(Unit.id).where(Unit.id == unit.id)
    )
    sides = {
        "TRANSFER_DIRECTION_INCOMING": [Transfer.to_unit_id.in_(units)],
        "TRANSFER_DIRECTION_OUTGOING": [Transfer.from_unit_id.in_(units)],
    }.get(direction, [Transfer.to_unit_id.in_(units), Transfer.from_unit_id.in_(units)])
    query = select(Transfer).where(or_(*sides))
    if status_filter != "TRANSFER_STATUS_UNSPECIFIED":
        query = query.where(Transfer.status == status_filter)
    return list((await session.scalars(query.order_by(Transfer.sent_at.desc()))).all())


def to_proto(transfer: Transfer) -> personnel_pb2.Transfer:
    return personnel_pb2.Transfer(
        id=transfer.id,
        person_id=transfer.person_id,
        from_unit_id=transfer.from_unit_id,
        to_unit_id=transfer.to_unit_id,
        status=personnel_pb2.TransferStatus.Value(transfer.status),
        effective_date=transfer.effective_date.isoformat(),
        decision=transfer.decision,
        sent_by=transfer.sent_by,
        sent_at=transfer.sent_at.isoformat(),
        decided_by=transfer.decided_by or "",
        decided_at=transfer.decided_at.isoformat() if transfer.decided_at else "",
        decline_reason=transfer.decline_reason or "",
    )
