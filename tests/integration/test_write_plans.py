"""A record's writes find every row they read or change through an index (issue 8, Performance): a
statement that must read a whole table grows with the sector, however fast it is over the few people of
the suite. Each statement of personnel's writes of one record (a change closing the entry before it, a
correction, a retraction, a retirement and a reinstatement, a decision applied and cancelled) is
captured in process, on the suite's PostgreSQL, and explained with sequential scans made as dear as
PostgreSQL allows: none may still read a table of the records whole.

The writes run in a transaction rolled back at the end: the store is left as it was."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg
import jwt
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import UNIT_CLAIM, Principal
from qlcb_common.days import vietnam_today
from qlcb_common.db import Database
from qlcb_personnel.db_models import make_outbox
from qlcb_personnel.decision_documents import service as decisions
from qlcb_personnel.persons import status
from qlcb_personnel.record import service as record
from qlcb_personnel.record import terms
from qlcb_personnel.record.service import DecisionInput, EntryInput
from tests.support import System, api_client, person_body

pytestmark = pytest.mark.integration

GROWING = (
    "search_facts",
    "record_entries",
    "persons",
    "person_statuses",
    "audit_entries",
    "entry_deadlines",
    "decision_documents",
    "decision_items",
    "outbox",
)
"""The tables that hold a row or more per person or per change: read whole, they cost more with every
person and every day."""
DECISION = DecisionInput(number="15/QĐ-HQHN", date="2011-12-20", body="Cục Hải quan TP Hà Nội")


def _salary(step: int, coefficient: str, since: str) -> EntryInput:
    return EntryInput(
        values={"rank_code": "08.051", "step": step, "coefficient": coefficient}, valid_from=since, decision=DECISION
    )


def _principal(token: str) -> Principal:
    """The account the token names, as personnel's interceptor would make it (the token was issued by
    the suite's Keycloak a moment ago; its signature is not what this test is about)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    unit = claims.get(UNIT_CLAIM)
    return Principal(
        subject=claims["sub"],
        username=claims["preferred_username"],
        roles=frozenset(claims["realm_access"]["roles"]),
        unit_path=unit[0] if isinstance(unit, list) else unit,
        token=token,
        claims=claims,
    )


