"""The backup catalog's schema history (ADR 0022)."""

from sqlalchemy import MetaData

import qlcb_backup.app  # noqa: F401  (its imports define every model's table)
from qlcb_backup.db_models import Base, make_outbox


def target_metadata() -> MetaData:
    """Every table of the backup catalog: its models' and the shared outbox."""
    make_outbox()
    return Base.metadata
