"""The inbox keeps each event's stream sequence, and each consumer's mark through which it may have
forgotten ids (ADR 0056)

Until now `processed_events` only grew: a statistics rebuild over a million people added 31 million
rows. Each consumer now deletes the ids it no longer needs; ids recorded before this revision have no
sequence and are kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from qlcb_common.migrations import inbox_marks

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inbox_marks.upgrade()


def downgrade() -> None:
    inbox_marks.downgrade()
