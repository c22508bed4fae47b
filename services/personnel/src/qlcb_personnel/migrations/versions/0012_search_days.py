"""Each person's days, which a search counts and pages the people of a day by (ADR 0051)

A table of the periods over which a person's unit, status, rank and ethnicity stay the same, with
what does not change with the day beside them, and its indexes. 0013 fills it, from the search facts
and the people already stored, by the functions the service keeps it with: filled here too, it was
worked out twice on every store upgraded past both, and here by the code of 0013's rules, not 0012's.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
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


def downgrade() -> None:
    op.drop_table("search_days")
