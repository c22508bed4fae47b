"""The inbox's stream sequences and marks (ADR 0056), the same in every service that consumes
events; each service's revision calls these."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def upgrade() -> None:
    op.add_column("processed_events", sa.Column("stream_sequence", sa.BigInteger(), nullable=True))
    op.create_index("ix_processed_events_consumer_processed_at", "processed_events", ["consumer", "processed_at"])
    op.create_table(
        "inbox_marks",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("stream", sa.String(length=100), nullable=False),
        sa.Column("stream_created", sa.String(length=64), nullable=False),
        sa.Column("through", sa.BigInteger(), nullable=False),
        sa.Column("through_event_id", sa.String(length=100), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer"),
    )


def downgrade() -> None:
    op.drop_table("inbox_marks")
    op.drop_index("ix_processed_events_consumer_processed_at", table_name="processed_events")
    op.drop_column("processed_events", "stream_sequence")
