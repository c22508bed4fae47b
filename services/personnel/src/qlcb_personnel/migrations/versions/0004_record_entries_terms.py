"""An index of the current appointments and rotations by their start

The list of terms of office ending in a period read every entry of the subtree asked (over a
million people, a scan of 30 million entries for the whole sector); it now reads this small partial
index of the entries a term comes from.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TERMS_CURRENT = "section IN ('appointments', 'rotations') AND superseded_at IS NULL AND retracted IS FALSE"


def upgrade() -> None:
    op.create_index(
        "ix_record_entries_terms",
        "record_entries",
        ["valid_from"],
        unique=False,
        postgresql_where=sa.text(TERMS_CURRENT),
        sqlite_where=sa.text(TERMS_CURRENT),
    )


def downgrade() -> None:
    op.drop_index("ix_record_entries_terms", table_name="record_entries")
