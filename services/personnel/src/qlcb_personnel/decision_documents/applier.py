"""Applies pending decisions on their effective date, in the calendar of Vietnam (UTC+7, no
daylight saving), so that a decision for the 1st takes effect from midnight there."""

from __future__ import annotations

import asyncio
from datetime import date

import structlog
from prometheus_client import Counter

from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.days import vietnam_today
from qlcb_common.db import Database
from qlcb_common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from qlcb_common.events.outbox import Outbox
from qlcb_common.shutdown import Stopping
from qlcb_personnel.decision_documents import service

DECISIONS_APPLIED = Counter(
    "qlcb_personnel_decisions_applied_total",
    "Pending decisions the service applied on their date, by outcome (applied, failed: a record no longer fits)",
    ["outcome"],
)

log = structlog.get_logger(__name__)


async def apply_due(db: Database, outbox: Outbox, delegations: DelegationCopy, today: date) -> dict[str, int]:
    """Applies every pending decision whose day has come, each in its own transaction: one that
    no longer fits, or whose author may no longer change one of its people, is marked failed with
    the reason, and the others still apply."""
    async with db.unit_of_work() as session:
        due = await service.due(session, today)
    outcome = {"applied": 0, "failed": 0}
    for decision_id in due:
        try:
            async with db.unit_of_work() as session:
                applied = await service.apply_decision(session, outbox, decision_id, delegations, today)
        except (InvalidArgument, FailedPrecondition, NotFound, PermissionDenied) as refused:
            async with db.unit_of_work() as session:
                await service.mark_failed(session, outbox, decision_id, str(refused))
            log.warning("decision_failed", decision_id=decision_id, reason=str(refused))
            outcome["failed"] += 1
            DECISIONS_APPLIED.labels(outcome="failed").inc()
            continue
        if applied is not None:
            outcome["applied"] += 1
            DECISIONS_APPLIED.labels(outcome="applied").inc()
    return outcome


async def run(
    db: Database, outbox: Outbox, delegations: DelegationCopy, interval_seconds: float, stopping: Stopping
) -> None:
    """Every `interval_seconds`, applies what is due, until stopping (a round under way finishes);
    a round that fails (the database away) is logged and the next one tries again."""
    while not stopping.is_set():
        try:
            await apply_due(db, outbox, delegations, vietnam_today())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("decision apply round failed; will retry", error=repr(exc))
        await stopping.sleep(interval_seconds)
