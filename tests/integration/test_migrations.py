"""Each service's schema history (ADR 0022) on the suite's PostgreSQL and on SQLite: the migrations
make exactly the schema the code defines, the command a cluster's Job runs upgrades and checks a
store, replicas starting together take turns, a store made before the history is adopted only when
it matches, and a service told not to migrate refuses a store at another revision."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Column, Integer, MetaData, Table, inspect, text
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import migrations
from qlcb_common.db import Database
from qlcb_devstack.stack import Infra

pytestmark = pytest.mark.integration

SERVICES = ("identity", "personnel", "reports", "backup")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def new_database(infra: Infra) -> Callable[[], str]:
    """An empty PostgreSQL database of its own for each call; its async URL."""

    def make() -> str:
        assert infra.postgres is not None
        name = f"mig_{uuid.uuid4().hex[:12]}"
        infra.postgres.create_database(name)
        return infra.postgres.dsn(name)

    return make


@pytest.fixture
async def databases() -> AsyncIterator[list[Database]]:
    opened: list[Database] = []
    yield opened
    for db in opened:
        await db.dispose()


def _open(opened: list[Database], url: str) -> Database:
    db = Database(url)
    opened.append(db)
    return db


def _command(*args: str, service: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, f"QLCB_{service.upper()}_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "qlcb_common.migrations", *args, service],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def _differences(db: Database, package: str) -> list[object]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(migrations.differences, migrations.target_metadata(package))


async def _revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(migrations.current_revision)


@pytest.mark.parametrize("service", SERVICES)
async def test_the_command_migrates_an_empty_store_to_exactly_the_schema_the_code_defines(
    service: str, new_database: Callable[[], str], databases: list[Database]
) -> None:
    url = new_database()
    first = _command("upgrade", service=service, url=url)
    assert first.returncode == 0, first.stderr
    assert f"{service}: at revision {migrations.head_revision(f'qlcb_{service}')}" in first.stdout

    db = _open(databases, url)
    package = f"qlcb_{service}"
    assert set(migrations.target_metadata(package).tables) <= await _tables(db)
    # A model changed without a revision shows here: what the migrations made is not what the code says.
    assert await _differences(db, package) == []

    again = _command("upgrade", service=service, url=url)
    assert again.returncode == 0, again.stderr
    assert (await asyncio.to_thread(_command, "check", service=service, url=url)).returncode == 0


@pytest.mark.parametrize("service", SERVICES)
async def test_sqlite_stores_of_make_up_get_the_same_schema(
    service: str, tmp_path: Path, databases: list[Database]
) -> None:
    db = _open(databases, f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    package = f"qlcb_{service}"
    assert await migrations.upgrade(db, package) == migrations.head_revision(package)
    assert await _differences(db, package) == []


async def test_check_names_the_revisions_and_the_command_when_the_store_is_behind(
    new_database: Callable[[], str], databases: list[Database]
) -> None:
    url = new_database()
    refused = _command("check", service="reports", url=url)
    assert refused.returncode == 1
    head = migrations.head_revision("qlcb_reports")
    assert f"at revision none (empty) and qlcb_reports expects {head}" in refused.stderr
    assert "python -m qlcb_common.migrations upgrade reports" in refused.stderr

    db = _open(databases, url)
    with pytest.raises(migrations.SchemaError, match="expects"):
        await migrations.prepare(db, "qlcb_reports", migrate=False)
    assert await _tables(db) == set(), "a service told not to migrate created tables"


async def test_replicas_starting_together_migrate_once(
    new_database: Callable[[], str], databases: list[Database]
) -> None:
    url = new_database()
    replicas = [_open(databases, url) for _ in range(3)]
    revisions = await asyncio.gather(*(migrations.upgrade(db, "qlcb_personnel") for db in replicas))
    head = migrations.head_revision("qlcb_personnel")
    assert revisions == [head, head, head]
    assert await _differences(replicas[0], "qlcb_personnel") == []


async def test_a_store_made_before_the_history_is_adopted_when_it_matches(
    new_database: Callable[[], str], databases: list[Database]
) -> None:
    db = _open(databases, new_database())
    await db.create_schema(migrations.target_metadata("qlcb_backup"))  # as services did before (ADR 0003)
    async with db.unit_of_work() as session:
        await session.execute(
            text(
                "INSERT INTO backups (id, store, created_at, size_bytes, sha256, content_digest, path, created_by) "
                "VALUES ('b-1', 'personnel', now(), 1, 'a', 'b', '/x', 'test')"
            )
        )

    assert await migrations.upgrade(db, "qlcb_backup") == migrations.head_revision("qlcb_backup")
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT id FROM backups"))).scalars().all() == ["b-1"]


async def test_a_store_made_before_the_history_that_differs_is_refused_and_left_alone(
    new_database: Callable[[], str], databases: list[Database]
) -> None:
    db = _open(databases, new_database())
    stray = MetaData()
    Table("backups", stray, Column("id", Integer, primary_key=True))
    await db.create_schema(stray)

    with pytest.raises(migrations.SchemaError, match="no migration history") as refused:
        await migrations.upgrade(db, "qlcb_backup")
    assert "qlcb_backup" in str(refused.value)
    assert await _tables(db) == {"backups"}
    assert await _revision(db) is None


async def test_after_a_rollback_the_older_code_runs_on_the_newer_store_as_it_is(
    new_database: Callable[[], str], databases: list[Database]
) -> None:
    db = _open(databases, new_database())
    await migrations.upgrade(db, "qlcb_reports")
    async with db.unit_of_work() as session:  # as a newer release's revision would leave it
        await session.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))

    assert await migrations.require_current(db, "qlcb_reports") == "f00dfeedbeef"
    assert await migrations.upgrade(db, "qlcb_reports") == "f00dfeedbeef"
    assert await _differences(db, "qlcb_reports") == []


async def test_units_taken_in_without_a_decision_are_moved_to_the_start_of_the_records(
    new_database: Callable[[], str], databases: list[Database]
) -> None:
    """Personnel's 0003 (ADR 0041): an establishment without a decision number, recorded as of the
    day it was taken in, takes effect at the start of the records; one by a decision keeps its day."""
    db = _open(databases, new_database())
    await _at(db, "0002")
    now = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    units = {"u-old": ("HQHN", "", date(2026, 11, 2)), "u-new": ("HQHN-DA", "25/QĐ-TCHQ", date(2024, 7, 1))}
    async with db.unit_of_work() as session:
        for unit_id, (code, decision, effective) in units.items():
            where = {"id": unit_id, "code": code, "name": code, "kind": "UNIT_KIND_SUB_UNIT", "path": f"/{code}"}
            await session.execute(
                text(
                    "INSERT INTO units (id, code, name, kind, parent_id, path, created_at, created_by) "
                    "VALUES (:id, :code, :name, :kind, NULL, :path, :now, 'migration-test')"
                ),
                where | {"now": now},
            )
            await session.execute(
                text(
                    "INSERT INTO unit_changes (id, unit_id, change, name, parent_id, path, dissolved, effective_date, "
                    "decision, recorded_at, recorded_by) VALUES (:change_id, :id, 'established', :name, NULL, :path, "
                    "false, :effective, :decision, :now, 'migration-test')"
                ),
                where | {"change_id": f"c-{unit_id}", "effective": effective, "decision": decision, "now": now},
            )

    assert await migrations.upgrade(db, "qlcb_personnel") == migrations.head_revision("qlcb_personnel")
    async with db.unit_of_work() as session:
        moved: dict[str, date] = dict(
            (await session.execute(text("SELECT unit_id, effective_date FROM unit_changes"))).all()
        )
    assert moved == {"u-old": date.min, "u-new": date(2024, 7, 1)}


RECRUITED = {"p-recruited": date(2008, 9, 1), "p-never": None}
"""Two people of a store from before 0013: one recruited on a day, one without a recruitment recorded."""
DAYS = [
    ("p-never", date.min, "PERSON_STATUS_ACTIVE"),
    ("p-recruited", date.min, ""),
    ("p-recruited", date(2008, 9, 1), "PERSON_STATUS_ACTIVE"),
]
"""Their days as 0013 works them out: not yet in service before the recruitment, active from it; a
person without one active throughout."""


async def _store_people(session: AsyncSession) -> None:
    now = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    await session.execute(
        text(
            "INSERT INTO units (id, code, name, kind, parent_id, path, created_at, created_by) "
            "VALUES ('u1', 'HQHN', 'HQHN', 'UNIT_KIND_SUB_UNIT', NULL, '/HQHN', :now, 'migration-test')"
        ),
        {"now": now},
    )
    for n, (person_id, day) in enumerate(RECRUITED.items()):
        await session.execute(
            text(
                "INSERT INTO persons (id, personal_id, staff_number, full_name, name_folded, name_sort, "
                "date_of_birth, sex, unit_id, created_at, created_by) VALUES (:id, :pid, :staff, 'An', 'an', "
                "'\\x01'::bytea, DATE '1985-01-01', 'SEX_MALE', 'u1', :now, 'migration-test')"
            ),
            {"id": person_id, "pid": f"00108500000{n}", "staff": f"S{n}", "now": now},
        )
        facts = [("unit", "u1", date.min)] + ([("recruited", "", day)] if day else [])
        for fact, value, since in facts:
            await session.execute(
                text(
                    "INSERT INTO search_facts (person_id, source_id, fact, value, valid_from, valid_to) "
                    "VALUES (:person, :source, :fact, :value, :since, DATE '9999-12-31')"
                ),
                {"person": person_id, "source": f"{fact}-{person_id}", "fact": fact, "value": value, "since": since},
            )


async def _days(db: Database) -> list[tuple[str, date, str]]:
    async with db.unit_of_work() as session:
        rows = await session.execute(
            text("SELECT person_id, valid_from, status FROM search_days ORDER BY person_id, valid_from")
        )
        return [(person, since, status) for person, since, status in rows]


async def _at(db: Database, revision: str, package: str = "qlcb_personnel") -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(migrations.alembic_config(package, sync), revision))


async def test_a_store_from_before_the_days_has_everyones_days_worked_out_on_upgrade(
    new_database: Callable[[], str], databases: list[Database]
) -> None:
    """Personnel's 0012 makes the table of the days and 0013 fills it (once), from the facts stored."""
    db = _open(databases, new_database())
    await _at(db, "0011")
    async with db.unit_of_work() as session:
        await _store_people(session)

    await _at(db, "0012")
    assert await _days(db) == [], "0012 leaves the filling to 0013"
    assert await migrations.upgrade(db, "qlcb_personnel") == migrations.head_revision("qlcb_personnel")
    assert await _days(db) == DAYS
    assert await _differences(db, "qlcb_personnel") == []


