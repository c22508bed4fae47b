"""What a unit reads of the units below it and of records outside its scope, on a real SQLite store: a
unit that reads its own unit's movements lists no transfer of the units below it, and an import file
learns of a record outside the caller's scope only that its personal id is taken."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from personnel_store import person_row, sqlite_store, unit_row

from qlcb_common import import_templates
from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.errors import NotFound, PermissionDenied
from qlcb_common.import_templates import PERSONS_TEMPLATE
from qlcb_common.record_sections import BY_NAME
from qlcb_personnel.audit import trail
from qlcb_personnel.db_models import make_outbox
from qlcb_personnel.deadlines import service as deadlines
from qlcb_personnel.deadlines.models import EntryDeadline
from qlcb_personnel.imports import entries as entry_imports
from qlcb_personnel.imports import persons as person_imports
from qlcb_personnel.imports.rows import Faults, Row
from qlcb_personnel.persons import service as persons
from qlcb_personnel.persons import transfers
from qlcb_personnel.persons.models import Transfer

ANY_STATUS = "TRANSFER_STATUS_UNSPECIFIED"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_store(tmp_path) as database:
        yield database


def _who(role: str, path: str) -> Principal:
    return Principal(subject=f"s-{role}", username=role, roles=frozenset({role}), unit_path=path, token="")


async def _seeded(db: Database, *rows: Any) -> None:
    with trail.acting_as_system("test"):
        async with db.unit_of_work() as session:
            for row in rows:
                session.add(row)
                await session.flush()


async def test_a_unit_reading_its_own_movements_lists_no_transfer_of_the_units_below(db: Database) -> None:
    root = unit_row("TCHQ")
    cuc = unit_row("CDTCBL", root)
    below = unit_row("KV1", cuc)
    hanoi = unit_row("HQHN", root)
    person = person_row(below, "001085000001", "S1", "Trần Thị Bình")
    sent = Transfer(
        id=str(uuid.uuid4()),
        person_id=person.id,
        from_unit_id=below.id,
        to_unit_id=hanoi.id,
        status="TRANSFER_STATUS_SENT",
        effective_date=date(2026, 1, 1),
        decision="12/QĐ-CDTCBL",
        sent_by="test",
        sent_at=datetime.now(UTC),
    )
    await _seeded(db, root, cuc, below, hanoi, person, sent)
    unit, leader = _who("hq-unit", cuc.path), _who("unit-leader", cuc.path)
    async with db.unit_of_work() as session:
        with pytest.raises(NotFound):
            await persons.visible_person_in_status(session, actor=unit, person_id=person.id)
        with pytest.raises(PermissionDenied):
            await transfers.list_for_unit(session, actor=unit, unit_id=below.id, direction="", status_filter=ANY_STATUS)
        listed = await transfers.list_for_unit(
            session, actor=unit, unit_id=cuc.id, direction="", status_filter=ANY_STATUS, include_subtree=True
        )
        led = await transfers.list_for_unit(
            session, actor=leader, unit_id=cuc.id, direction="", status_filter=ANY_STATUS, include_subtree=True
        )
    assert listed == []
    assert [t.decision for t in led] == ["12/QĐ-CDTCBL"], "a subtree's reader lists the units below"


async def test_an_import_learns_of_a_record_outside_the_callers_scope_only_that_its_id_is_taken(db: Database) -> None:
    root = unit_row("TCHQ")
    hanoi = unit_row("HQHN", root)
    hcm = unit_row("HQHCM", root)
    elsewhere = person_row(hcm, "079085000777", "HCM0777", "Lê Thị Cúc")
    await _seeded(db, root, hanoi, hcm, elsewhere)
    admin = _who("local-admin", hanoi.path)
    same = {
        "personal_id": "079085000777",
        "staff_number": "HCM0777",
        "full_name": "Lê Thị Cúc",
        "date_of_birth": "04/03/1985",
        "sex": "Nữ",
        "unit_code": "HQHN",
    }
    probes = [same, same | {"full_name": "Lê Thị Khác"}, same | {"date_of_birth": "05/03/1985"}]
    told = []
    for number, cells in enumerate(probes, start=2):
        faults = Faults(PERSONS_TEMPLATE)
        async with db.unit_of_work() as session:
            counts = await person_imports.import_persons(
                session,
                outbox=make_outbox(),
                actor=admin,
                delegations=(),
                rows=[Row(number, cells)],
                faults=faults,
                write=False,
            )
        assert counts.present == counts.created == 0
        told.append([(fault.column, fault.reason) for fault in faults.listed])
    assert told[0] == told[1] == told[2], "the same words whatever the particulars"
    assert told[0] == [("Số định danh cá nhân", "Số định danh cá nhân đã có hồ sơ khác")]


async def test_an_entries_import_does_not_tell_whose_staff_number_goes_with_an_id_outside_its_scope(
    db: Database,
) -> None:
    root = unit_row("TCHQ")
    hanoi = unit_row("HQHN", root)
    hcm = unit_row("HQHCM", root)
    elsewhere = person_row(hcm, "079085000888", "HCM0888", "Hồ Thị Diệu")
    other = person_row(hcm, "079085000999", "HCM0999", "Hồ Văn Em")
    await _seeded(db, root, hanoi, hcm, elsewhere, other)
    admin = _who("local-admin", hanoi.path)
    rewards = import_templates.template("rewards")
    assert rewards is not None
    told = []
    for number in ("HCM0888", "HCM0999"):
        faults = Faults(rewards)
        cells = {"personal_id": "079085000888", "staff_number": number, "form": "GIAY_KHEN", "valid_from": "01/02/2026"}
        async with db.unit_of_work() as session:
            await entry_imports.import_entries(
                session,
                outbox=make_outbox(),
                actor=admin,
                delegations=(),
                section=BY_NAME["rewards"],
                rows=[Row(2, cells)],
                faults=faults,
                write=False,
            )
        told.append([(fault.column, fault.reason) for fault in faults.listed])
    assert told[0] == told[1], "the same words whether the staff number is that person's or not"
    assert told[0][0][1] == "Không có hồ sơ với số định danh 079085000888"


async def test_late_entries_name_only_people_the_caller_reads_where_they_are_now(db: Database) -> None:
    """A unit's late entries count as its own whoever has left it since, but name only its people."""
    root = unit_row("TCHQ")
    cuc = unit_row("CDTCBL", root)
    hanoi = unit_row("HQHN", root)
    stayed = person_row(cuc, "001085000401", "S401", "Ở Lại")
    left = person_row(hanoi, "001085000402", "S402", "Đã Đi")
    late = [
        EntryDeadline(
            entry_id=str(uuid.uuid4()),
            person_id=person.id,
            unit_id=cuc.id,
            section="rewards",
            kind="update",
            event_date=date(2026, 3, 2),
            deadline=date(2026, 3, 5),
            entered_at=datetime(2026, 3, 20, 3, tzinfo=UTC),
            entered_on=date(2026, 3, 20),
            entered_by="test",
            late=True,
        )
        for person in (stayed, left)
    ]
    await _seeded(db, root, cuc, hanoi, stayed, left, *late)
    request = deadlines.ReportRequest(unit_id=cuc.id, from_date="2026-03-01", to_date="2026-03-31")
    async with db.unit_of_work() as session:
        report = await deadlines.report(session, actor=_who("local-admin", cuc.path), request=request)
    assert [(u.code, u.entries, u.late) for u in report.units] == [("CDTCBL", 2, 2)]
    assert [entry.person_name for entry in report.late_entries] == ["Ở Lại"]
