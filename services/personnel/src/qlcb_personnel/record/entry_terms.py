"""What an entry must say for the caller to write it, where its tier gives the section only for some
entries: an HQ unit's placement names no leadership post (ADR 0059), and the sector HR's entry in a
Cục's records results from the sector's decision (ADR 0063). The section's right itself is the
matrix's (`authz.require_record_write`); whether the person leads is `leadership.refusal`'s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation
from qlcb_common.errors import FieldViolation, PermissionDenied
from qlcb_common.record_sections import RecordSection
from qlcb_personnel.persons.models import Person
from qlcb_personnel.persons.service import record_ref
from qlcb_personnel.record import leadership, sector_decisions
from qlcb_personnel.record.models import RecordEntry
from qlcb_personnel.record.sector_decisions import SectorDecisionsOnly


@dataclass(frozen=True)
class EntryTerms:
    no_leadership_post: bool
    cites: SectorDecisionsOnly | None

    def refusal(self, values: Mapping[str, object], number: str | None, body: str | None) -> FieldViolation | None:
        """Why an entry of these values citing decision `number` of `body` may not be written, and
        the field it is about."""
        if self.no_leadership_post and (reason := leadership.post_refusal(values)):
            return FieldViolation("values.post", reason)
        if self.cites is not None and (reason := self.cites.refusal(number, body)):
            return FieldViolation("decision.body", reason)
        return None

    def require(self, values: Mapping[str, object], number: str | None, body: str | None, where: str = "") -> None:
        if refused := self.refusal(values, number, body):
            raise PermissionDenied(f"{where}{refused.description}")

    def require_touchable(self, entry: RecordEntry) -> None:
        """Refuses to close or reopen `entry` by the caller's write: an HQ unit's placement may not
        end, nor a retraction bring back, a leader's (the sector's HR, by the sector's decision, ends
        what the Cục recorded before it)."""
        if self.no_leadership_post and (reason := leadership.post_refusal(entry.values)):
            raise PermissionDenied(f"Mục {entry.entry_id}: {reason}")


async def of(
    session: AsyncSession,
    actor: Principal,
    delegations: Sequence[Delegation],
    section: RecordSection,
    path: str,
    person: Person,
) -> EntryTerms | None:
    """The terms of the caller's entries in this section of this person's record; None if its right
    to the section covers every entry."""
    no_leadership_post = leadership.names_placements(section) and authz.placements_only(
        actor, section.authz, Action.UPDATE, path, record_ref(person), delegations
    )
    cites = await sector_decisions.limit(session, actor, delegations, section, path, person)
    if not no_leadership_post and cites is None:
        return None
    return EntryTerms(no_leadership_post, cites)
