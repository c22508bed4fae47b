"""The current appointments and rotations indexed by the month their term ends

The list of terms of office ending in a period read, through `ix_record_entries_terms`, every current
appointment and rotation begun in the eleven years before it, to keep those whose term ends in the
period (over a million people, 32,835 entries read for the 2,915 of a year). It now reads the
entries of the period's months through an index of the month each term ends in; the index by start
goes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TERMS_CURRENT = "section IN ('appointments', 'rotations') AND superseded_at IS NULL AND retracted IS FALSE"
_ENTRIES = sa.table("record_entries", sa.column("valid_from", sa.Date), sa.column("values", sa.JSON))
TERM_END_MONTH = (
    sa.extract("year", _ENTRIES.c.valid_from) * 12
    + sa.extract("month", _ENTRIES.c.valid_from)
    + _ENTRIES.c["values"]["term_months"].as_integer()
)


def upgrade() -> None:
    op.create_index(
        "ix_record_entries_term_ends",
        "record_entries",
        [TERM_END_MONTH],
        unique=False,
        postgresql_where=sa.text(TERMS_CURRENT),
        sqlite_where=sa.text(TERMS_CURRENT),
    )
    op.drop_index("ix_record_entries_terms", table_name="record_entries")


def downgrade() -> None:
    op.create_index(
        "ix_record_entries_terms",
        "record_entries",
        ["valid_from"],
        unique=False,
        postgresql_where=sa.text(TERMS_CURRENT),
        sqlite_where=sa.text(TERMS_CURRENT),
    )
    op.drop_index("ix_record_entries_term_ends", table_name="record_entries")
