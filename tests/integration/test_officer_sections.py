"""A local officer works on the record sections its admin granted, inside its subtree, and on
nothing else (domain tier table: "the record sections its admin granted"). The grant lives in
Keycloak, travels in the access token, and every service reads it from there."""

from __future__ import annotations

import httpx
import jwt
import pytest

from qlcb_devstack.accounts import Account, ensure_user, password_token
from tests.support import System, person_body, unique_code

NOI_BAI = "/TCHQ/HQHN/HQHN-NB"


def _officer(system: System, unit_path: str = NOI_BAI, tier: str = "local-officer") -> Account:
    account = Account(unique_code("ns").lower(), "Nhân sự Nội Bài 2026", tier, unit_path, "Phan Văn Giao")
    ensure_user(system.infra.keycloak_admin(), account)
    return account


def _token(system: System, account: Account) -> str:
    return password_token(system.infra.keycloak.base_url, account.username, account.password)


def _client(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


async def test_an_officer_works_only_on_the_sections_granted_and_only_until_revoked(system: System) -> None:
    officer = _officer(system)
    noi_bai, hcm = system.unit_ids["HQHN-NB"], system.unit_ids["HQHCM"]

    async with _client(system.gateway_url, _token(system, officer)) as ungranted:
        staff = await ungranted.get(f"/v1/units/{noi_bai}/persons")
        refused = await ungranted.post("/v1/persons", json=person_body(noi_bai, "Cao Thị Được Giao", sex="female"))
    assert staff.status_code == 200, staff.text  # finding the staff needs no grant
    assert refused.status_code == 403

    async with _client(system.services.identity_url, system.token("qthanoi")) as admin:
        granted = await admin.put(
            f"/v1/accounts/{officer.username}/sections",
            json={"sections": ["work_history", "movement", "identity", "identity"]},
        )
        shown = await admin.get(f"/v1/accounts/{officer.username}/sections")
    assert granted.status_code == 200, granted.text
    assert granted.json()["sections"] == ["identity", "movement", "work_history"]
    assert shown.json()["sections"] == ["identity", "movement", "work_history"]

    token = _token(system, officer)
    assert sorted(jwt.decode(token, options={"verify_signature": False})["sections"]) == [
        "identity",
        "movement",
        "work_history",
    ]
    async with _client(system.gateway_url, token) as working:
        created = await working.post("/v1/persons", json=person_body(noi_bai, "Cao Thị Được Giao", sex="female"))
        outside = await working.post("/v1/persons", json=person_body(hcm, "Cao Thị Được Giao", sex="female"))
        assert created.status_code == 201, created.text
        retired = await working.post(
            f"/v1/persons/{created.json()['id']}/status",
            json={"status": "retired", "effective_date": "2026-12-31", "decision": "77/QĐ-HQHN"},
        )
    assert outside.status_code == 403
    assert retired.status_code == 200, retired.text

    async with _client(system.services.identity_url, system.token("qthanoi")) as admin:
        revoked = await admin.put(f"/v1/accounts/{officer.username}/sections", json={"sections": []})
    assert revoked.json()["sections"] == []
    async with _client(system.gateway_url, _token(system, officer)) as after:
        again = await after.post("/v1/persons", json=person_body(noi_bai, "Cao Thị Được Giao", sex="female"))
    assert again.status_code == 403

    async with _client(system.services.identity_url, system.token("quantri")) as sysadmin:
        log = (await sysadmin.get("/v1/audit", params={"target": officer.username})).json()
    changes = [(e["actor_username"], e["before"], e["after"]) for e in log if e["action"] == "account.sections"]
    assert changes == [
        ("qthanoi", {"sections": ["identity", "movement", "work_history"]}, {"sections": []}),
        ("qthanoi", {"sections": []}, {"sections": ["identity", "movement", "work_history"]}),
    ]


@pytest.mark.parametrize(
    ("sections", "fragment"),
    [(["backup"], "backup"), (["salary", "unit"], "unit"), (["no-such-section"], "sections")],
)
async def test_only_record_sections_can_be_granted(system: System, sections: list[str], fragment: str) -> None:
    officer = _officer(system)
    async with _client(system.services.identity_url, system.token("qthanoi")) as admin:
        response = await admin.put(f"/v1/accounts/{officer.username}/sections", json={"sections": sections})
    assert response.status_code == 422
    assert "sections" in response.text
    assert fragment in response.text


def test_keycloak_itself_refuses_a_section_outside_the_record(system: System) -> None:
    """The user profile's options hold even for a change made on Keycloak's own admin API."""
    officer = _officer(system)
    keycloak = system.infra.keycloak_admin()
    user_id = keycloak.get_user_id(officer.username)
    assert user_id is not None
    user = keycloak.get_user(user_id)
    admin_token = keycloak.connection.token
    assert admin_token is not None
    response = httpx.put(
        f"{system.infra.keycloak.base_url}/admin/realms/qlcb/users/{user_id}",
        headers={"Authorization": f"Bearer {admin_token['access_token']}"},
        json={**user, "attributes": {**(user.get("attributes") or {}), "qlcb_sections": ["backup"]}},
        timeout=30,
    )
    assert response.status_code == 400
    assert "qlcb_sections" in response.text
    assert "qlcb_sections" not in (keycloak.get_user(user_id).get("attributes") or {})


def _target_account(system: System, target: str) -> str:
    if target == "outside":
        return _officer(system, "/TCHQ/HQHCM").username
    if target == "not-officer":
        return _officer(system, tier="self").username
    if target == "officer":
        return _officer(system).username
    if target == "nobody":
        return unique_code("nobody").lower()
    return target


@pytest.mark.parametrize(
    ("granter", "target", "status"),
    [
        ("qthanoi", "outside", 404),  # an officer of Hồ Chí Minh City: outside its subtree, as if unknown
        ("qthanoi", "not-officer", 409),  # an account without the local-officer tier
        ("qthanoi", "qthanoi", 403),  # itself
        ("qthanoi", "nobody", 404),
        ("thutruong.hcm", "officer", 403),  # a unit leader administers no accounts
        ("thutruong.hcm", "nobody", 403),  # ... and learns nothing of which exist
    ],
)
async def test_granting_is_refused_beyond_the_admin_and_audited(
    system: System, granter: str, target: str, status: int
) -> None:
    username = _target_account(system, target)
    async with _client(system.services.identity_url, system.token(granter)) as admin:
        response = await admin.put(f"/v1/accounts/{username}/sections", json={"sections": ["salary"]})
    assert response.status_code == status, response.text
    if status == 403 or target == "outside":
        async with _client(system.services.identity_url, system.token("quantri")) as sysadmin:
            log = (await sysadmin.get("/v1/audit", params={"target": username, "action": "account.sections"})).json()
        assert (log[0]["actor_username"], log[0]["outcome"]) == (granter, "refused")
    keycloak = system.infra.keycloak_admin()
    user_id = keycloak.get_user_id(username)
    if user_id is not None:
        assert "qlcb_sections" not in (keycloak.get_user(user_id).get("attributes") or {})


async def test_revoking_the_officer_tier_takes_the_sections_with_it(system: System) -> None:
    officer = _officer(system)
    async with _client(system.services.identity_url, system.token("qthanoi")) as admin:
        granted = await admin.put(f"/v1/accounts/{officer.username}/sections", json={"sections": ["salary"]})
        revoked = await admin.delete(f"/v1/accounts/{officer.username}/tiers/local-officer")
        regranted = await admin.put(f"/v1/accounts/{officer.username}/tiers/local-officer")
        shown = await admin.get(f"/v1/accounts/{officer.username}/sections")
    assert granted.json()["sections"] == ["salary"]
    assert (revoked.status_code, regranted.status_code) == (200, 200)
    assert shown.json()["sections"] == [], "a re-granted officer starts with no sections"


async def test_the_next_raise_is_shown_only_to_whoever_reads_what_moves_it(system: System) -> None:
    """A discipline or a year not completed moves the next regular raise: an officer granted the salary
    but not the disciplines and evaluations is not told the date, which would tell of them."""
    officer = _officer(system)
    noi_bai = system.unit_ids["HQHN-NB"]
    async with _client(system.gateway_url, system.token("qthanoi")) as admin:
        created = await admin.post("/v1/persons", json=person_body(noi_bai, "Đinh Văn Bậc"))
        person = created.json()["id"]
        salary = {
            "values": {"rank_code": "08.051", "step": 1, "coefficient": "2.34"},
            "valid_from": "2024-01-01",
            "decision": {"number": "12/QĐ-HQHN", "date": "2023-12-20", "body": "Cục Hải quan TP Hà Nội"},
        }
        assert (await admin.post(f"/v1/persons/{person}/salary", json=salary)).status_code == 201
        shown = (await admin.get(f"/v1/persons/{person}/record")).json()
    async with _client(system.services.identity_url, system.token("qthanoi")) as admin:
        granted = await admin.put(f"/v1/accounts/{officer.username}/sections", json={"sections": ["salary"]})
    assert granted.status_code == 200, granted.text
    async with _client(system.gateway_url, _token(system, officer)) as working:
        record = (await working.get(f"/v1/persons/{person}/record")).json()
    assert shown["next_regular_raise"] == "2027-01-01", "36 months per step in group A1"
    assert [e["values"]["step"] for e in record["sections"]["salary"]] == [1]
    assert record["sections"].get("disciplines") is None
    assert record["next_regular_raise"] is None
