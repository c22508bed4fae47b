"""The inbox's event ids by when each consumer processed them

Each consumer deletes the ids it processed more than its service's `INBOX_KEPT_DAYS` before the latest
it processed (`qlcb_common.events.inbox.Inbox.prune`); this index finds its latest and the ones before
the cut without reading the others. Until now the table only grew: a statistics rebuild over a
million people added 31 million rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_processed_events_consumer_processed_at", "processed_events", ["consumer", "processed_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_events_consumer_processed_at", table_name="processed_events")
