"""The days before a person's first recruitment are not in service (ADR 0052)

A person active on a day is now that day's status alone: the days before the first recruitment
recorded have a status of their own, so the first recruitment leaves the rows, and the unit index of
the day no longer carries it. Everyone's days are worked out again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from qlcb_personnel.search.days import fill_all

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_search_days_unit", table_name="search_days")
    op.drop_column("search_days", "recruited")
    fill_all(op.get_bind())
    op.create_index("ix_search_days_unit", "search_days", ["unit_id", "status", "valid_to", "valid_from"])


def downgrade() -> None:
    """The days as 0012 had them: the first recruitment on every row, and active before it (the
    rows split at the recruitment stay split, which a search of 0012 reads the same)."""
    op.drop_index("ix_search_days_unit", table_name="search_days")
    op.add_column("search_days", sa.Column("recruited", sa.Date(), nullable=True))
    op.execute(
        "UPDATE search_days SET recruited = (SELECT min(f.valid_from) FROM search_facts f"
        " WHERE f.person_id = search_days.person_id AND f.fact = 'recruited')"
    )
    op.execute("UPDATE search_days SET status = 'PERSON_STATUS_ACTIVE' WHERE status = ''")
    op.create_index(
        "ix_search_days_unit",
        "search_days",
        ["unit_id", "status", "valid_to", "valid_from"],
        postgresql_include=["recruited"],
    )
