"""The people's particulars reports gave out (ADR 0048): a list form's rows, shown or exported, a
page of the people behind a cell of a form, and a regime's reports laid out as a file (their tables
may name people), each as one entry of the audit trail, as reports recorded
it in the transaction that served the read. The entry is the reader's, at the instant of the read,
about the unit the form was asked for, naming who held a purpose account then as personnel's copy of
the holder history tells when the entry is written (ADR 0047); it arrives within moments, and its id
is the event's, so a copy of the event can add no second entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.reports.v1 import events_pb2
from qlcb_common.events import subjects
from qlcb_common.events.envelope import unpack
from qlcb_personnel.audit import trail
from qlcb_personnel.audit.models import AuditEntry

FORM, PEOPLE, REPORT = "statistics_form", "statistics_people", "report"
NOTED = {
    subjects.REPORTS_STATISTICS_FORM_READ: (trail.READ, FORM),
    subjects.REPORTS_STATISTICS_FORM_EXPORTED: (trail.EXPORT, FORM),
    subjects.REPORTS_STATISTICS_PEOPLE_READ: (trail.READ, PEOPLE),
    subjects.REPORTS_REPORT_EXPORTED: (trail.EXPORT, REPORT),
}
"""The action and target of the entry each subject makes."""


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    """Handler of `subjects.REPORTS_STATISTICS_READS` (inside the consumer's transaction; the contract
    has been checked)."""
    if await session.get(AuditEntry, envelope.event_id) is not None:
        return  # a copy of an event already written, past the inbox (another consumer, the inbox lost)
    read = unpack(envelope, events_pb2.StatisticsRead)
    action, target = NOTED[envelope.subject]
    details: dict[str, Any] = {
        "form": read.form,
        "unit_id": read.unit_id,
        "as_of": read.as_of,
        "format": read.format,
        "rows": read.people,
    }
    if target == PEOPLE:
        details |= {
            "row": read.row,
            "column": read.column,
            "page": read.page,
            "total": read.total,
            "person_ids": list(read.person_ids),
        }
    read_at = datetime.fromisoformat(read.read_at)
    holder = await session.run_sync(trail.holder_at, read.account, read_at)
    session.add(
        AuditEntry(
            id=envelope.event_id,
            occurred_at=read_at,
            transaction_id=envelope.event_id,
            account=read.account,
            subject=read.subject,
            tiers=",".join(sorted(read.tiers)),
            action=action,
            target=target,
            target_id=read.form,
            person_id=None,
            unit_path=read.unit_path,
            details=details,
            holder_name=holder.name,
            holder_personal_id=holder.personal_id,
            holder_folded=holder.folded,
        )
    )
