"""The transfer hand-off (R-PER-3, R-ACC-8): Nội Bài sends a civil servant's record to Hồ Chí
Minh City; only the receiving side may accept or decline it; once accepted, the person's
personal account moves to the new unit's group, the Nội Bài purpose account they held is
released, and both headcounts follow."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx

from qlcb_devstack.accounts import Account, ensure_user, password_token
from tests.personal_accounts import issue_personal_account
from tests.support import System, caught_up, eventually, handed_over_on, handover_day, person_body, unique_code

NOI_BAI, HCM = "/TCHQ/HQHN/HQHN-NB", "/TCHQ/HQHCM"


def _client(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


async def _new_person(api: httpx.AsyncClient, system: System, full_name: str) -> dict[str, Any]:
    created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], full_name, sex="female"))
    assert created.status_code == 201, created.text
    person: dict[str, Any] = created.json()
    return person


async def _sent_to_hcm(
    hanoi: httpx.AsyncClient, system: System, full_name: str, decision: str
) -> tuple[dict[str, Any], dict[str, str], str]:
    """A new Nội Bài record sent to Hồ Chí Minh City: the person, the send body and the transfer id."""
    person = await _new_person(hanoi, system, full_name)
    body = {
        "person_id": person["id"],
        "to_unit_id": system.unit_ids["HQHCM"],
        "effective_date": "2026-12-01",
        "decision": decision,
    }
    sent = await hanoi.post("/v1/transfers", json=body)
    assert sent.status_code == 201, sent.text
    return person, body, sent.json()["id"]


def _hcm_admin_token(system: System) -> str:
    """A local admin of Hồ Chí Minh City customs: the receiving side of the hand-off."""
    admin = Account("qthcm", "Quản trị HCM 2026", "local-admin", HCM, "Trần Thị Nhận")
    ensure_user(system.infra.keycloak_admin(), admin)
    return password_token(system.infra.keycloak.base_url, admin.username, admin.password)


def _group_paths(system: System, username: str) -> list[str]:
    admin = system.infra.keycloak_admin()
    user_id = admin.get_user_id(username)
    assert user_id is not None
    return sorted(g["path"] for g in admin.get_user_groups(user_id))


async def test_an_accepted_transfer_moves_the_account_the_purpose_accounts_and_the_headcount(system: System) -> None:
    transfer_body = {"effective_date": "2026-12-01", "decision": "412/QĐ-TCHQ", "to_unit_id": system.unit_ids["HQHCM"]}
    async with (
        _client(system.gateway_url, system.token("qthanoi")) as hanoi,
        _client(system.gateway_url, _hcm_admin_token(system)) as hcm,
        _client(system.gateway_url, system.token("thutruong.hcm")) as hcm_leader,
        _client(system.services.identity_url, system.token("quantri")) as identity,
    ):
        person = await _new_person(hanoi, system, "Đặng Thị Chuyển")
        username = await issue_personal_account(system, person["personal_id"], "Đặng Thị Chuyển")
        await identity.put("/v1/quotas", json={"unit_path": NOI_BAI, "kind": "user", "limit": 50})
        purpose = await identity.post(
            "/v1/purpose-accounts",
            json={"unit_path": NOI_BAI, "purpose": f"Nhân sự {unique_code('')}", "tier": "local-officer"},
        )
        assert purpose.status_code == 201, purpose.text
        holders = f"/v1/purpose-accounts/{purpose.json()['account']['id']}/holders"
        held = await identity.post(
            holders,
            json={
                "holder_name": "Đặng Thị Chuyển",
                "holder_personal_id": person["personal_id"],
                "holder_email": "dang.thi.chuyen@haiquan.example",
                "since": handover_day(),
            },
        )
        assert held.status_code == 201, held.text
        await handed_over_on(system, purpose.json()["account"]["id"], date(2026, 2, 2))

        async def headcounts() -> tuple[int, int]:
            async def one(code: str) -> int:
                return int((await hanoi.get(f"/v1/units/{system.unit_ids[code]}/headcount")).json()["headcount"])

            return await one("HQHN-NB"), int(
                (await hcm.get(f"/v1/units/{system.unit_ids['HQHCM']}/headcount")).json()["headcount"]
            )

        # The baseline counts the new person: reports has applied every event personnel committed so far.
        await caught_up(system, "reports-personnel")
        noi_bai_before, hcm_before = await headcounts()
        assert noi_bai_before > 0, "the person in Nội Bài's headcount"

        nowhere = await hanoi.post("/v1/transfers", json=transfer_body | {"person_id": person["id"], "to_unit_id": "x"})
        assert nowhere.status_code == 422
        assert nowhere.json()["detail"][0]["loc"] == ["body", "to_unit_id"]
        same = await hanoi.post(
            "/v1/transfers", json=transfer_body | {"person_id": person["id"], "to_unit_id": system.unit_ids["HQHN-NB"]}
        )
        assert same.status_code == 422
        not_theirs = await hcm.post("/v1/transfers", json=transfer_body | {"person_id": person["id"]})
        assert not_theirs.status_code == 404, "only the unit the person is in sends the record; to others it is unknown"

        sent = await hanoi.post("/v1/transfers", json=transfer_body | {"person_id": person["id"]})
        assert sent.status_code == 201, sent.text
        assert sent.json()["status"] == "sent"
        twice = await hanoi.post("/v1/transfers", json=transfer_body | {"person_id": person["id"]})
        assert twice.status_code == 409, "one open transfer per person"
        transfer_id = sent.json()["id"]

        assert (await hanoi.post(f"/v1/transfers/{transfer_id}/accept")).status_code == 403, "the sender cannot accept"
        assert (await hcm_leader.post(f"/v1/transfers/{transfer_id}/accept")).status_code == 403, "a leader only reads"
        pending = (await hcm.get(f"/v1/units/{system.unit_ids['HQHCM']}/transfers", params={"status": "sent"})).json()
        assert transfer_id in [t["id"] for t in pending]
        assert (await hanoi.get(f"/v1/persons/{person['id']}")).json()["unit_id"] == system.unit_ids["HQHN-NB"]

        first, second = await asyncio.gather(
            hcm.post(f"/v1/transfers/{transfer_id}/accept"), hcm.post(f"/v1/transfers/{transfer_id}/accept")
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
        accepted = first if first.status_code == 200 else second
        assert accepted.json()["status"] == "accepted"

        moved = await hcm.get(f"/v1/persons/{person['id']}")
        assert moved.json()["unit_id"] == system.unit_ids["HQHCM"]
        assert (await hanoi.get(f"/v1/persons/{person['id']}")).status_code == 404, "Hà Nội no longer sees the record"

        async def account_groups() -> list[str]:
            return await asyncio.to_thread(_group_paths, system, username)

        await eventually(account_groups, lambda paths: paths == [HCM], timeout=30, what="the account in HCM's group")
        await eventually(
            headcounts,
            lambda counts: counts == (noi_bai_before - 1, hcm_before + 1),
            timeout=30,
            what="both headcounts to follow",
        )

        async def holder_history() -> list[dict[str, Any]]:
            history: list[dict[str, Any]] = (await identity.get(holders)).json()
            return history

        released = await eventually(
            holder_history, lambda h: h[-1]["valid_to"] is not None, timeout=30, what="the purpose account released"
        )
        assert released[-1]["valid_to"] == "2026-12-01"


async def test_a_declined_transfer_leaves_the_person_where_they_were(system: System) -> None:
    async with (
        _client(system.gateway_url, system.token("qthanoi")) as hanoi,
        _client(system.gateway_url, _hcm_admin_token(system)) as hcm,
    ):
        person, body, transfer_id = await _sent_to_hcm(hanoi, system, "Phan Văn Ở", "413/QĐ-TCHQ")
        no_reason = await hcm.post(f"/v1/transfers/{transfer_id}/decline", json={"reason": ""})
        assert no_reason.status_code == 422
        assert no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
        declined = await hcm.post(
            f"/v1/transfers/{transfer_id}/decline", json={"reason": "Không còn chỉ tiêu biên chế"}
        )
        assert declined.status_code == 200, declined.text
        assert declined.json()["status"] == "declined"
        assert declined.json()["decline_reason"] == "Không còn chỉ tiêu biên chế"
        late = await hcm.post(f"/v1/transfers/{transfer_id}/accept")
        assert late.status_code == 409, "a declined transfer cannot be accepted"
        assert (await hanoi.get(f"/v1/persons/{person['id']}")).json()["unit_id"] == system.unit_ids["HQHN-NB"]
        outgoing = (
            await hanoi.get(f"/v1/units/{system.unit_ids['HQHN-NB']}/transfers", params={"direction": "outgoing"})
        ).json()
        assert [t["status"] for t in outgoing if t["id"] == transfer_id] == ["declined"]
        again = await hanoi.post("/v1/transfers", json=body | {"decision": "420/QĐ-TCHQ"})
        assert again.status_code == 201, "after a decline the record can be sent again"


async def test_the_sender_withdraws_an_open_transfer_and_only_the_sender(system: System) -> None:
    async with (
        _client(system.gateway_url, system.token("qthanoi")) as hanoi,
        _client(system.gateway_url, _hcm_admin_token(system)) as hcm,
    ):
        _, body, transfer_id = await _sent_to_hcm(hanoi, system, "Lại Văn Thu Hồi", "414/QĐ-TCHQ")
        province = f"/v1/units/{system.unit_ids['HQHN']}/transfers"
        waiting = {"direction": "outgoing", "status": "sent"}
        from_subtree = (await hanoi.get(province, params=waiting | {"include_subtree": "true"})).json()
        from_province_itself = (await hanoi.get(province, params=waiting)).json()
        no_reason = await hanoi.post(f"/v1/transfers/{transfer_id}/withdraw", json={"reason": "   "})
        by_receiver = await hcm.post(f"/v1/transfers/{transfer_id}/withdraw", json={"reason": "Không phải của mình"})
        withdrawn = await hanoi.post(
            f"/v1/transfers/{transfer_id}/withdraw", json={"reason": "Quyết định 414 đã bị huỷ"}
        )
        late_accept = await hcm.post(f"/v1/transfers/{transfer_id}/accept")
        twice = await hanoi.post(f"/v1/transfers/{transfer_id}/withdraw", json={"reason": "Lần nữa"})
        incoming = (
            await hcm.get(f"/v1/units/{system.unit_ids['HQHCM']}/transfers", params={"status": "withdrawn"})
        ).json()
        again = await hanoi.post("/v1/transfers", json=body | {"decision": "415/QĐ-TCHQ"})
        accepted_id = again.json()["id"]
        assert (await hcm.post(f"/v1/transfers/{accepted_id}/accept")).status_code == 200
        after_accept = await hanoi.post(f"/v1/transfers/{accepted_id}/withdraw", json={"reason": "Muộn rồi"})

    assert transfer_id in [t["id"] for t in from_subtree], "sent from Nội Bài, a unit of Hà Nội's subtree"
    assert transfer_id not in [t["id"] for t in from_province_itself]
    assert no_reason.status_code == 422
    assert "reason" in no_reason.text
    assert by_receiver.status_code == 403
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["decline_reason"]) == ("withdrawn", "Quyết định 414 đã bị huỷ")
    assert late_accept.status_code == 409, "a withdrawn transfer cannot be accepted"
    assert twice.status_code == 409
    assert [t["id"] for t in incoming if t["id"] == transfer_id] == [transfer_id]
    assert again.status_code == 201, "after a withdrawal the record can be sent again"
    assert after_accept.status_code == 409, "an accepted transfer is no longer the sender's to withdraw"


async def test_an_officer_transferred_leaves_its_sections_behind(system: System) -> None:
    """What Nội Bài's admin granted its officer is not Hồ Chí Minh City's decision."""
    async with (
        _client(system.gateway_url, system.token("qthanoi")) as hanoi,
        _client(system.gateway_url, _hcm_admin_token(system)) as hcm,
        _client(system.services.identity_url, system.token("qthanoi")) as hanoi_identity,
    ):
        person, _, transfer_id = await _sent_to_hcm(hanoi, system, "Kha Thị Nghiệp Vụ", "416/QĐ-TCHQ")
        username = await issue_personal_account(system, person["personal_id"], "Kha Thị Nghiệp Vụ")
        assert (await hanoi_identity.put(f"/v1/accounts/{username}/tiers/local-officer")).status_code == 200
        granted = await hanoi_identity.put(f"/v1/accounts/{username}/sections", json={"sections": ["salary"]})
        assert granted.json()["sections"] == ["salary"]
        assert (await hcm.post(f"/v1/transfers/{transfer_id}/accept")).status_code == 200

    keycloak = system.infra.keycloak_admin()
    user_id = keycloak.get_user_id(username)
    assert user_id is not None

    async def sections() -> list[str]:
        user = await asyncio.to_thread(keycloak.get_user, user_id)
        held: list[str] = (user.get("attributes") or {}).get("qlcb_sections", [])
        return held

    async with _client(system.services.identity_url, system.token("quantri")) as sysadmin:

        async def newest() -> dict[str, Any]:
            found = await sysadmin.get("/v1/audit", params={"target": username, "action": "account.sections"})
            log: list[dict[str, Any]] = found.json()
            return log[0]

        # Identity changes Keycloak, then commits its audit entry: the entry is what is waited for.
        entry = await eventually(
            newest, lambda e: "event" in e["after"], timeout=30, what="the sections taken away, audited"
        )
    assert (entry["before"], entry["after"]) == (
        {"sections": ["salary"]},
        {"sections": [], "event": "qlcb.personnel.person.transferred"},
    )
    assert await sections() == []


async def test_a_local_admin_sent_up_a_level_does_not_become_admin_of_its_new_unit(system: System) -> None:
    """The attack of the review: Nội Bài's local admin sends its own record to Hà Nội customs;
    once accepted, its account must not be local admin of Hà Nội's whole subtree."""
    async with (
        _client(system.gateway_url, system.token("qthanoi")) as hanoi,
        _client(system.services.identity_url, system.token("quantri")) as sysadmin,
    ):
        person = await _new_person(hanoi, system, "Mai Văn Thăng")
        username = await issue_personal_account(system, person["personal_id"], "Mai Văn Thăng")
        assert (await sysadmin.put(f"/v1/accounts/{username}/tiers/local-admin")).status_code == 200
        sent = await hanoi.post(
            "/v1/transfers",
            json={
                "person_id": person["id"],
                "to_unit_id": system.unit_ids["HQHN"],
                "effective_date": "2026-12-01",
                "decision": "417/QĐ-HQHN",
            },
        )
        assert sent.status_code == 201, sent.text
        assert (await hanoi.post(f"/v1/transfers/{sent.json()['id']}/accept")).status_code == 200

        keycloak = system.infra.keycloak_admin()
        user_id = keycloak.get_user_id(username)
        assert user_id is not None

        async def tiers() -> set[str]:
            roles = await asyncio.to_thread(keycloak.get_realm_roles_of_user, user_id)
            return {r["name"] for r in roles}

        async def audited() -> list[dict[str, Any]]:
            found = await sysadmin.get("/v1/audit", params={"target": username, "action": "account.tiers"})
            log: list[dict[str, Any]] = found.json()
            return log

        # Identity changes Keycloak, then commits its audit entry: the entry is what is waited for.
        log = await eventually(audited, lambda entries: len(entries) > 0, timeout=30, what="the unit tier dropped")
        held = await tiers()
        assert "local-admin" not in held
        assert "self" in held, "its own-record tier stays"
        assert _group_paths(system, username) == ["/TCHQ/HQHN"]
    assert log[0]["before"] == {"tiers": ["local-admin"]}


