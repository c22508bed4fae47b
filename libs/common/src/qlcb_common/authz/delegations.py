"""Delegations as every enforcing service sees them: a local copy kept from identity's events,
read per request for the caller's unit, so a grant or revocation is in force within seconds."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.identity.v1 import events_pb2
from qlcb_common.auth import Principal
from qlcb_common.authz.matrix import Action, Scope, Section
from qlcb_common.authz.policy import Delegation
from qlcb_common.events import subjects
from qlcb_common.events.envelope import unpack


class DelegationCopy:
    def __init__(self, metadata: MetaData) -> None:
        self.table = Table(
            "delegations",
            metadata,
            Column("id", String(36), primary_key=True),
            Column("unit_path", String(1024), nullable=False, index=True),
            Column("section", String(32), nullable=False),
            Column("action", String(16), nullable=False),
            Column("scope", String(16), nullable=False),
        )

    async def apply(self, session: AsyncSession, envelope: Envelope) -> None:
        """Handler for identity's delegation events (inside the consumer's transaction)."""
        if envelope.subject == subjects.IDENTITY_DELEGATION_GRANTED:
            granted = unpack(envelope, events_pb2.DelegationGranted).delegation
            await session.execute(delete(self.table).where(self.table.c.id == granted.id))
            await session.execute(
                self.table.insert().values(
                    id=granted.id,
                    unit_path=granted.unit_path,
                    section=granted.section,
                    action=granted.action,
                    scope=granted.scope,
                )
            )
        elif envelope.subject == subjects.IDENTITY_DELEGATION_REVOKED:
            revoked = unpack(envelope, events_pb2.DelegationRevoked)
            await session.execute(delete(self.table).where(self.table.c.id == revoked.id))

    async def for_caller(self, session: AsyncSession, principal: Principal) -> list[Delegation]:
        if not principal.unit_path:
            return []
        rows = await session.execute(select(self.table).where(self.table.c.unit_path == principal.unit_path))
        return [Delegation(r.unit_path, Section(r.section), Action(r.action), Scope[r.scope.upper()]) for r in rows]
