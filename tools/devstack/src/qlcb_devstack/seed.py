"""Seeds the demo organisation: accounts in Keycloak, units and personnel through the gateway.

Every person goes through personnel's own API and checks: `POST /v1/persons`, then the whole
generated record in one `POST /v1/persons/{id}/record` (all or nothing). Two people are recorded at
a time: while personnel writes one, the gateway and this client prepare the next. More would only
queue behind SQLite's single writer (`make up`'s store), and under a heavily loaded machine wait
past its busy timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import httpx
from keycloak import KeycloakAdmin

from qlcb_devstack import demo, records
from qlcb_devstack.accounts import ensure_user, password_token

IN_FLIGHT = 2
TOKEN_LIFETIME = 200.0
"""Seconds a token is used for before a fresh one is asked for (the realm's tokens live 300)."""


def seed_accounts(admin: KeycloakAdmin) -> dict[str, str]:
    """Creates one login per tier; returns username → password."""
    for account in demo.accounts():
        ensure_user(admin, account)
    return {a.username: a.password for a in demo.accounts()}


class _Token:
    """The system admin's access token, renewed before it expires."""

    def __init__(self, keycloak_url: str) -> None:
        self._keycloak_url = keycloak_url
        self._admin = next(a for a in demo.accounts() if a.tier == "system-admin")
        self._token = ""
        self._taken = 0.0
        # One renewal at a time: the workers asking at once sent simultaneous password grants for
        # one user, which Keycloak's brute-force detection answered by locking it for a minute.
        self._renewing = asyncio.Lock()

    async def header(self) -> dict[str, str]:
        async with self._renewing:
            if time.monotonic() - self._taken > TOKEN_LIFETIME:
                self._token = await asyncio.to_thread(
                    password_token, self._keycloak_url, self._admin.username, self._admin.password
                )
                self._taken = time.monotonic()
        return {"Authorization": f"Bearer {self._token}"}


def seed_organisation(gateway_url: str, keycloak_url: str, *, persons: int = demo.DEMO_PEOPLE) -> dict[str, str]:
    """Creates the demo units and `persons` people, each with a full record, as the system admin;
    returns unit code → id."""
    return asyncio.run(_seed(gateway_url, keycloak_url, demo.people(persons)))


async def _seed(gateway_url: str, keycloak_url: str, people: Iterable[demo.DemoPerson]) -> dict[str, str]:
    token = _Token(keycloak_url)
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=60, limits=limits) as api:
        unit_ids: dict[str, str] = {}
        for unit in demo.UNITS:
            body = {
                "code": unit.code,
                "name": unit.name,
                "kind": unit.kind,
                "parent_id": unit_ids[unit.parent] if unit.parent else None,
            }
            response = await api.post("/v1/units", json=body, headers=await token.header())
            response.raise_for_status()
            unit_ids[unit.code] = response.json()["id"]
        queue: asyncio.Queue[demo.DemoPerson | None] = asyncio.Queue(maxsize=IN_FLIGHT)

        async def record_people() -> None:
            while (person := await queue.get()) is not None:
                await _record_person(api, await token.header(), unit_ids, person)

        async with asyncio.TaskGroup() as workers:
            for _ in range(IN_FLIGHT):
                workers.create_task(record_people())
            for person in people:
                await queue.put(person)
            for _ in range(IN_FLIGHT):
                await queue.put(None)
    return unit_ids


async def _record_person(
    api: httpx.AsyncClient, headers: dict[str, str], unit_ids: dict[str, str], person: demo.DemoPerson
) -> None:
    response = await api.post(
        "/v1/persons",
        headers=headers,
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
    entries = [{"section": entry.section, **entry.body} for entry in records.sections(person)]
    recorded = await api.post(f"/v1/persons/{response.json()['id']}/record", headers=headers, json={"entries": entries})
    if recorded.status_code != 201:
        raise RuntimeError(f"demo record of {person.full_name} refused: {recorded.text}")