async def test_the_days_before_a_recruitment_are_worked_out_again_as_not_yet_in_service(
    new_database: Callable[[], str], databases: list[Database]
) -> None:
    """Personnel's 0013 (ADR 0052): a store whose days an earlier 0012 filled (active from the first
    day, the recruitment on every row) has everyone's days worked out again from the facts."""
    db = _open(databases, new_database())
    await _at(db, "0012")
    async with db.unit_of_work() as session:
        await _store_people(session)
        for person_id, day in RECRUITED.items():
            await session.execute(  # as an earlier 0012 filled them
                text(
                    "INSERT INTO search_days (person_id, valid_from, valid_to, unit_id, status, rank, ethnicity, "
                    "unit_now, status_now, recruited, name_sort, date_of_birth, sex) VALUES (:person, :start, "
                    "DATE '9999-12-31', 'u1', 'PERSON_STATUS_ACTIVE', '', '', 'u1', 'PERSON_STATUS_ACTIVE', :day, "
                    "'\\x01'::bytea, DATE '1985-01-01', 'SEX_MALE')"
                ),
                {"person": person_id, "start": date.min, "day": day},
            )

    assert await migrations.upgrade(db, "qlcb_personnel") == migrations.head_revision("qlcb_personnel")
    assert await _days(db) == DAYS
    assert await _differences(db, "qlcb_personnel") == []


