"""A search finds people by religion, home province, reward, discipline and labour contract (R-PER-5)

The search facts gain what the current entries of the personal details (the religion, the home
town's province), the rewards, the disciplines and the labour contracts give, by the function the
service now keeps them with; the facts those sections gave before (the ethnicity) stay as they are.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from qlcb_personnel.search import facts

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDED = (facts.RELIGION, facts.HOME_PROVINCE, facts.REWARD, facts.DISCIPLINE, facts.CONTRACT)
SECTIONS = ("personal_details", "rewards", "disciplines", "labour_contracts")
AT_ONCE = 5_000

_entries = sa.table(
    "record_entries",
    sa.column("id", sa.String),
    sa.column("entry_id", sa.String),
    sa.column("person_id", sa.String),
    sa.column("section", sa.String),
    sa.column("valid_from", sa.Date),
    sa.column("valid_to", sa.Date),
    sa.column("values", sa.JSON),
    sa.column("superseded_at", sa.DateTime),
    sa.column("retracted", sa.Boolean),
)
_facts = sa.table(
    "search_facts",
    sa.column("source_id", sa.String),
    sa.column("fact", sa.String),
    sa.column("person_id", sa.String),
    sa.column("value", sa.String),
    sa.column("valid_from", sa.Date),
    sa.column("valid_to", sa.Date),
)


def upgrade() -> None:
    """A batch of entries at a time, by their key: no cursor stays open while the facts are written."""
    connection = op.get_bind()
    after = ""
    while True:
        batch = connection.execute(
            sa.select(
                _entries.c.id,
                _entries.c.entry_id,
                _entries.c.person_id,
                _entries.c.section,
                _entries.c.valid_from,
                _entries.c.valid_to,
                _entries.c["values"],
            )
            .where(
                _entries.c.id > after,
                _entries.c.section.in_(SECTIONS),
                _entries.c.superseded_at.is_(None),
                _entries.c.retracted.is_(sa.false()),
            )
            .order_by(_entries.c.id)
            .limit(AT_ONCE)
        ).all()
        if not batch:
            return
        rows = [
            {
                "source_id": entry_id,
                "fact": fact.fact,
                "person_id": person_id,
                "value": fact.value,
                "valid_from": fact.valid_from,
                "valid_to": fact.valid_to,
            }
            for _id, entry_id, person_id, section, valid_from, valid_to, values in batch
            for fact in facts.entry_facts(section, values, valid_from, valid_to)
            if fact.fact in ADDED
        ]
        if rows:
            connection.execute(sa.insert(_facts), rows)
        after = batch[-1].id


def downgrade() -> None:
    op.execute(sa.delete(_facts).where(_facts.c.fact.in_(ADDED)))
