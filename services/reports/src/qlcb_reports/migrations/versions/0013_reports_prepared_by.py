"""Every account that saved, consolidated or sent each report's figures, so that none approves them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREPARING = ("saved", "consolidated", "submitted")


def upgrade() -> None:
    op.add_column("report_assignments", sa.Column("prepared_by", sa.JSON(), nullable=True))
    # The preparers of the reports already written are the accounts of their steps that put figures
    # in, in the order each first did.
    bind = op.get_bind()
    steps = bind.execute(
        sa.text(
            "SELECT assignment_id, account FROM report_transitions WHERE action IN :actions "
            "ORDER BY assignment_id, occurred_at, version"
        ).bindparams(sa.bindparam("actions", expanding=True)),
        {"actions": list(PREPARING)},
    )
    prepared: dict[str, list[str]] = {}
    for assignment_id, account in steps:
        accounts = prepared.setdefault(assignment_id, [])
        if account not in accounts:
            accounts.append(account)
    update = sa.text("UPDATE report_assignments SET prepared_by = :prepared WHERE id = :id")
    for assignment_id, accounts in prepared.items():
        bind.execute(update, {"prepared": json.dumps(accounts), "id": assignment_id})


def downgrade() -> None:
    op.drop_column("report_assignments", "prepared_by")