async def test_the_facts_of_religion_province_rewards_discipline_contracts_and_steps_are_added_on_upgrade(
    new_database: Callable[[], str], databases: list[Database]
) -> None:
    """Personnel's 0015 and 0016 (R-PER-5): the current entries of a store from before them give the
    search their new facts (0016: the salary step); a superseded or retracted version gives none, and
    the facts kept before stay single."""
    db = _open(databases, new_database())
    await _at(db, "0014")
    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    details = '{"birthplace": "Nam Định", "home_town": "Nam Định", "ethnicity": "01", "religion": "PHAT_GIAO"'
    entries = [
        ("v1", "e-details", 1, "personal_details", date(1985, 1, 1), None, details + "}", now, False),
        (
            "v2",
            "e-details",
            2,
            "personal_details",
            date(1985, 1, 1),
            None,
            details + ', "home_town_province": "36"}',
            None,
            False,
        ),
        ("v3", "e-reward", 1, "rewards", date(2023, 5, 15), None, '{"form": "BK_BO"}', None, False),
        ("v4", "e-wrong", 1, "rewards", date(2023, 6, 1), None, '{"form": "GIAY_KHEN"}', None, True),
        (
            "v5",
            "e-discipline",
            1,
            "disciplines",
            date(2025, 3, 1),
            date(2026, 2, 28),
            '{"form": "KHIEN_TRACH", "reason": "x"}',
            None,
            False,
        ),
        (
            "v6",
            "e-contract",
            1,
            "labour_contracts",
            date(2024, 1, 1),
            None,
            '{"contract_type": "XAC_DINH", "job": "Lái xe"}',
            None,
            False,
        ),
        (
            "v7",
            "e-salary",
            1,
            "salary",
            date(2008, 3, 1),
            None,
            '{"rank_code": "01.003", "step": 1, "coefficient": "2.34"}',
            None,
            False,
        ),
    ]
    async with db.unit_of_work() as session:
        await _store_people(session)
        await session.execute(
            text(
                "INSERT INTO search_facts (person_id, source_id, fact, value, valid_from, valid_to) "
                "VALUES ('p-never', 'e-details', 'ethnicity', '01', DATE '1985-01-01', DATE '9999-12-31')"
            )
        )
        for row_id, entry_id, version, section, start, end, values, superseded, retracted in entries:
            await session.execute(
                text(
                    "INSERT INTO record_entries (id, entry_id, version, person_id, section, valid_from, valid_to, "
                    '"values", change, recorded_at, recorded_by, superseded_at, retracted) VALUES (:id, :entry, '
                    ":version, 'p-never', :section, :start, :end, CAST(:values AS JSON), 'recorded', :now, "
                    "'migration-test', :superseded, :retracted)"
                ),
                {
                    "id": row_id,
                    "entry": entry_id,
                    "version": version,
                    "section": section,
                    "start": start,
                    "end": end,
                    "values": values,
                    "now": now,
                    "superseded": superseded,
                    "retracted": retracted,
                },
            )

    assert await migrations.upgrade(db, "qlcb_personnel") == migrations.head_revision("qlcb_personnel")
    async with db.unit_of_work() as session:
        found = (
            await session.execute(
                text(
                    "SELECT source_id, fact, value, valid_from, valid_to FROM search_facts "
                    "WHERE person_id = 'p-never' AND fact NOT IN ('unit', 'recruited') ORDER BY source_id, fact"
                )
            )
        ).all()
    forever = date(9999, 12, 31)
    assert [tuple(row) for row in found] == [
        ("e-contract", "contract", "XAC_DINH", date(2024, 1, 1), forever),
        ("e-details", "ethnicity", "01", date(1985, 1, 1), forever),
        ("e-details", "home_province", "36", date(1985, 1, 1), forever),
        ("e-details", "religion", "PHAT_GIAO", date(1985, 1, 1), forever),
        ("e-discipline", "discipline", "KHIEN_TRACH", date(2025, 3, 1), date(2026, 2, 28)),
        ("e-reward", "reward", "BK_BO", date(2023, 5, 15), forever),
        ("e-salary", "salary_step", "1", date(2008, 3, 1), forever),
    ]