async def _captured_writes(db: Database, actor: Principal, person_id: str) -> list[tuple[str, tuple[Any, ...]]]:
    """Every statement (with the parameters of its first row) of the writes of one record the module
    names, in one transaction rolled back."""
    statements: list[tuple[str, tuple[Any, ...]]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        statements.append((statement, tuple(parameters[0] if many else parameters)))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    async with db.sessions() as session:
        await session.begin()
        by: dict[str, Any] = {"session": session, "outbox": make_outbox(), "actor": actor}
        of = by | {"person_id": person_id}
        await record.add_entry(**of, section_name="salary", data=_salary(1, "2.34", "2012-01-01"))
        # The step of 2015 closes the one of 2012: a new version of it, whose search facts are replaced.
        second = await record.add_entry(**of, section_name="salary", data=_salary(2, "2.67", "2015-01-01"))
        corrected = await record.correct_entry(
            **of,
            section_name="salary",
            entry_id=second.entry_id,
            expected_version=second.version,
            data=_salary(2, "2.67", "2015-02-01"),
        )
        await record.retract_entry(
            **of, section_name="salary", entry_id=corrected.entry_id, expected_version=corrected.version
        )
        for status_now, since in (("PERSON_STATUS_RETIRED", "2025-06-01"), ("PERSON_STATUS_ACTIVE", "2025-09-01")):
            await status.change_status(**of, status=status_now, effective_date=since, decision="21/QĐ-HQHN")
        placed = EntryInput(
            values={"unit_name": "Chi cục Hải quan Nội Bài", "post": "Công chức"}, valid_from="2015-01-01"
        )
        await record.add_entry(**of, section_name="placements", data=placed)
        # A decision naming the person, applied at once, then cancelled: what it changed reversed.
        document, _ = await decisions.create(
            **by,
            data=decisions.DecisionInput(
                kind="placement",
                number="22/QĐ-HQHN",
                decision_date="2025-02-20",
                effective_date="2025-03-01",
                body=DECISION.body,
                signer="Nguyễn Văn Ký",
                signer_post="Cục trưởng",
                summary="Điều động",
                items=[decisions.ItemInput(person_id, {"unit_name": "Đội Kiểm soát Hải quan", "post": "Đội phó"})],
            ),
            today=vietnam_today(),
        )
        await decisions.cancel(
            **by,
            decision_id=document.id,
            expected_version=document.version,
            reason="Ban hành nhầm",
            cancel_number="",
        )
        await session.rollback()
    event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
    return statements


async def test_a_record_write_reads_and_changes_no_growing_table_whole(system: System) -> None:
    token = system.token("qthanoi")
    async with api_client(system.gateway_url, token) as api:
        created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Đinh Văn Kế"))
        assert created.status_code == 201, created.text
    assert system.infra.postgres is not None
    db = Database(system.infra.postgres.dsn("personnel"))
    try:
        statements = await _captured_writes(db, _principal(token), created.json()["id"])
    finally:
        await db.dispose()
    touching = [(sql, params) for sql, params in statements if any(table in sql for table in GROWING)]
    kinds = {" ".join(sql.split()[:3]) for sql, _ in touching}
    assert {"DELETE FROM search_facts", "UPDATE search_facts SET", "INSERT INTO person_statuses"} <= kinds, kinds
    connection = await asyncpg.connect(system.postgres_dsn("personnel"))
    try:
        leading = await _leading_columns(connection)
        await connection.execute("SET enable_seqscan = off")
        whole = []
        for sql, params in touching:
            plan = json.loads(await connection.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *params))
            if read := _read_whole(plan[0]["Plan"], leading):
                whole.append(f"{sql}\n{read}")
        assert not whole, "\n\n".join(whole)
    finally:
        await connection.close()


async def _leading_columns(connection: asyncpg.Connection) -> dict[str, str]:
    """The first column of each index of the growing tables, by index name."""
    rows = await connection.fetch(
        """
        SELECT index.relname AS index, a.attname AS leading FROM pg_index i
        JOIN pg_class index ON index.oid = i.indexrelid
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE t.relname = ANY($1::text[])
        """,
        list(GROWING),
    )
    return {row["index"]: row["leading"] for row in rows}


def _read_whole(node: dict[str, Any], leading: dict[str, str]) -> str | None:
    """What in the plan reads a growing table whole: a sequential scan of it, or one of its indexes
    entered without its first column (a full pass over the index, filtered as it goes)."""
    if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in GROWING:
        return f"sequential scan of {node['Relation Name']}"
    index = node.get("Index Name")
    if index in leading and leading[index] not in node.get("Index Cond", ""):
        return f"{index} read whole (condition {node.get('Index Cond', 'none')}, its first column {leading[index]})"
    for child in node.get("Plans", ()):
        if read := _read_whole(child, leading):
            return read
    return None


async def test_a_statement_a_pooled_connection_has_run_many_times_is_still_planned_for_its_values(
    system: System,
) -> None:
    """Every connection a service opens to PostgreSQL (ADR 0039): the statements asyncpg prepares
    and keeps are planned for each run's days, units and codes, never by the plan PostgreSQL would
    otherwise make once for any values after five runs. Counted by PostgreSQL itself for the
    connection's prepared statements."""
    assert system.infra.postgres is not None
    db = Database(system.infra.postgres.dsn("personnel"))
    try:
        async with db.engine.connect() as connection:
            for day in range(1, 11):
                await connection.execute(
                    text("SELECT count(*) FROM persons WHERE date_of_birth >= :day"), {"day": date(1960 + day, 1, 1)}
                )
            planned = (
                await connection.execute(
                    text(
                        "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                        "WHERE statement LIKE 'SELECT count(*) FROM persons WHERE date_of_birth >= %'"
                    )
                )
            ).one()
        assert (planned.generic_plans, planned.custom_plans) == (0, 10)
    finally:
        await db.dispose()


