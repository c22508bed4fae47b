"""Seeds the demo organisation: accounts in Keycloak, units and personnel through the gateway."""

from __future__ import annotations

import httpx
from keycloak import KeycloakAdmin

from qlcb_devstack import demo, records
from qlcb_devstack.accounts import ensure_user, password_token


def seed_accounts(admin: KeycloakAdmin) -> dict[str, str]:
    """Creates one login per tier; returns username → password."""
    for account in demo.accounts():
        ensure_user(admin, account)
    return {a.username: a.password for a in demo.accounts()}


def seed_organisation(gateway_url: str, keycloak_url: str, *, persons: int = 36) -> dict[str, str]:
    """Creates the demo units and personnel, each with a full record, as the system admin; returns
    unit code → id."""
    admin = next(a for a in demo.accounts() if a.tier == "system-admin")
    token = password_token(keycloak_url, admin.username, admin.password)
    unit_ids: dict[str, str] = {}
    with httpx.Client(base_url=gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        for unit in demo.UNITS:
            body = {
                "code": unit.code,
                "name": unit.name,
                "kind": unit.kind,
                "parent_id": unit_ids[unit.parent] if unit.parent else None,
            }
            response = api.post("/v1/units", json=body)
            response.raise_for_status()
            unit_ids[unit.code] = response.json()["id"]
        for person in demo.personnel(persons):
            response = api.post(
                "/v1/persons",
                json={
                    "personal_id": person.personal_id,
                    "staff_number": person.staff_number,
                    "full_name": person.full_name,
                    "date_of_birth": person.date_of_birth.isoformat(),
                    "sex": person.sex,
                    "unit_id": unit_ids[person.unit_code],
                },
            )
            response.raise_for_status()
            person_id = response.json()["id"]
            for entry in records.sections(person):
                recorded = api.post(f"/v1/persons/{person_id}/{entry.section}", json=entry.body)
                if recorded.status_code != 201:
                    raise RuntimeError(f"demo {entry.section} of {person.full_name} refused: {recorded.text}")
    return unit_ids
