"""A bulk import (issue 9.4): the rows of a file checked whole, every fault reported with its row,
column and reason, and the file applied in the caller's unit of work only when no row is at fault
and it is not a dry run. Whether applied or not, the trail notes the import: the file's digest and
name, its kind and its counts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from qlcb_common.events.outbox import Outbox
from qlcb_common.import_templates import PERSONS, Template, template
from qlcb_common.limits import MAX_IMPORT_ROWS
from qlcb_common.record_sections import BY_NAME
from qlcb_common.text import control_violation
from qlcb_personnel.audit import trail
from qlcb_personnel.imports import entries, persons
from qlcb_personnel.imports.rows import Faults, Row, RowError


@dataclass(frozen=True)
class Header:
    kind: str
    dry_run: bool
    file_sha256: str
    file_name: str
    media_type: str
    fields: Sequence[str]


@dataclass(frozen=True)
class Report:
    import_id: str
    rows: int
    created: int
    present: int
    rejected: int
    errors: Sequence[RowError]
    omitted: int
    applied: bool

    def details(self, header: Header) -> dict[str, object]:
        return {
            "import_id": self.import_id,
            "kind": header.kind,
            "dry_run": header.dry_run,
            "file_sha256": header.file_sha256,
            "file_name": header.file_name,
            "media_type": header.media_type,
            "rows": self.rows,
            "created": self.created if self.applied else 0,
            "already_present": self.present,
            "rejected": self.rejected,
            "applied": self.applied,
        }


def accepted(header: Header, actor: Principal, delegations: Sequence[Delegation]) -> Template:
    """The template of the header's kind, once the header names fields of it and the caller may
    write that kind somewhere: refused before any row is read."""
    found = template(header.kind)
    if found is None:
        raise NotFound(f"Không có loại nhập {header.kind!r}: persons hoặc tên một mục hồ sơ")
    unknown = [f for f in header.fields if f not in found.by_field]
    if unknown:
        raise InvalidArgument([FieldViolation("fields", f"Không phải cột của mẫu {header.kind}: {f}") for f in unknown])
    section, action = (
        (Section.IDENTITY, Action.CREATE) if header.kind == PERSONS else (BY_NAME[header.kind].authz, Action.UPDATE)
    )
    if not authz.may_at_all(actor, section, action, delegations):
        raise PermissionDenied(f"Không có quyền {action.value} phần {section.value}")
    return found


def too_many() -> InvalidArgument:
    return InvalidArgument.single("rows", f"Nhiều nhất {MAX_IMPORT_ROWS} dòng một lần nhập")


async def run(
    session: AsyncSession,
    *,
    outbox: Outbox,
    actor: Principal,
    delegations: Sequence[Delegation],
    header: Header,
    found: Template,
    rows: Sequence[Row],
) -> Report:
    """Checks the rows and, unless it is a dry run or a row is at fault, writes them through
    `session`. A report that is not applied may leave writes in the session: the caller rolls
    its unit of work back."""
    faults = Faults(found)
    storable = _storable(rows, faults)
    write = not header.dry_run
    if header.kind == PERSONS:
        counts: persons.Counts | entries.Counts = await persons.import_persons(
            session, outbox=outbox, actor=actor, delegations=delegations, rows=storable, faults=faults, write=write
        )
    else:
        counts = await entries.import_entries(
            session,
            outbox=outbox,
            actor=actor,
            delegations=delegations,
            section=BY_NAME[header.kind],
            rows=storable,
            faults=faults,
            write=write,
        )
    report = Report(
        import_id=str(uuid.uuid4()),
        rows=len(rows),
        created=counts.created,
        present=counts.present,
        rejected=len(faults.bad_rows),
        errors=sorted(faults.listed, key=lambda e: e.row),
        omitted=faults.omitted,
        applied=write and not faults,
    )
    if report.applied:
        await note(session, actor, header, report)
    return report


def _storable(rows: Sequence[Row], faults: Faults) -> list[Row]:
    """The rows every cell of which text may hold; each cell holding a control character (a NUL,
    which no text column takes, above all) is a fault of its row, named, and the row goes no further.
    A cell may span lines: tab and line ends are the rules' of its field to judge."""
    kept = []
    for row in rows:
        refused = [
            (name, v) for name, text in row.cells.items() if (v := control_violation(name, text, multiline=True))
        ]
        for name, violation in refused:
            faults.add(row, name, violation.description)
        if not refused:
            kept.append(row)
    return kept


async def note(session: AsyncSession, actor: Principal, header: Header, report: Report) -> None:
    await trail.note_import(session, unit_path=actor.unit_path or None, details=report.details(header))