async def test_the_sender_of_each_report_sent_before_the_four_eyes_rule_is_taken_from_its_steps(
    new_database: Callable[[], str], databases: list[Database]
) -> None:
    """Reports' 0012: a report sent is given the account of its last sending, so that account may not
    approve it; one never sent is given none."""
    db = _open(databases, new_database())
    await _at(db, "0011", "qlcb_reports")
    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    async with db.unit_of_work() as session:
        await session.execute(
            text(
                "INSERT INTO report_regimes (id, code, name, kind, frequency, legal_basis, issuer_unit_id, unit_kinds, "
                "unit_levels, cutoff_day, deadline_days, deadline_counting, reminder_days, opens_periods, "
                "current_version, created_at, created_by) VALUES ('r', 'BC', 'Báo cáo', 'thematic', '', '', 'u0', "
                "CAST('[]' AS JSON), CAST('[]' AS JSON), 0, 0, 'days', 0, false, 1, :now, 'quantri')"
            ),
            {"now": now},
        )
        await session.execute(
            text(
                "INSERT INTO report_periods (id, regime_id, key, starts_on, ends_on, deadline, template_version, "
                "opened_at, opened_by) VALUES ('k', 'r', 'CD', DATE '2026-01-01', DATE '2026-01-31', "
                "DATE '2026-02-05', 1, :now, 'vutccb')"
            ),
            {"now": now},
        )
        for assignment_id, sent in (("a-sent", now), ("a-draft", None)):
            await session.execute(
                text(
                    "INSERT INTO report_assignments (id, period_id, regime_id, unit_id, unit_path, unit_name, "
                    "approver_unit_id, approver_path, state, deadline, template_version, indicator_codes, "
                    "\"values\", version, submitted_at, correction_open) VALUES (:id, 'k', 'r', :id, :id, "
                    "'Đội', 'u0', '/u0', :state, DATE '2026-02-05', 1, CAST('[]' AS JSON), CAST('{}' AS JSON), 3, "
                    ":sent, false)"
                ),
                {"id": assignment_id, "state": "submitted" if sent else "draft", "sent": sent},
            )
        steps = [
            ("a-sent", "saved", "nhansu.doi", 1),
            ("a-sent", "submitted", "qthanoi", 2),
            ("a-sent", "recalled", "qthanoi", 3),
            ("a-sent", "submitted", "canbo.doi", 4),
            ("a-draft", "saved", "qthanoi", 1),
        ]
        for index, (assignment_id, action, account, version) in enumerate(steps):
            await session.execute(
                text(
                    "INSERT INTO report_transitions (id, assignment_id, period_id, unit_path, action, from_state, "
                    "to_state, reason, account, subject, tiers, occurred_at, version) VALUES (:id, :assignment, "
                    "'k', :assignment, :action, '', '', '', :account, 's', '', :at, :version)"
                ),
                {
                    "id": f"t{index}",
                    "assignment": assignment_id,
                    "action": action,
                    "account": account,
                    "at": now + timedelta(minutes=version),
                    "version": version,
                },
            )

    assert await migrations.upgrade(db, "qlcb_reports") == migrations.head_revision("qlcb_reports")
    async with db.unit_of_work() as session:
        found = (
            await session.execute(text("SELECT id, submitted_by, prepared_by FROM report_assignments ORDER BY id"))
        ).all()
    assert [(row.id, row.submitted_by) for row in found] == [("a-draft", None), ("a-sent", "canbo.doi")]
    # Reports' 0013: every account that saved or sent the figures, in the order each first did.
    prepared = {
        row.id: json.loads(row.prepared_by) if isinstance(row.prepared_by, str) else row.prepared_by for row in found
    }
    assert prepared == {"a-draft": ["qthanoi"], "a-sent": ["nhansu.doi", "qthanoi", "canbo.doi"]}
    assert await _differences(db, "qlcb_reports") == []


