"""Units taken in without an establishing decision existed before the records begin

Such a unit's establishment was recorded as of the day it was taken in, so the tree of any earlier
day left it out and no decision dated before that day could follow (ADR 0041). Its establishment now
takes effect at the start of the records, the day the code gives every new one of them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_CHANGES = sa.table(
    "unit_changes",
    sa.column("change", sa.String),
    sa.column("decision", sa.String),
    sa.column("effective_date", sa.Date),
)


def upgrade() -> None:
    op.execute(
        _CHANGES.update()
        .where(_CHANGES.c.change == "established", _CHANGES.c.decision == "")
        .values(effective_date=date.min)
    )


def downgrade() -> None:
    """Nothing to undo: the code before it reads the start of the records as any other date (the
    tree of every day holds those units), and the day each was taken in stays in `recorded_at`."""
