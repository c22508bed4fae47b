"""An HQ unit records the moves within the unit of its people who lead none of it (the domain's tier
table: "intra-unit position moves of non-leaders"). A placement written through that tier alone is
refused for a person holding a leadership post on the day: the appointment in force then, its
term run out or not (a head whose term ended keeps the post until the decision that follows)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sqlalchemy import false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.days import vietnam_today
from qlcb_common.errors import PermissionDenied
from qlcb_common.record_sections import RecordSection
from qlcb_common.text import clean
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
    if not names_placements(section):
        return None
    if not authz.placements_only(actor, section.authz, Action.UPDATE, path, record_ref(person), delegations):
        return None
    today = vietnam_today()
    in_force = (
        RecordEntry.person_id == person.id,
        RecordEntry.superseded_at.is_(None),
        RecordEntry.retracted.is_(false()),
        RecordEntry.valid_from <= today,
        or_(RecordEntry.valid_to.is_(None), RecordEntry.valid_to >= today),
    )
    latest = (RecordEntry.valid_from.desc(),)
    held = await session.scalar(
        select(RecordEntry).where(RecordEntry.section == "appointments", *in_force).order_by(*latest).limit(1)
    )
    if held is not None and held.valid_from is not None:
        post = held.values.get("post") or held.values.get("post_code") or "lãnh đạo"
        return f"{_ONLY_NON_LEADERS}{person.full_name} đang giữ chức vụ {post} (bổ nhiệm từ {held.valid_from:%d/%m/%Y})"
    # A leader recorded by a placement alone, with no appointment on record, leads all the same.
    placed = await session.scalar(
        select(RecordEntry).where(RecordEntry.section == "placements", *in_force).order_by(*latest).limit(1)
    )
    if placed is None or placed.valid_from is None or not _names_a_leader(placed.values.get("post")):
        return None
    return (
        f"{_ONLY_NON_LEADERS}{person.full_name} đang giữ chức vụ {clean(str(placed.values['post']))} "
        f"(theo quá trình công tác từ {placed.valid_from:%d/%m/%Y})"
    )


_WORD = re.compile(r"\w+")
_ONLY_NON_LEADERS = "Cấp của tài khoản chỉ ghi điều động trong đơn vị của người không giữ chức vụ lãnh đạo: "

LEADERSHIP_WORDS = ("trưởng", "phó", "chánh", "giám đốc", "chủ tịch", "bí thư", "chủ nhiệm")
"""Words that make a post a leader's in Vietnamese titles: every catalogued leadership post says
"trưởng" or "chánh" (Cục trưởng, Trưởng phòng, Đội trưởng, Chánh Văn phòng), their deputies "phó";
a public-service unit's head is its "giám đốc"."""


def post_refusal(values: Mapping[str, object]) -> str | None:
    """Why a placement written through the placements-only tier may not name its post: it names a
    leadership post, which an appointment records (by the administration above); None if it may."""
    post = values.get("post")
    if not _names_a_leader(post):
        return None
    return f"{_ONLY_NON_LEADERS}“{clean(str(post))}” là chức vụ lãnh đạo, ghi bằng quyết định bổ nhiệm của cấp trên"


def _names_a_leader(post: object) -> bool:
    """Whether the post's words, read apart from any punctuation ("P.Trưởng phòng", "(Đội
    trưởng)", "Trưởng/Phó phòng"), include a leader's."""
    if not isinstance(post, str):
        return False
    words = " " + " ".join(_WORD.findall(clean(post).casefold())) + " "
    return any(f" {word} " in words for word in LEADERSHIP_WORDS)


def names_placements(section: RecordSection) -> bool:
    """Whether the section is the part of work history a placements-only tier writes."""
    return section.authz is Section.WORK_HISTORY and not section.moves_beyond_placements
