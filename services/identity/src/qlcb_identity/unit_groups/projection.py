"""Keeps Keycloak groups mirroring the unit tree, from personnel's unit events.

A unit's group path is its path of codes (/TCHQ/HQHN/HQHN-NB), which is also what the
access token's `unit` claim carries. Creating a group is idempotent, so a redelivered
event that slipped past the inbox (Keycloak is outside the inbox's transaction) is harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from keycloak import KeycloakAdmin
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2
from qlcb_common.events import subjects
from qlcb_common.events.consumer import Handler
from qlcb_common.events.envelope import unpack

UNIT_SUBJECTS = (subjects.PERSONNEL_UNIT_ESTABLISHED,)


def ensure_group_path(admin: KeycloakAdmin, path: str) -> str:
    """Creates the groups along `/A/B/C` that are missing; returns the id of the last one."""
    parent_id: str | None = None
    walked = ""
    for name in [p for p in path.split("/") if p]:
        walked += "/" + name
        existing = _group_by_path(admin, walked)
        if existing is not None:
            parent_id = existing
            continue
        created = admin.create_group({"name": name}, parent=parent_id, skip_exists=True)
        parent_id = created or _group_by_path(admin, walked)
    if parent_id is None:
        raise ValueError(f"empty group path {path!r}")
    return parent_id


def _group_by_path(admin: KeycloakAdmin, path: str) -> str | None:
    try:
        group = admin.get_group_by_path(path)
    except Exception:
        return None
    return group.get("id") if isinstance(group, dict) else None


def projection(admin: Callable[[], KeycloakAdmin]) -> Handler:
    async def apply(_session: AsyncSession, envelope: Envelope) -> None:
        if envelope.subject == subjects.PERSONNEL_UNIT_ESTABLISHED:
            unit = unpack(envelope, events_pb2.UnitEstablished).unit
            await asyncio.to_thread(ensure_group_path, admin(), unit.path)

    return apply
