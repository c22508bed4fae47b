"""Generated from the authorization matrix: for every tier (a real Keycloak login of the demo
organisation), every section and action the running services implement, and units inside and
outside the tier's scope, the services allow exactly what the matrix allows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import httpx
import pytest

from qlcb.reports.v1 import reports_pb2, reports_pb2_grpc
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, RecordRef, Scope, Section, allows, scope_for
from qlcb_common.tiers import Tier, in_subtree
from qlcb_devstack import demo
from qlcb_devstack.accounts import Account, ensure_user, password_token
from tests.support import System, unique_code

ACCOUNTS = {Tier(a.tier): a for a in demo.accounts()}
UNIT_PATHS = {u.code: u.path(demo.UNITS_BY_CODE) for u in demo.UNITS}
NEW_UNIT = "/NEW"  # the path a new unit gets below its parent, as far as the matrix is concerned
Call = Callable[[httpx.AsyncClient, System, str], Awaitable[httpx.Response]]


async def _create_unit(api: httpx.AsyncClient, system: System, code: str) -> httpx.Response:
    return await api.post(
        "/v1/units",
        json={
            "code": unique_code("MT"),
            "name": "Đội kiểm thử ma trận",
            "kind": "sub_unit",
            "parent_id": system.unit_ids[code],
        },
    )


async def _made_by_system_admin(system: System, make: Call, code: str) -> dict[str, Any]:
    """What the system admin has just created in a demo unit, for a tier to act on."""
    admin = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=admin, timeout=30) as as_admin:
        created = await make(as_admin, system, code)
    assert created.status_code == 201, created.text
    made: dict[str, Any] = created.json()
    return made


async def _rename_unit(api: httpx.AsyncClient, system: System, code: str) -> httpx.Response:
    """Renaming a sub-unit the system admin has just established below the demo unit."""
    unit = await _made_by_system_admin(system, _create_unit, code)
    return await api.post(
        f"/v1/units/{unit['id']}/rename",
        json={"name": "Đội kiểm thử ma trận (đổi tên)", "effective_date": "2026-12-20", "decision": "20/QĐ-MT"},
    )


async def _get_unit(api: httpx.AsyncClient, system: System, code: str) -> httpx.Response:
    return await api.get(f"/v1/units/{system.unit_ids[code]}")


async def _read_person(api: httpx.AsyncClient, system: System, code: str) -> httpx.Response:
    admin = {"Authorization": f"Bearer {system.token('quantri')}"}
    listing = await api.get(f"/v1/units/{system.unit_ids[code]}/persons", headers=admin)
    # Someone else's record: reading one's own is the self tier's case of test_record_privacy.
    others = [p for p in listing.json()["items"] if p["personal_id"] != demo.self_person().personal_id]
    person_id = others[0]["id"]
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


async def _record_leaving(api: httpx.AsyncClient, system: System, code: str) -> httpx.Response:
    """A resignation in the work history of someone the system admin has just recorded there."""
    person = await _made_by_system_admin(system, _create_person, code)
    return await api.post(
        f"/v1/persons/{person['id']}/status",
        json={"status": "resigned", "effective_date": "2026-12-15", "decision": "15/QĐ-MT"},
    )


async def _headcount(api: httpx.AsyncClient, system: System, code: str) -> httpx.Response:
    return await api.get(f"/v1/units/{system.unit_ids[code]}/headcount")


# (section, action) → (the call on a demo unit, the suffix of the path the matrix is asked about)
OPERATIONS: dict[tuple[Section, Action], tuple[Call, str]] = {
    (Section.UNIT, Action.CREATE): (_create_unit, NEW_UNIT),
    (Section.UNIT, Action.READ): (_get_unit, ""),
    (Section.UNIT, Action.UPDATE): (_rename_unit, NEW_UNIT),
    (Section.IDENTITY, Action.CREATE): (_create_person, ""),
    (Section.IDENTITY, Action.READ): (_read_person, ""),
    (Section.WORK_HISTORY, Action.UPDATE): (_record_leaving, ""),
    (Section.REPORTS, Action.READ): (_headcount, ""),
}


PERSON_SECTIONS = frozenset({Section.IDENTITY, Section.WORK_HISTORY})


def _principal(account: Account) -> Principal:
    """What the services see of the account's token: its tier, unit and granted sections."""
    return Principal(
        subject="",
        username=account.username,
        roles=frozenset({account.tier}),
        unit_path=account.unit_path,
        token="",
        claims={"sections": list(account.sections), "personal_id": account.personal_id},
    )


def _targets(account: Account) -> list[str]:
    """The tier's own unit, a unit below it and a unit outside its subtree, where the demo tree
    has them. The root holds no staff, so it is never a target."""
    own = account.unit_path or ""
    mine = [code for code, path in UNIT_PATHS.items() if path == own and path.count("/") > 1]
    below = [code for code, path in UNIT_PATHS.items() if path.startswith(own + "/")]
    outside = [code for code, path in UNIT_PATHS.items() if not in_subtree(path, own) and path.count("/") > 2]
    return mine[:1] + below[:1] + outside[:1]