async def test_a_keyed_unit_of_work_keeps_a_plan_made_once_and_another_one_does_not(system: System) -> None:
    """A unit of work whose statements find their rows by key (ADR 0053) lets PostgreSQL keep a
    statement's plan made once for any value, after the five planned for their values, on a
    connection of the keyed pool (ADR 0055); a unit of work that is not keyed still plans the same
    statement for its values every time, before and after, and so does the keyed pool's next one."""
    assert system.infra.postgres is not None
    db = Database(system.infra.postgres.dsn("personnel"))
    statement = text("SELECT full_name FROM persons WHERE id = :id")
    counted = text(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement = 'SELECT full_name FROM persons WHERE id = $1'"
    )

    async def run_ten(session: AsyncSession) -> tuple[str, tuple[int, int]]:
        for n in range(10):
            await session.execute(statement, {"id": f"no-such-person-{n}"})
        mode = (await session.execute(text("SHOW plan_cache_mode"))).scalar_one()
        plans = (await session.execute(counted)).one()
        return mode, (plans.generic_plans, plans.custom_plans)

    try:
        async with db.unit_of_work() as session:
            before = await run_ten(session)
        async with db.unit_of_work(keyed=True) as session:
            keyed = await run_ten(session)
        async with db.unit_of_work() as session:
            after = await run_ten(session)
        async with db.unit_of_work(keyed=True) as session:
            keyed_again = await run_ten(session)
    finally:
        await db.dispose()
    assert before == ("force_custom_plan", (0, 10))
    assert keyed == ("auto", (5, 5))
    assert after == ("force_custom_plan", (0, 20)), "the same pooled connection as before, planning every run"
    assert keyed_again == ("auto", (15, 5)), "the plan made once is kept on the keyed connection"


async def test_the_terms_ending_in_a_period_are_read_by_the_month_they_end(system: System) -> None:
    """The list of terms of office ending in a period (`record.terms`) reads the entries of the
    period's months through `ix_record_entries_term_ends`, not every appointment begun in the years
    before it: its query, captured in process and explained with the values it ran with."""
    token = system.token("qthanoi")
    async with api_client(system.gateway_url, token) as api:
        created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Đinh Văn Nhiệm"))
        assert created.status_code == 201, created.text
        person = created.json()["id"]
        values = {"unit_name": "Đội Kiểm soát", "post": "Đội trưởng", "term_months": 60}
        values |= {"kind": "BO_NHIEM", "post_code": "DOI_TRUONG"}
        decision = {"number": DECISION.number, "date": DECISION.date, "body": DECISION.body}
        body = {"values": values, "valid_from": "2023-03-15", "decision": decision}
        added = await api.post(f"/v1/persons/{person}/appointments", json=body)
        assert added.status_code == 201, added.text
    assert system.infra.postgres is not None
    db = Database(system.infra.postgres.dsn("personnel"))
    statements: list[tuple[str, tuple[Any, ...]]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        statements.append((statement, tuple(parameters)))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with db.unit_of_work() as session:
            listed = await terms.ending_between(
                session,
                actor=_principal(token),
                unit_id=system.unit_ids["HQHN"],
                include_subtree=True,
                start="2028-01-01",
                end="2028-12-31",
            )
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
        await db.dispose()
    assert [(e.person.id, e.term.ends_on) for e in listed if e.person.id == person] == [(person, date(2028, 3, 14))]
    [(sql, params)] = [(sql, params) for sql, params in statements if "FROM record_entries" in sql]
    connection = await asyncpg.connect(system.postgres_dsn("personnel"))
    try:
        await connection.execute("SET enable_seqscan = off")
        plan = json.loads(await connection.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *params))
    finally:
        await connection.close()
    assert "ix_record_entries_term_ends" in _indexes(plan[0]["Plan"]), json.dumps(plan, indent=1)


def _indexes(node: dict[str, Any]) -> set[str]:
    """The indexes a plan reads."""
    found = {node["Index Name"]} if "Index Name" in node else set()
    for child in node.get("Plans", ()):
        found |= _indexes(child)
    return found
