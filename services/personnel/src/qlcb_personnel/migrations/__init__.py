"""Personnel's schema history (ADR 0022)."""

from sqlalchemy import MetaData

import qlcb_personnel.app  # noqa: F401  (its imports define every model's table)
from qlcb_personnel.db_models import Base, make_delegations, make_inbox, make_outbox


def target_metadata() -> MetaData:
    """Every table of personnel's store: its models' and the shared outbox, inbox and delegations."""
    make_outbox()
    make_inbox()
    if "delegations" not in Base.metadata.tables:
        make_delegations()
    return Base.metadata
