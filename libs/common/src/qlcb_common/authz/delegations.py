"""Delegations as every enforcing service sees them: a local copy kept from identity's events,
read per request for the caller's unit, so a grant or revocation is in force within seconds.

An event is applied only if identity's own API could have produced it (`check`): whatever else
reaches the stream is rejected as poison, counted, and changes nothing.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import Column, Date, MetaData, String, Table, Text, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.identity.v1 import events_pb2
from qlcb_common.auth import Principal
from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import DELEGABLE_TIERS, Delegation
from qlcb_common.events import subjects
from qlcb_common.events.envelope import PoisonMessage, unpack

UNIT_PATH = re.compile(r"(/[A-Z0-9][A-Z0-9_-]{1,31})+")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DELEGABLE_SECTIONS = frozenset(Section) - {Section.BACKUP, Section.CATALOG}
DELEGABLE_ACTIONS = frozenset(Action) - {Action.OPERATE}
MAX_PERSONS = 500


def _date(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PoisonMessage(f"delegation {name} {value!r} is not a date") from None


def check(message: events_pb2.Delegation) -> Delegation:
    """The delegation an event states, if identity's API would have accepted it."""
    tiers, sections, actions = set(message.tiers), set(message.sections), set(message.actions)
    problems = []
    if not UUID.fullmatch(message.id):
        problems.append("id")
    if not UNIT_PATH.fullmatch(message.unit_path):
        problems.append("unit_path")
    if not tiers or not tiers <= {t.value for t in DELEGABLE_TIERS}:
        problems.append("tiers")
    if not sections or not sections <= {s.value for s in DELEGABLE_SECTIONS}:
        problems.append("sections")
    if not actions or not actions <= {a.value for a in DELEGABLE_ACTIONS}:
        problems.append("actions")
    if message.target_unit_path and not UNIT_PATH.fullmatch(message.target_unit_path):
        problems.append("target_unit_path")
    if not message.target_unit_path and not message.person_ids:
        problems.append("target_unit_path/person_ids")
    if len(message.person_ids) > MAX_PERSONS or not all(UUID.fullmatch(p) for p in message.person_ids):
        problems.append("person_ids")
    valid_from, valid_to = _date(message.valid_from, "valid_from"), _date(message.valid_to, "valid_to")
    if valid_from is None or (valid_to is not None and valid_to < valid_from):
        problems.append("valid_from/valid_to")
    if problems:
        raise PoisonMessage(f"delegation event refused: bad {', '.join(problems)}")
    return Delegation(
        grantee_unit_path=message.unit_path,
        tiers=frozenset(tiers),
        sections=frozenset(Section(s) for s in sections),
        actions=frozenset(Action(a) for a in actions),
        target_unit_path=message.target_unit_path or None,
        person_ids=frozenset(message.person_ids),
        valid_from=valid_from,
        valid_to=valid_to,
    )


def _words(values: frozenset[str] | frozenset[Section] | frozenset[Action]) -> str:
    return " ".join(sorted(str(v) for v in values))


class DelegationCopy:
    def __init__(self, metadata: MetaData) -> None:
        self.table = Table(
            "delegations",
            metadata,
            Column("id", String(36), primary_key=True),
            Column("unit_path", String(1024), nullable=False, index=True),
            Column("tiers", String(255), nullable=False),
            Column("sections", String(255), nullable=False),
            Column("actions", String(64), nullable=False),
            Column("target_unit_path", String(1024)),
            Column("person_ids", Text, nullable=False),
            Column("valid_from", Date, nullable=False),
            Column("valid_to", Date),
        )

    async def apply(self, session: AsyncSession, envelope: Envelope) -> None:
        """Handler for identity's delegation events (inside the consumer's transaction)."""
        if envelope.subject == subjects.IDENTITY_DELEGATION_GRANTED:
            message = unpack(envelope, events_pb2.DelegationGranted).delegation
            granted = check(message)
            await session.execute(delete(self.table).where(self.table.c.id == message.id))
            await session.execute(
                self.table.insert().values(
                    id=message.id,
                    unit_path=granted.grantee_unit_path,
                    tiers=_words(granted.tiers),
                    sections=_words(granted.sections),
                    actions=_words(granted.actions),
                    target_unit_path=granted.target_unit_path,
                    person_ids=_words(granted.person_ids),
                    valid_from=granted.valid_from,
                    valid_to=granted.valid_to,
                )
            )
        elif envelope.subject == subjects.IDENTITY_DELEGATION_REVOKED:
            revoked = unpack(envelope, events_pb2.DelegationRevoked)
            if not UUID.fullmatch(revoked.id):
                raise PoisonMessage("delegation revocation refused: bad id")
            await session.execute(delete(self.table).where(self.table.c.id == revoked.id))

    async def for_caller(self, session: AsyncSession, principal: Principal) -> list[Delegation]:
        """The delegations to the caller's unit in force today; `Delegation.serves` then checks
        the caller's tiers and the section and action of the call."""
        if not principal.unit_path:
            return []
        today = date.today()
        t = self.table
        rows = await session.execute(
            select(t).where(
                t.c.unit_path == principal.unit_path,
                t.c.valid_from <= today,
                or_(t.c.valid_to.is_(None), t.c.valid_to >= today),
            )
        )
        return [
            Delegation(
                grantee_unit_path=r.unit_path,
                tiers=frozenset(r.tiers.split()),
                sections=frozenset(Section(s) for s in r.sections.split()),
                actions=frozenset(Action(a) for a in r.actions.split()),
                target_unit_path=r.target_unit_path,
                person_ids=frozenset(r.person_ids.split()),
                valid_from=r.valid_from,
                valid_to=r.valid_to,
            )
            for r in rows
        ]