async def test_account_audit_entries_written_before_get_the_unit_their_target_names(
    new_database: Callable[[], str], databases: list[Database]
) -> None:
    """Identity's 0005: an entry about a quota, a delegation or a purpose account is given its unit,
    so that the unit's local admin reads it; the realm's entries keep none."""
    db = _open(databases, new_database())
    await _at(db, "0004", "qlcb_identity")
    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    async with db.unit_of_work() as session:
        await session.execute(
            text(
                "INSERT INTO purpose_accounts (id, unit_path, purpose, kind, tier, username, keycloak_user_id, "
                "issued_by, issued_at) VALUES ('pa', '/TCHQ/HQHN/NB', 'Nhân sự 1', 'user', 'local-officer', "
                "'nhansu1.noibai', 'kc', 'quantri', :now)"
            ),
            {"now": now},
        )
        entries = [
            ("e1", "quota.set", "/TCHQ/HQHN/NB#user"),
            ("e2", "delegation.grant", "/TCHQ/HQHN"),
            ("e3", "purpose_account.assign", "nhansu1.noibai"),
            ("e4", "account.reset", "nhansu1.noibai"),
            ("e5", "federation.register", "doitac"),
            ("e6", "account.grant", "nobody.known"),
        ]
        for entry_id, action, target in entries:
            await session.execute(
                text(
                    "INSERT INTO audit_entries (id, at, actor_subject, actor_username, action, target, outcome) "
                    "VALUES (:id, :now, 's', 'quantri', :action, :target, 'done')"
                ),
                {"id": entry_id, "now": now, "action": action, "target": target},
            )

    assert await migrations.upgrade(db, "qlcb_identity") == migrations.head_revision("qlcb_identity")
    async with db.unit_of_work() as session:
        found = (await session.execute(text("SELECT id, unit_path FROM audit_entries ORDER BY id"))).all()
    assert [tuple(row) for row in found] == [
        ("e1", "/TCHQ/HQHN/NB"),
        ("e2", "/TCHQ/HQHN"),
        ("e3", "/TCHQ/HQHN/NB"),
        ("e4", "/TCHQ/HQHN/NB"),
        ("e5", None),
        ("e6", None),
    ]
    assert await _differences(db, "qlcb_identity") == []
