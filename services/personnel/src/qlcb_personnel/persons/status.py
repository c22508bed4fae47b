"""Retirement, resignation, death, a move out of the sector and reinstatement (R-PER-3): dated
status rows and events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import events_pb2, personnel_pb2
from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.errors import FailedPrecondition, FieldViolation, InvalidArgument
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_personnel.deadlines import service as deadlines
from qlcb_personnel.decisions import parse_decision
from qlcb_personnel.persons.messages import ACTIVE, to_proto
from qlcb_personnel.persons.models import Person, PersonStatusEntry
from qlcb_personnel.persons.service import record_ref, visible_person
from qlcb_personnel.search import days, facts

SUBJECT_OF = {
    "PERSON_STATUS_RETIRED": subjects.PERSONNEL_PERSON_RETIRED,
    "PERSON_STATUS_RESIGNED": subjects.PERSONNEL_PERSON_RESIGNED,
    "PERSON_STATUS_DECEASED": subjects.PERSONNEL_PERSON_DIED,
    "PERSON_STATUS_MOVED_OUT": subjects.PERSONNEL_PERSON_MOVED_OUT,
    ACTIVE: subjects.PERSONNEL_PERSON_REINSTATED,
}


async def current(session: AsyncSession, person_ids: Sequence[str]) -> dict[str, PersonStatusEntry]:
    """The latest status row of each person that has one."""
    rows = await session.scalars(
        select(PersonStatusEntry)
        .where(PersonStatusEntry.person_id.in_(list(person_ids)))
        .order_by(PersonStatusEntry.valid_from, PersonStatusEntry.recorded_at)
    )
    return {row.person_id: row for row in rows}


async def change_status(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    person_id: str,
    status: str,
    effective_date: str,
    decision: str,
) -> tuple[Person, str]:
    """Records the new status; returns the person and the status they had before."""
    person, path = await visible_person(session, actor=actor, delegations=delegations, person_id=person_id)
    authz.require(actor, Section.MOVEMENT, Action.UPDATE, path, person=record_ref(person), delegations=delegations)
    violations = []
    if status not in SUBJECT_OF:
        violations.append(
            FieldViolation(
                "status", "Tình trạng phải là nghỉ hưu, thôi việc, từ trần, chuyển ra ngoài ngành hoặc đang công tác"
            )
        )
    decided = parse_decision(effective_date, decision, violations)
    if violations or decided is None:
        raise InvalidArgument(violations)
    previous, _ = await set_status(
        session,
        outbox=outbox,
        actor=actor,
        person=person,
        status=status,
        effective=decided.effective,
        decision=decided.number,
    )
    return person, previous


async def set_status(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    person: Person,
    status: str,
    effective: date,
    decision: str,
    entered: tuple[datetime, str] | None = None,
    measured: bool = True,
) -> tuple[str, PersonStatusEntry]:
    """Records `status` from `effective` (authorization is the caller's); returns the status the
    person had before and the new status row. Refuses a change to the same status, a departure of someone already gone
    and a date before the current status's.

    The change is measured against the deadline for entering data (R-PER-4) as entered `entered`
    (when and by whom: a decision's creation, applied maybe days later), or now by the actor; a
    cancellation's restoring `measured=False` is not a change of its own."""
    latest = (await current(session, [person.id])).get(person.id)
    previous = latest.status if latest else ACTIVE
    if status == previous:
        raise FailedPrecondition(f"Hồ sơ đã ở tình trạng {previous}")
    if previous != ACTIVE and status != ACTIVE:
        raise FailedPrecondition(f"Hồ sơ đang ở tình trạng {previous}: cần khôi phục trước")
    if latest is not None and effective < latest.valid_from:
        raise InvalidArgument.single("effective_date", f"Không được trước ngày {latest.valid_from}")
    row = PersonStatusEntry(
        id=str(uuid.uuid4()),
        person_id=person.id,
        status=status,
        valid_from=effective,
        decision=decision,
        recorded_at=datetime.now(UTC),
        recorded_by=actor.subject,
    )
    session.add(row)
    await session.flush()
    if measured:
        at, by = entered or (row.recorded_at, actor.subject)
        await deadlines.follow_change(
            session,
            person=person,
            section=deadlines.STATUS_SECTION,
            change_id=row.id,
            effective=effective,
            entered_at=at,
            entered_by=by,
        )
    await facts.status_changed(session, row_id=row.id, person_id=person.id, status=status, since=effective)
    await days.refresh(session, [person.id])
    await outbox.add(
        session,
        subject=SUBJECT_OF[status],
        payload=events_pb2.PersonStatusChanged(
            person=to_proto(person, status),
            previous_status=personnel_pb2.PersonStatus.Value(previous),
            effective_date=effective.isoformat(),
            decision=decision,
        ),
        actor=actor.subject,
    )
    return previous, row
