"""The people's particulars the statistics give out, recorded for personnel's audit trail (R-PER-7,
ADR 0048): a list form's rows, shown or laid out as a file, a page of the people behind a cell, and a
regime's reports laid out as a file.
Each read stages an event in the outbox in the transaction that serves it, so none is served
unrecorded; personnel, which keeps the trail, writes it there. A form of counts names no one and
is not recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.reports.v1 import events_pb2
from qlcb_common.auth import Principal
from qlcb_common.errors import InvalidArgument
from qlcb_common.events import subjects
from qlcb_common.events.contracts import REPORTS_EVENTS
from qlcb_common.events.outbox import Outbox
from qlcb_reports.statistics.service import Filled, PeoplePage

EXPORT_FORMATS = ("xlsx", "pdf", "csv")


def export_format(value: str) -> str:
    """The format a form is asked to be laid out as for the audit: one the files come in, or none."""
    if value and value not in EXPORT_FORMATS:
        raise InvalidArgument.single("export_format", f"Phải là một trong: {', '.join(EXPORT_FORMATS)}, hoặc bỏ trống")
    return value


def _read(actor: Principal, form: str, unit_id: str, unit_path: str, as_of: str) -> events_pb2.StatisticsRead:
    return events_pb2.StatisticsRead(
        account=actor.username,
        subject=actor.subject,
        tiers=sorted(actor.roles),
        read_at=datetime.now(UTC).isoformat(),
        form=form,
        unit_id=unit_id,
        unit_path=unit_path,
        as_of=as_of,
    )


async def note_form(
    session: AsyncSession, outbox: Outbox, *, actor: Principal, filled: Filled, export_format: str
) -> None:
    """A list form's rows given to `actor`, shown (no format) or for a file in `export_format`."""
    if filled.form.kind != "list":
        return
    read = _read(actor, filled.form.code, filled.unit.unit_id, filled.unit.path, filled.as_of.isoformat())
    read.format = export_format
    read.people = len(filled.rows)
    subject = subjects.REPORTS_STATISTICS_FORM_EXPORTED if export_format else subjects.REPORTS_STATISTICS_FORM_READ
    await _stage(session, outbox, subject, read)


async def note_reports(
    session: AsyncSession,
    outbox: Outbox,
    *,
    actor: Principal,
    regime_code: str,
    unit_id: str,
    unit_path: str,
    data_end: date,
    export_format: str,
    reports: int,
) -> None:
    """A regime's reports of a period given to `actor` as a file in `export_format` (one unit's, or
    the roll-up of those in reach under a unit): their tables may name people (R-PER-7)."""
    read = _read(actor, regime_code, unit_id, unit_path, data_end.isoformat())
    read.format = export_format
    read.people = reports
    await _stage(session, outbox, subjects.REPORTS_REPORT_EXPORTED, read)


async def note_people(
    session: AsyncSession, outbox: Outbox, *, actor: Principal, page: PeoplePage, row: str, column: str
) -> None:
    """A page of the people one cell counts, given to `actor`."""
    read = _read(actor, page.form.code, page.unit.unit_id, page.unit.path, page.as_of.isoformat())
    read.people = len(page.people)
    read.row, read.column, read.page, read.total = row, column, page.page, page.total
    read.person_ids.extend(found.person.person_id for found in page.people)
    await _stage(session, outbox, subjects.REPORTS_STATISTICS_PEOPLE_READ, read)


class Unrecordable(RuntimeError):
    """A read whose record personnel would refuse: it is not served (the call fails, nothing staged)."""


async def _stage(session: AsyncSession, outbox: Outbox, subject: str, read: events_pb2.StatisticsRead) -> None:
    """Staged only as personnel will take it: an event its consumer refused would leave a read served
    and never recorded."""
    if found := REPORTS_EVENTS[subject].violations(read):
        raise Unrecordable("; ".join(f"{v.field}: {v.description}" for v in found))
    await outbox.add(session, subject=subject, payload=read, actor=read.subject)
