"""An HQ unit records the moves within the unit of its people who lead none of it (the domain's tier
table: "intra-unit position moves of non-leaders"). A placement written through that tier alone is
refused for a person holding a leadership post on the day: the appointment in force then, its
term run out or not (a head whose term ended keeps the post until the decision that follows)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.days import vietnam_today
from qlcb_common.errors import PermissionDenied
from qlcb_common.record_sections import RecordSection
from qlcb_personnel.persons.models import Person
from qlcb_personnel.persons.service import record_ref
from qlcb_personnel.record.models import RecordEntry


async def require_not_leading(
    session: AsyncSession,
    actor: Principal,
    delegations: Sequence[Delegation],
    section: RecordSection,
    path: str,
    person: Person,
) -> None:
    if reason := await refusal(session, actor, delegations, section, path, person):
        raise PermissionDenied(reason)


async def refusal(
    session: AsyncSession,
    actor: Principal,
    delegations: Sequence[Delegation],
    section: RecordSection,
    path: str,
    person: Person,
) -> str | None:
    """Why the caller may not write the section of this person's record, if it is a placement the
    caller writes through the placements-only tier and the person leads; None otherwise."""
    if section.authz is not Section.WORK_HISTORY or section.moves_beyond_placements:
        return None
    if not authz.placements_only(actor, section.authz, Action.UPDATE, path, record_ref(person), delegations):
        return None
    today = vietnam_today()
    held = await session.scalar(
        select(RecordEntry)
        .where(
            RecordEntry.person_id == person.id,
            RecordEntry.section == "appointments",
            RecordEntry.superseded_at.is_(None),
            RecordEntry.retracted.is_(false()),
            RecordEntry.valid_from <= today,
            or_(RecordEntry.valid_to.is_(None), RecordEntry.valid_to >= today),
        )
        .order_by(RecordEntry.valid_from.desc())
        .limit(1)
    )
    if held is None or held.valid_from is None:
        return None
    post = held.values.get("post") or held.values.get("post_code") or "lãnh đạo"
    return (
        "Cấp của tài khoản chỉ ghi điều động trong đơn vị của người không giữ chức vụ lãnh đạo: "
        f"{person.full_name} đang giữ chức vụ {post} (bổ nhiệm từ {held.valid_from:%d/%m/%Y})"
    )
