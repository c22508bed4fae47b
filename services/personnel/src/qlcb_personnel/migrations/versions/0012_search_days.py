"""Each person's days, which a search counts and pages the people of a day by (ADR 0051)

A table of the periods over which a person's unit, status, rank and ethnicity stay the same, with
what does not change with the day beside them, and its indexes; filled from the search facts and
the people already stored, a thousand people at a time, by the function the service keeps it with.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from qlcb_common.sequences import batched
from qlcb_personnel.search.days import days_of, rows_of
from qlcb_personnel.search.facts import Fact

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLED_AT_ONCE = 1000


def upgrade() -> None:
    days = op.create_table(
        "search_days",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("rank", sa.String(length=36), nullable=False),
        sa.Column("ethnicity", sa.String(length=36), nullable=False),
        sa.Column("unit_now", sa.String(length=36), nullable=False),
        sa.Column("status_now", sa.String(length=32), nullable=False),
        sa.Column("recruited", sa.Date(), nullable=True),
        sa.Column("name_sort", sa.LargeBinary(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("person_id", "valid_from"),
    )
    _fill(days)
    op.create_index("ix_search_days_now", "search_days", ["unit_now", "status_now", "valid_to", "valid_from"])
    op.create_index(
        "ix_search_days_unit",
        "search_days",
        ["unit_id", "status", "valid_to", "valid_from"],
        postgresql_include=["recruited"],
    )
    op.create_index("ix_search_days_rank", "search_days", ["rank", "date_of_birth", "valid_to", "valid_from"])
    op.create_index("ix_search_days_name", "search_days", ["name_sort", "person_id", "valid_to", "valid_from"])
    op.create_index("ix_search_days_day", "search_days", ["valid_to", "valid_from"])


def _fill(days: sa.Table) -> None:
    connection = op.get_bind()
    people = sa.table(
        "persons",
        sa.column("id"),
        sa.column("unit_id"),
        sa.column("name_sort", sa.LargeBinary()),
        sa.column("date_of_birth", sa.Date()),
        sa.column("sex"),
    )
    facts = sa.table(
        "search_facts",
        sa.column("person_id"),
        sa.column("fact"),
        sa.column("value"),
        sa.column("valid_from", sa.Date()),
        sa.column("valid_to", sa.Date()),
    )
    ids = list(connection.scalars(sa.select(people.c.id).order_by(people.c.id)))
    for chunk in batched(ids, FILLED_AT_ONCE):
        held: dict[str, list[Fact]] = {}
        found = sa.select(facts.c.person_id, facts.c.fact, facts.c.value, facts.c.valid_from, facts.c.valid_to)
        for person_id, kind, value, valid_from, valid_to in connection.execute(
            found.where(facts.c.person_id.in_(chunk))
        ):
            held.setdefault(person_id, []).append(Fact(kind, value, valid_from, valid_to))
        rows = [
            row
            for person in connection.execute(sa.select(people).where(people.c.id.in_(chunk)))
            for row in rows_of(SimpleNamespace(**person._mapping), days_of(held.get(person.id, ())))
        ]
        if rows:
            connection.execute(sa.insert(days), rows)


def downgrade() -> None:
    op.drop_table("search_days")
