"""Keeps Keycloak groups mirroring the unit tree, from personnel's unit events.

A unit's group path is its path of codes (/TCHQ/HQHN/HQHN-NB), which is also what the
access token's `unit` claim carries; the group's `ten_don_vi` attribute holds the unit's name.
- established: the group is created (idempotent, so a redelivered event is harmless);
- renamed: the attribute follows;
- moved: the group moves under its new parent (the groups below move with it), and what
  identity stores by unit path (account requests, purpose accounts, quotas, delegations) follows;
- dissolved: the group stays for the record, marked with the date; the unit's purpose accounts
  are disabled and their holders released, and its delegations end.
Mergers and splits arrive as those events (personnel publishes the moves they make); people
changing units are the lifecycle projection's business.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import date

from keycloak import KeycloakAdmin, urls_patterns
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.personnel.v1 import events_pb2, personnel_pb2
from qlcb_common.auth import Principal
from qlcb_common.events import subjects
from qlcb_common.events.consumer import Handler
from qlcb_common.events.envelope import unpack
from qlcb_common.events.outbox import Outbox
from qlcb_identity.account_requests.models import AccountRequest
from qlcb_identity.audit import service as audit
from qlcb_identity.delegations import service as delegations
from qlcb_identity.holders.models import Holder
from qlcb_identity.purpose_accounts import holdings
from qlcb_identity.purpose_accounts.models import HolderAssignment, PurposeAccount, UnitQuota

UNIT_SUBJECTS = (
    subjects.PERSONNEL_UNIT_ESTABLISHED,
    subjects.PERSONNEL_UNIT_RENAMED,
    subjects.PERSONNEL_UNIT_MOVED,
    subjects.PERSONNEL_UNIT_DISSOLVED,
)
NAME_ATTRIBUTE, DISSOLVED_ATTRIBUTE = "ten_don_vi", "ngay_giai_the"


def ensure_group_path(admin: KeycloakAdmin, path: str) -> str:
    """Creates the groups along `/A/B/C` that are missing; returns the id of the last one."""
    parent_id: str | None = None
    walked = ""
    for name in [p for p in path.split("/") if p]:
        walked += "/" + name
        existing = group_id(admin, walked)
        if existing is not None:
            parent_id = existing
            continue
        created = admin.create_group({"name": name}, parent=parent_id, skip_exists=True)
        parent_id = created or group_id(admin, walked)
    if parent_id is None:
        raise ValueError(f"empty group path {path!r}")
    return parent_id


def group_id(admin: KeycloakAdmin, path: str) -> str | None:
    try:
        group = admin.get_group_by_path(path)
    except Exception:
        return None
    return group.get("id") if isinstance(group, dict) else None


def _set_attributes(admin: KeycloakAdmin, path: str, values: dict[str, str]) -> None:
    gid = ensure_group_path(admin, path)
    group = admin.get_group(gid)
    attributes = dict(group.get("attributes") or {})
    attributes.update({key: [value] for key, value in values.items()})
    admin.update_group(gid, {"name": group["name"], "attributes": attributes})


def _move_group(admin: KeycloakAdmin, previous_path: str, path: str) -> None:
    """Moves the group at `previous_path` to `path`; if it is already there (it moved along with
    its parent, or the event is redelivered), only makes sure it exists."""
    gid = group_id(admin, previous_path)
    if gid is None:
        ensure_group_path(admin, path)
        return
    parent_id = ensure_group_path(admin, path.rsplit("/", 1)[0])
    url = urls_patterns.URL_ADMIN_GROUP_CHILD.format(**{"realm-name": admin.connection.realm_name, "id": parent_id})
    response = admin.connection.raw_post(url, data=json.dumps({"id": gid, "name": path.rsplit("/", 1)[-1]}))
    if response.status_code not in (201, 204):
        raise RuntimeError(f"moving group {previous_path} to {path}: HTTP {response.status_code} {response.text}")


def _disable(admin: KeycloakAdmin, user_ids: list[str]) -> None:
    for user_id in user_ids:
        admin.update_user(user_id, {"enabled": False})


async def _follow_move(session: AsyncSession, previous_path: str, path: str) -> None:
    for model in (AccountRequest, PurposeAccount, UnitQuota, Holder):
        await session.execute(update(model).where(model.unit_path == previous_path).values(unit_path=path))


async def _close_unit(
    session: AsyncSession, outbox: Outbox, actor: Principal, unit: personnel_pb2.Unit, effective: date
) -> list[str]:
    """Releases the holders of the unit's purpose accounts; returns the Keycloak ids to disable."""
    accounts = list((await session.scalars(select(PurposeAccount).where(PurposeAccount.unit_path == unit.path))).all())
    by_id = {a.id: a for a in accounts}
    held = await session.scalars(
        select(HolderAssignment).where(HolderAssignment.account_id.in_(by_id), HolderAssignment.valid_to.is_(None))
    )
    for assignment in held:
        assignment.valid_to = max(effective, assignment.valid_from)
        await holdings.publish(session, outbox, actor, by_id[assignment.account_id], assignment)
    for account in accounts:
        audit.record(
            session,
            actor=actor,
            action="account.disable",
            target=account.username,
            unit_path=account.unit_path,
            after={"unit": "dissolved"},
        )
    # An account a realm restore left out of the live realm (ADR 0029) has nothing to disable.
    return [a.keycloak_user_id for a in accounts if a.unlinked_at is None]


def projection(admin: Callable[[], KeycloakAdmin], outbox: Outbox) -> Handler:
    async def apply(session: AsyncSession, envelope: Envelope) -> None:
        # The decision's author, as personnel recorded it, acts through the event.
        actor = Principal(
            subject=envelope.actor, username="personnel-event", roles=frozenset(), unit_path=None, token=""
        )
        if envelope.subject == subjects.PERSONNEL_UNIT_ESTABLISHED:
            unit = unpack(envelope, events_pb2.UnitEstablished).unit
            await asyncio.to_thread(_set_attributes, admin(), unit.path, {NAME_ATTRIBUTE: unit.name})
        elif envelope.subject == subjects.PERSONNEL_UNIT_RENAMED:
            unit = unpack(envelope, events_pb2.UnitRenamed).unit
            await asyncio.to_thread(_set_attributes, admin(), unit.path, {NAME_ATTRIBUTE: unit.name})
        elif envelope.subject == subjects.PERSONNEL_UNIT_MOVED:
            moved = unpack(envelope, events_pb2.UnitMoved)
            await asyncio.to_thread(_move_group, admin(), moved.previous_path, moved.unit.path)
            await _follow_move(session, moved.previous_path, moved.unit.path)
            await delegations.follow_unit(
                session, actor=actor, outbox=outbox, previous_path=moved.previous_path, new_path=moved.unit.path
            )
            audit.record(
                session,
                actor=actor,
                action="group.move",
                target=moved.unit.path,
                unit_path=moved.unit.path,
                before={"path": moved.previous_path},
            )
        elif envelope.subject == subjects.PERSONNEL_UNIT_DISSOLVED:
            dissolved = unpack(envelope, events_pb2.UnitDissolved)
            unit, effective = dissolved.unit, date.fromisoformat(dissolved.effective_date)
            users = await _close_unit(session, outbox, actor, unit, effective)
            await asyncio.to_thread(_disable, admin(), users)
            await asyncio.to_thread(_set_attributes, admin(), unit.path, {DISSOLVED_ATTRIBUTE: effective.isoformat()})
            await delegations.follow_unit(session, actor=actor, outbox=outbox, previous_path=unit.path, new_path=None)

    return apply
