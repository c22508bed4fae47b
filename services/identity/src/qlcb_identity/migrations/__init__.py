"""Identity's schema history (ADR 0022)."""

from sqlalchemy import MetaData

import qlcb_identity.api  # noqa: F401  (its imports define every model's table)
from qlcb_identity.db_models import Base, make_inbox, make_outbox


def target_metadata() -> MetaData:
    """Every table of identity's store: its models' and the shared outbox and inbox."""
    make_outbox()
    make_inbox()
    return Base.metadata
