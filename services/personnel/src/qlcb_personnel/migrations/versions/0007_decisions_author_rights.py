"""The rights of a decision's author, kept with the decision

A decision recorded for a later day was applied on that day as whoever recorded it without asking
whether they still might change its people: a delegation ended or revoked in between, or a person
moved out of the author's scope, did not stop it. The author's tiers, unit and granted sections are
now kept with the decision and checked again when it is applied.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("decision_documents", sa.Column("created_as", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("decision_documents", "created_as")
