"""A search finds people by their salary step on a day (R-PER-5)

The salary entries already stored give the search their step, by the function the service now keeps
the facts with; the rank they gave before stays as it is.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from qlcb_personnel.migrations import fact_backfill
from qlcb_personnel.search import facts

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    fact_backfill.add_facts(op.get_bind(), ("salary",), (facts.STEP,))


def downgrade() -> None:
    fact_backfill.remove_facts(op.get_bind(), (facts.STEP,))
