"""The holder history told to the services that keep a copy of it (personnel's and reports' audit)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.identity.v1 import events_pb2
from qlcb_common.auth import Principal
from qlcb_common.events import subjects
from qlcb_common.events.outbox import Outbox
from qlcb_identity.purpose_accounts.models import HolderAssignment, PurposeAccount


async def publish(
    session: AsyncSession, outbox: Outbox, actor: Principal, account: PurposeAccount, held: HolderAssignment
) -> None:
    """Tells the services that audit what accounts do who held this one when (personnel's audit
    names the holder of a purpose account on the day of each entry, R-AUD-1): each holding as it
    begins and as it ends, whatever ends it (a hand-over, a release, the holder leaving, the unit
    dissolved)."""
    await outbox.add(
        session,
        subject=subjects.IDENTITY_HOLDER_RECORDED,
        payload=events_pb2.HolderRecorded(
            assignment=events_pb2.HolderAssignment(
                id=held.id,
                account_username=account.username,
                unit_path=account.unit_path,
                holder_name=held.holder_name,
                holder_personal_id=held.holder_personal_id or "",
                valid_from=held.valid_from.isoformat(),
                valid_to=held.valid_to.isoformat() if held.valid_to else "",
            )
        ),
        actor=actor.subject,
    )
