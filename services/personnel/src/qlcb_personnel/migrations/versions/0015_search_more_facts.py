"""A search finds people by religion, home province, reward, discipline and labour contract (R-PER-5)

The search facts gain what the current entries of the personal details (the religion, the home
town's province), the rewards, the disciplines and the labour contracts give, by the function the
service now keeps them with; the facts those sections gave before (the ethnicity) stay as they are.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from qlcb_personnel.migrations import fact_backfill
from qlcb_personnel.search import facts

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDED = (facts.RELIGION, facts.HOME_PROVINCE, facts.REWARD, facts.DISCIPLINE, facts.CONTRACT)
SECTIONS = ("personal_details", "rewards", "disciplines", "labour_contracts")


def upgrade() -> None:
    fact_backfill.add_facts(op.get_bind(), SECTIONS, ADDED)


def downgrade() -> None:
    fact_backfill.remove_facts(op.get_bind(), ADDED)
