"""Delegations as every enforcing service sees them: a local copy kept from identity's events,
read per request for the caller's unit, so a grant or revocation is in force within seconds.

An event is applied only if identity's own API could have produced it (`violations`, checked by
the consumer through `events.contracts`): whatever else reaches the stream is dead-lettered,
counted, and changes nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Date, MetaData, String, Table, Text, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.identity.v1 import events_pb2
from qlcb_common.auth import Principal
from qlcb_common.authz.matrix import Action, Section
from qlcb_common.authz.policy import DELEGABLE_TIERS, Delegation
from qlcb_common.days import vietnam_today
from qlcb_common.errors import FieldViolation
from qlcb_common.events import subjects
from qlcb_common.events.envelope import PoisonMessage, unpack
from qlcb_common.identifiers import UNIT_PATH, UUID

DELEGABLE_SECTIONS = frozenset(Section) - {Section.BACKUP, Section.CATALOG}
DELEGABLE_ACTIONS = frozenset(Action) - {Action.OPERATE}
MAX_PERSONS = 500


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def violations(message: events_pb2.Delegation, prefix: str = "delegation.") -> list[FieldViolation]:
    """What is wrong with a delegation that identity's API would not have granted."""
    tiers, sections, actions = set(message.tiers), set(message.sections), set(message.actions)
    found: list[FieldViolation] = []

    def bad(field: str, description: str) -> None:
        found.append(FieldViolation(prefix + field, description))

    if not UUID.fullmatch(message.id):
        bad("id", "not a UUID")
    if not UNIT_PATH.fullmatch(message.unit_path):
        bad("unit_path", "not a unit path")
    if not tiers or not tiers <= {t.value for t in DELEGABLE_TIERS}:
        bad("tiers", f"one or more of {sorted(t.value for t in DELEGABLE_TIERS)}")
    if not sections or not sections <= {s.value for s in DELEGABLE_SECTIONS}:
        bad("sections", f"one or more of {sorted(s.value for s in DELEGABLE_SECTIONS)}")
    if not actions or not actions <= {a.value for a in DELEGABLE_ACTIONS}:
        bad("actions", f"one or more of {sorted(a.value for a in DELEGABLE_ACTIONS)}")
    if message.target_unit_path and not UNIT_PATH.fullmatch(message.target_unit_path):
        bad("target_unit_path", "not a unit path")
    if not message.target_unit_path and not message.person_ids:
        bad("target_unit_path", "neither a unit subtree nor persons")
    if len(message.person_ids) > MAX_PERSONS or not all(UUID.fullmatch(p) for p in message.person_ids):
        bad("person_ids", f"at most {MAX_PERSONS} UUIDs")
    valid_from, valid_to = _date(message.valid_from), _date(message.valid_to)
    if valid_from is None or valid_from.isoformat() != message.valid_from:
        bad("valid_from", "not a date YYYY-MM-DD")
    elif message.valid_to and (valid_to is None or valid_to.isoformat() != message.valid_to or valid_to < valid_from):
        bad("valid_to", "not a date YYYY-MM-DD from valid_from on")
    return found


def revocation_violations(message: events_pb2.DelegationRevoked) -> list[FieldViolation]:
    return [] if UUID.fullmatch(message.id) else [FieldViolation("id", "not a UUID")]


def check(message: events_pb2.Delegation) -> Delegation:
    """The delegation an event states, if identity's API would have accepted it."""
    if found := violations(message):
        raise PoisonMessage(found)
    return Delegation(
        grantee_unit_path=message.unit_path,
        tiers=frozenset(message.tiers),
        sections=frozenset(Section(s) for s in message.sections),
        actions=frozenset(Action(a) for a in message.actions),
        target_unit_path=message.target_unit_path or None,
        person_ids=frozenset(message.person_ids),
        valid_from=date.fromisoformat(message.valid_from),
        valid_to=_date(message.valid_to),
    )


def _words(values: frozenset[str] | frozenset[Section] | frozenset[Action]) -> str:
    return " ".join(sorted(str(v) for v in values))


class DelegationCopy:
    def __init__(self, metadata: MetaData) -> None:
        """The copy whose table lives in `metadata`, defined there the first time."""
        existing = metadata.tables.get("delegations")
        self.table = existing if existing is not None else self._define(metadata)

    @staticmethod
    def _define(metadata: MetaData) -> Table:
        return Table(
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
            if found := revocation_violations(revoked):
                raise PoisonMessage(found)
            await session.execute(delete(self.table).where(self.table.c.id == revoked.id))

    async def for_caller(self, session: AsyncSession, principal: Principal, on: date | None = None) -> list[Delegation]:
        """The delegations to the caller's unit in force today (or `on`); `Delegation.serves` then
        checks the caller's tiers and the section and action of the call. None, without reading,
        for a caller of no unit or of no tier a delegation can be for (a copied delegation's tiers
        are delegable ones: `violations`), such as the sector's tiers."""
        if not principal.unit_path or principal.roles.isdisjoint(DELEGABLE_TIERS):
            return []
        today = on or vietnam_today()
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