CASES = [
    pytest.param(tier, section, action, target, id=f"{tier.value}-{section.value}-{action.value}-{target}")
    for tier, account in ACCOUNTS.items()
    for (section, action) in OPERATIONS
    for target in _targets(account)
]


def _headers(system: System, tier: Tier) -> dict[str, str]:
    return {"Authorization": f"Bearer {system.token(ACCOUNTS[tier].username)}"}


@pytest.mark.parametrize(("tier", "section", "action", "target"), CASES)
async def test_the_services_allow_what_the_matrix_allows(
    system: System, tier: Tier, section: Section, action: Action, target: str
) -> None:
    call, suffix = OPERATIONS[(section, action)]
    principal = _principal(ACCOUNTS[tier])
    allowed = allows(scope_for(principal, section, action), principal, UNIT_PATHS[target] + suffix)
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=_headers(system, tier), timeout=30) as api:
        response = await call(api, system, target)
    # A record the caller may not even read answers as an unknown one (R-PER-7).
    hidden = section in PERSON_SECTIONS and not allows(
        scope_for(principal, Section.IDENTITY, Action.READ), principal, UNIT_PATHS[target]
    )
    expected = {200, 201} if allowed else {404} if hidden and action is not Action.CREATE else {403}
    assert response.status_code in expected, f"{tier} {section} {action} {target}: {response.text}"


async def _all_persons(api: httpx.AsyncClient, system: System) -> tuple[int, list[dict[str, Any]]]:
    """The status and every person of the tree the caller may list, page after page."""
    items: list[dict[str, Any]] = []
    params = {"include_subtree": "true", "page_size": "500"}
    while True:
        response = await api.get(f"/v1/units/{system.root_unit_id}/persons", params=params)
        if response.status_code != 200:
            return response.status_code, []
        items += response.json()["items"]
        if not response.json()["next_page_token"]:
            return 200, items
        params["page_token"] = response.json()["next_page_token"]


@pytest.mark.parametrize("tier", list(Tier), ids=lambda t: t.value)
async def test_listings_hold_exactly_the_rows_in_scope(system: System, tier: Tier) -> None:
    """Compared with what the system admin lists, so units and persons other tests add count too."""
    principal = _principal(ACCOUNTS[tier])
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        api.headers.update(_headers(system, Tier.SYSTEM_ADMIN))
        every_unit = {u["id"]: u["path"] for u in (await api.get("/v1/units")).json()}
        _, every_person = await _all_persons(api, system)
        api.headers.update(_headers(system, tier))
        units = await api.get("/v1/units")
        persons_status, persons = await _all_persons(api, system)
        backups = await api.get("/v1/backups")

    unit_scope = scope_for(principal, Section.UNIT, Action.READ)
    if unit_scope is Scope.NONE:
        assert units.status_code == 403
    else:
        assert {u["path"] for u in units.json()} == {p for p in every_unit.values() if allows(unit_scope, principal, p)}

    person_scope = scope_for(principal, Section.IDENTITY, Action.READ)
    if person_scope is Scope.NONE:
        assert persons_status == 403
    else:
        assert persons_status == 200
        in_scope = [
            p
            for p in every_person
            if allows(person_scope, principal, every_unit[p["unit_id"]], RecordRef(p["id"], p["personal_id"]))
        ]
        assert sorted(p["id"] for p in persons) == sorted(p["id"] for p in in_scope)

    operates = scope_for(principal, Section.BACKUP, Action.OPERATE) is Scope.SECTOR
    assert backups.status_code == (200 if operates else 403)


def _tierless_token(system: System) -> str:
    """A login of the realm that holds no tier (what an agency's unmapped user gets)."""
    account = Account(unique_code("khongcap").lower(), "Không cấp 2026!", "offline_access", None, "Lê Không Cấp")
    ensure_user(system.infra.keycloak_admin("qlcb"), account)
    return password_token(system.infra.keycloak.base_url, account.username, account.password)


@pytest.mark.parametrize("tier", [*Tier, None], ids=lambda t: t.value if t else "no-tier")
async def test_the_projection_status_needs_the_sectors_reports(system: System, tier: Tier | None) -> None:
    """Reports' projection status counts the events of every unit: the tiers that read the whole
    sector's reports get it, a unit's tiers and a login without a tier are refused, called on
    reports' gRPC port directly as anything on the cluster network can."""
    token = _tierless_token(system) if tier is None else system.token(ACCOUNTS[tier].username)
    allowed = tier is not None and scope_for(_principal(ACCOUNTS[tier]), Section.REPORTS, Action.READ) is Scope.SECTOR
    async with grpc.aio.insecure_channel(system.services.grpc_target("reports")) as channel:
        call = reports_pb2_grpc.ReportsServiceStub(channel).GetProjectionStatus(
            reports_pb2.GetProjectionStatusRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=10
        )
        if allowed:
            assert (await call).events_processed > 0
        else:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call
            assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