async def test_the_directory_names_units_outside_the_callers_tree_by_code_or_name_without_their_people(
    system: System,
) -> None:
    decided = {"effective_date": "2026-01-05", "decision": "9/QĐ-TCHQ"}
    admin_headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=admin_headers, timeout=30) as admin:
        body = {"code": unique_code("GT"), "name": "Đội giải thể danh bạ", "kind": "sub_unit"}
        gone = await admin.post("/v1/units", json=body | {"parent_id": system.unit_ids["HQHCM"]} | decided)
        assert gone.status_code == 201, gone.text
        dissolved = await admin.post(f"/v1/units/{gone.json()['id']}/dissolve", json=decided | {"decision": "10/QĐ"})
        assert dissolved.status_code == 200, dissolved.text
    headers = {"Authorization": f"Bearer {system.token('qthanoi')}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        by_code = await api.get("/v1/unit-directory", params={"q": "hqhcm"})
        by_name = await api.get("/v1/unit-directory", params={"q": "ho chi minh", "limit": "50"})
        by_gone = await api.get("/v1/unit-directory", params={"q": gone.json()["code"]})
        outside = await api.get(f"/v1/units/{system.unit_ids['HQHCM']}")
        empty = await api.get("/v1/unit-directory", params={"q": " ... "})
        too_many = await api.get("/v1/unit-directory", params={"q": "HQ", "limit": "51"})
    assert by_code.status_code == 200, by_code.text
    found = by_code.json()
    assert {"HQHCM", "HQHCM-TSN", "HQHCM-SG1"} <= {u["code"] for u in found}
    assert all(u["code"].startswith("HQHCM") for u in found)
    assert [u["path"] for u in found] == sorted(u["path"] for u in found), "in tree order"
    assert "Cục Hải quan Thành phố Hồ Chí Minh" in [u["name"] for u in by_name.json()]
    assert set(found[0]) == {"id", "code", "name", "kind", "parent_id", "path", "dissolved_on"}, "no people"
    assert by_gone.json() == [], "a dissolved unit receives nobody"
    assert outside.status_code == 403, "the directory names the unit; reading it is still its own tiers'"
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["loc"][-1] == "q"
    assert too_many.status_code == 422
