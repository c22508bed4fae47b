"""Generated from the authorization matrix: for every tier (a real Keycloak login of the demo
organisation), every section and action the running services implement, a unit inside and a
unit outside the tier's scope, the services allow exactly what the matrix allows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from qlcb_common.auth import Principal
from qlcb_common.authz import MATRIX, Action, Scope, Section, allows
from qlcb_common.tiers import Tier, in_subtree
from qlcb_devstack import demo
from qlcb_devstack.accounts import Account
from tests.support import System, unique_code

ACCOUNTS = {Tier(a.tier): a for a in demo.accounts()}
UNIT_PATHS = {u.code: u.path(demo.UNITS_BY_CODE) for u in demo.UNITS}
Call = Callable[[httpx.AsyncClient, System, str], Awaitable[httpx.Response]]


async def _get_unit(api: httpx.AsyncClient, system: System, code: str) -> httpx.Response:
    return await api.get(f"/v1/units/{system.unit_ids[code]}")


async def _read_person(api: httpx.AsyncClient, system: System, code: str) -> httpx.Response:
    admin = {"Authorization": f"Bearer {system.token('quantri')}"}
    listing = await api.get(f"/v1/units/{system.unit_ids[code]}/persons", headers=admin)
    person_id = listing.json()["items"][0]["id"]
    return await api.get(f"/v1/persons/{person_id}")


async def _create_person(api: httpx.AsyncClient, system: System, code: str) -> httpx.Response:
    return await api.post(
        "/v1/persons",
        json={
            "personal_id": f"0{unique_code('')[:8].translate(str.maketrans('ABCDEF', '123456'))}001",
            "staff_number": unique_code("M"),
            "full_name": "Kiều Văn Ma Trận",
            "date_of_birth": "1991-02-03",
            "sex": "male",
            "unit_id": system.unit_ids[code],
        },
    )


async def _headcount(api: httpx.AsyncClient, system: System, code: str) -> httpx.Response:
    return await api.get(f"/v1/units/{system.unit_ids[code]}/headcount")


OPERATIONS: dict[tuple[Section, Action], Call] = {
    (Section.UNIT, Action.READ): _get_unit,
    (Section.IDENTITY, Action.READ): _read_person,
    (Section.IDENTITY, Action.CREATE): _create_person,
    (Section.REPORTS, Action.READ): _headcount,
}


def _principal(account: Account) -> Principal:
    return Principal(
        subject="", username=account.username, roles=frozenset({account.tier}), unit_path=account.unit_path, token=""
    )


def _targets(account: Account) -> list[str]:
    """The tier's own unit (or, for the root, a child) and one unit outside its subtree, if any."""
    own = account.unit_path or ""
    inside = next(code for code, path in UNIT_PATHS.items() if in_subtree(path, own) and path.count("/") > 1)
    outside = [code for code, path in UNIT_PATHS.items() if not in_subtree(path, own) and path.count("/") > 2]
    return [inside, *outside[:1]]


CASES = [
    pytest.param(tier, section, action, target, id=f"{tier.value}-{section.value}-{action.value}-{target}")
    for tier, account in ACCOUNTS.items()
    for (section, action) in OPERATIONS
    for target in _targets(account)
]


@pytest.mark.parametrize(("tier", "section", "action", "target"), CASES)
async def test_the_services_allow_what_the_matrix_allows(
    system: System, tier: Tier, section: Section, action: Action, target: str
) -> None:
    account = ACCOUNTS[tier]
    allowed = allows(MATRIX[tier][section][action], _principal(account), UNIT_PATHS[target])
    headers = {"Authorization": f"Bearer {system.token(account.username)}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        response = await OPERATIONS[(section, action)](api, system, target)
    expected = {200, 201} if allowed else {403}
    assert response.status_code in expected, f"{tier} {section} {action} {target}: {response.text}"


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
async def test_listings_hold_exactly_the_rows_in_scope(system: System, tier: Tier) -> None:
    account = ACCOUNTS[tier]
    scope = MATRIX[tier][Section.UNIT][Action.READ]
    headers = {"Authorization": f"Bearer {system.token(account.username)}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        units = await api.get("/v1/units")
        backups = await api.get("/v1/backups")
    if scope is Scope.NONE:
        assert units.status_code == 403
    else:
        # Other tests add units of their own; the demo units are the ones whose answer is known.
        seen = {u["path"] for u in units.json()} & set(UNIT_PATHS.values())
        assert seen == {p for p in UNIT_PATHS.values() if allows(scope, _principal(account), p)}
    operates = MATRIX[tier][Section.BACKUP][Action.OPERATE] is Scope.SECTOR
    assert backups.status_code == (200 if operates else 403)
