"""The statistics read-model (ADR 0031): dated facts per person, in generations

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stat_codes",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("catalog", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("stat_group", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("generation", "catalog", "code"),
    )
    op.create_table(
        "stat_facts",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("fact", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=36), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("generation", "person_id", "source_id", "fact"),
    )
    with op.batch_alter_table("stat_facts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stat_facts_lookup", ["generation", "fact", "value", "valid_to", "valid_from", "person_id"], unique=False
        )
        batch_op.create_index("ix_stat_facts_person", ["generation", "person_id", "fact", "valid_to"], unique=False)

    op.create_table(
        "stat_generations",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("switched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "stat_persons",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("personal_id", sa.String(length=12), nullable=False),
        sa.Column("staff_number", sa.String(length=32), nullable=False),
        sa.Column("full_name", sa.String(length=150), nullable=False),
        sa.Column("name_sort", sa.LargeBinary(length=1024), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("generation", "person_id"),
    )
    op.create_table(
        "stat_quotas",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("generation", "unit_id", "effective_date"),
    )


def downgrade() -> None:
    op.drop_table("stat_quotas")
    op.drop_table("stat_persons")
    op.drop_table("stat_generations")
    with op.batch_alter_table("stat_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_stat_facts_person")
        batch_op.drop_index("ix_stat_facts_lookup")

    op.drop_table("stat_facts")
    op.drop_table("stat_codes")
