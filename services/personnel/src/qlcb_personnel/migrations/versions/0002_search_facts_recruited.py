"""An index of each person's recruitments among the search facts

A search as of a day asks, of everyone it finds, whether their first recruitment came later (ADR
0040): one probe of this small partial index instead of a walk through each person's facts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_search_facts_recruited",
        "search_facts",
        ["person_id", "valid_from"],
        unique=False,
        postgresql_where=sa.text("fact = 'recruited'"),
        sqlite_where=sa.text("fact = 'recruited'"),
    )


def downgrade() -> None:
    op.drop_index("ix_search_facts_recruited", table_name="search_facts")
