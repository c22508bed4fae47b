"""The account lifecycle from personnel's events (R-ACC-8, R-PER-3): a retirement disables the
holder's account, releases the purpose accounts they held and leaves the headcount; a
reinstatement brings the account and the headcount back."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime
from typing import Any

import httpx

from qlcb_common.days import VIETNAM
from qlcb_common.working_days import WorkingCalendar
from qlcb_identity.calendar import due_after_working_days
from tests.personal_accounts import issue_personal_account
from tests.support import System, caught_up, eventually, handed_over_on, handover_day, person_body, unique_code


def _client(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _enabled(system: System, username: str) -> bool:
    admin = system.infra.keycloak_admin()
    user_id = admin.get_user_id(username)
    assert user_id is not None
    return bool(admin.get_user(user_id)["enabled"])


async def test_retirement_and_reinstatement_drive_accounts_and_headcount(system: System) -> None:
    personal_id = f"{uuid.uuid4().int % 10**12:012d}"
    unit_id = system.unit_ids["HQHN-NB"]
    async with _client(system.gateway_url, system.token("qthanoi")) as api:
        person = (
            await api.post(
                "/v1/persons",
                json={
                    "personal_id": personal_id,
                    "staff_number": unique_code("L"),
                    "full_name": "Lương Văn Hưu",
                    "date_of_birth": "1966-06-06",
                    "sex": "male",
                    "unit_id": unit_id,
                },
            )
        ).json()
        username = await issue_personal_account(system, personal_id, "Lương Văn Hưu")
        async with _client(system.services.identity_url, system.token("quantri")) as sysadmin:
            await sysadmin.put("/v1/quotas", json={"unit_path": "/TCHQ/HQHN/HQHN-NB", "kind": "user", "limit": 50})
            purpose = (
                await sysadmin.post(
                    "/v1/purpose-accounts",
                    json={
                        "unit_path": "/TCHQ/HQHN/HQHN-NB",
                        "purpose": f"Nhân sự {unique_code('')}",
                        "tier": "local-officer",
                    },
                )
            ).json()
            holders = f"/v1/purpose-accounts/{purpose['account']['id']}/holders"
            held = await sysadmin.post(
                holders,
                json={
                    "holder_name": "Lương Văn Hưu",
                    "holder_personal_id": personal_id,
                    "holder_email": "luong.van.huu@haiquan.example",
                    "since": handover_day(),
                },
            )
            assert held.status_code == 201, held.text
            await handed_over_on(system, purpose["account"]["id"], date(2026, 1, 5))

            async def headcount() -> int:
                return int((await api.get(f"/v1/units/{unit_id}/headcount")).json()["headcount"])

            async def account_enabled() -> bool:
                return await asyncio.to_thread(_enabled, system, username)

            # Earlier tests keep people in this unit: the count is read once reports has applied
            # every event so far, this person's creation among them.
            await caught_up(system, "reports-personnel")
            before = await headcount()
            assert before > 0
            retire: dict[str, Any] = {"status": "retired", "effective_date": "2026-11-30", "decision": "125/QĐ-TCHQ"}
            retired = await api.post(f"/v1/persons/{person['id']}/status", json=retire)
            assert retired.status_code == 200, retired.text
            assert retired.json()["status"] == "retired"
            whole = await api.get(f"/v1/persons/{person['id']}/record")
            assert whole.json()["person"]["status"] == "retired", "the whole record tells the status now"
            await eventually(account_enabled, lambda on: not on, timeout=30, what="the account to be disabled")
            await eventually(headcount, lambda n: n == before - 1, timeout=30, what="the headcount to drop")

            async def last_holding_ends() -> str | None:
                ended: str | None = (await sysadmin.get(holders)).json()[-1]["valid_to"]
                return ended

            # Released in the transaction that disabled the account, after locking the account out.
            await eventually(last_holding_ends, lambda day: day == "2026-11-30", timeout=30, what="the release")

            again = await api.post(f"/v1/persons/{person['id']}/status", json=retire | {"status": "resigned"})
            assert again.status_code == 409, "a retired person must be reinstated first"
            earlier = await api.post(
                f"/v1/persons/{person['id']}/status",
                json={"status": "active", "effective_date": "2026-01-01", "decision": "1/QĐ"},
            )
            assert earlier.status_code == 422
            assert earlier.json()["detail"][0]["loc"] == ["body", "effective_date"]

            back = await api.post(
                f"/v1/persons/{person['id']}/status",
                json={"status": "active", "effective_date": "2026-12-15", "decision": "130/QĐ-TCHQ"},
            )
            assert back.status_code == 200, back.text
            whole = await api.get(f"/v1/persons/{person['id']}/record")
            assert whole.json()["person"]["status"] == "active", "the latest status row is the reinstatement"
            await eventually(headcount, lambda n: n == before, timeout=30, what="the headcount to come back")

            async def reinstatement_seen() -> int:
                log = (await sysadmin.get("/v1/audit", params={"target": username})).json()
                return sum(1 for e in log if e["action"] == "account.reinstatement")

            await eventually(
                reinstatement_seen, lambda n: n == 1, timeout=30, what="the reinstatement to reach identity"
            )
            assert not await account_enabled(), "a recorded reinstatement hands no login back by itself"
            async with _client(system.services.identity_url, system.token("qthanoi")) as account_admin:
                enabled = await account_admin.post(f"/v1/accounts/{username}/enable")
            assert enabled.status_code == 200, enabled.text
            assert await account_enabled(), "the account admin enables it again"


async def test_only_a_writer_of_work_history_changes_a_status(system: System) -> None:
    async with _client(system.gateway_url, system.token("quantri")) as admin:
        listing = (await admin.get(f"/v1/units/{system.unit_ids['HQHN-BHN']}/persons")).json()
    person_id = listing["items"][0]["id"]
    change = {"status": "deceased", "effective_date": "2026-11-01", "decision": "9/QĐ"}
    async with _client(system.gateway_url, system.token("lanhdaovu")) as sector_viewer:
        refused = await sector_viewer.post(f"/v1/persons/{person_id}/status", json=change)
        invalid = await sector_viewer.post(f"/v1/persons/{person_id}/status", json=change | {"status": "fired"})
    assert refused.status_code == 403, "the sector viewer reads the record but writes nothing"
    assert invalid.status_code == 422


async def test_a_clerks_recording_disables_only_what_its_unit_could_and_lists_the_rest(system: System) -> None:
    """16.10: Hà Nội's records clerk records two retirements. The plain self account of one is
    disabled by the event; the other's account also holds the local-admin tier, which nobody of
    the unit may administer, so it stays enabled and waits for the system admin, who alone sees
    it in the list and may disable it."""
    noi_bai = system.unit_ids["HQHN-NB"]
    async with _client(system.gateway_url, system.token("qthanoi")) as hanoi:
        plain = (await hanoi.post("/v1/persons", json=person_body(noi_bai, "Hồ Văn Thường"))).json()
        admin_holder = (await hanoi.post("/v1/persons", json=person_body(noi_bai, "Hồ Văn Quản"))).json()
    plain_account = await issue_personal_account(system, plain["personal_id"], "Hồ Văn Thường")
    admin_account = await issue_personal_account(system, admin_holder["personal_id"], "Hồ Văn Quản")
    async with _client(system.services.identity_url, system.token("quantri")) as sysadmin:
        granted = await sysadmin.put(f"/v1/accounts/{admin_account}/tiers/local-admin")
        assert granted.status_code == 200, granted.text

    retire = {"status": "retired", "effective_date": "2026-11-30", "decision": "140/QĐ-HQHN"}
    async with _client(system.gateway_url, system.token("nhansu1.hanoi")) as clerk:
        for person in (plain, admin_holder):
            recorded = await clerk.post(f"/v1/persons/{person['id']}/status", json=retire)
            assert recorded.status_code == 200, recorded.text

    async def enabled(username: str) -> bool:
        return await asyncio.to_thread(_enabled, system, username)

    async with (
        _client(system.services.identity_url, system.token("quantri")) as sysadmin,
        _client(system.services.identity_url, system.token("qthanoi")) as local_admin,
    ):

        async def waiting() -> list[str]:
            return [r["username"] for r in (await sysadmin.get("/v1/account-reviews")).json()]

        await eventually(waiting, lambda names: admin_account in names, timeout=30, what="the review")
        (review,) = [r for r in (await sysadmin.get("/v1/account-reviews")).json() if r["username"] == admin_account]
        # R-ACC-5: revoked within one working day of the recording.
        opened = datetime.fromisoformat(review["opened_at"])
        due = due_after_working_days(opened, 1, WorkingCalendar())
        assert (datetime.fromisoformat(review["due_at"]), review["overdue"]) == (due, False)
        assert due.astimezone(VIETNAM).date() > opened.astimezone(VIETNAM).date()
        await eventually(
            lambda: enabled(plain_account), lambda on: not on, timeout=30, what="the self account disabled"
        )
        assert await enabled(admin_account), "a clerk's recording does not lock out an admin"
        unit_admins_list = (await local_admin.get("/v1/account-reviews")).json()
        assert admin_account not in [r["username"] for r in unit_admins_list]
        refused = await local_admin.post(f"/v1/accounts/{admin_account}/disable")
        assert refused.status_code == 403, refused.text
        assert await enabled(admin_account)

        disabled = await sysadmin.post(f"/v1/accounts/{admin_account}/disable")
        assert disabled.status_code == 200, disabled.text
        assert disabled.json()["reviews_closed"] == 1
        assert not await enabled(admin_account)
        assert admin_account not in await waiting()
        log = (await sysadmin.get("/v1/audit", params={"target": admin_account})).json()
        assert {"account.review", "account.disable"} <= {e["action"] for e in log}


async def test_a_move_out_of_the_sector_is_its_own_status_and_leaves_as_a_resignation_does(system: System) -> None:
    """R-PER-3: a civil servant moved to an agency outside the sector is neither retired nor resigned.
    The decision of that kind gives the status `moved_out`, which a search finds by name. Identity
    disables the holder's account, and the unit's headcount drops. A status the API does not know
    is refused, naming the field."""
    personal_id = f"{uuid.uuid4().int % 10**12:012d}"
    unit_id = system.unit_ids["HQHN-NB"]
    name = "Đàm Thị Chuyển"
    async with _client(system.gateway_url, system.token("qthanoi")) as api:
        body = person_body(unit_id, name, sex="female", born="1984-02-02") | {"personal_id": personal_id}
        created = await api.post("/v1/persons", json=body)
        assert created.status_code == 201, created.text
        person_id = created.json()["id"]
        username = await issue_personal_account(system, personal_id, name)

        async def headcount() -> int:
            return int((await api.get(f"/v1/units/{unit_id}/headcount")).json()["headcount"])

        await caught_up(system, "reports-personnel")
        before = await headcount()
        unknown = await api.post(
            f"/v1/persons/{person_id}/status",
            json={"status": "transferred_away", "effective_date": "2026-12-01", "decision": "8/QĐ"},
        )
        assert unknown.status_code == 422, unknown.text
        assert unknown.json()["detail"][0]["loc"] == ["body", "status"]

        decision = await api.post(
            "/v1/decisions",
            json={
                "kind": "move_out",
                "number": f"{unique_code('')[-6:]}/QĐ-HQHN",
                "decision_date": "2026-11-20",
                "effective_date": "2026-12-01",
                "body": "Cục Hải quan TP Hà Nội",
                "signer": "Nguyễn Văn Ký",
                "signer_post": "Cục trưởng",
                "summary": "Chuyển công tác sang Sở Tài chính TP Hà Nội",
                "items": [{"person_id": person_id}],
            },
        )
        assert decision.status_code == 201, decision.text
        assert decision.json()["state"] == "applied"
        assert (await api.get(f"/v1/persons/{person_id}")).json()["status"] == "moved_out"
        found = await api.get("/v1/persons", params={"q": name, "status": "moved_out", "unit_id": unit_id})
        assert found.status_code == 200, found.text
        assert [p["id"] for p in found.json()["items"]] == [person_id]

        async def account_enabled() -> bool:
            return await asyncio.to_thread(_enabled, system, username)

        await eventually(account_enabled, lambda on: not on, timeout=30, what="the account to be disabled")
        await eventually(headcount, lambda n: n == before - 1, timeout=30, what="the headcount to drop")


def _tiers(system: System, username: str) -> set[str]:
    admin = system.infra.keycloak_admin()
    user_id = admin.get_user_id(username)
    assert user_id is not None
    return {r["name"] for r in admin.get_realm_roles_of_user(user_id)}


async def test_a_head_whose_appointments_end_loses_the_unit_leader_tier(system: System) -> None:
    """R-ACC-8: the head of Nội Bài, holding unit-leader, is recorded as no longer heading it. Ended by
    Hà Nội's local admin, who may not administer a leader's account, the tier waits for the system
    admin, who takes it away (closing the review); ended by the system admin, it goes at once with
    the account's sessions. Entering an earlier term, long ended, as history changes nothing."""
    noi_bai = system.unit_ids["HQHN-NB"]
    decision = {"number": "31/QĐ-HQHN", "date": "2024-03-01", "body": "Cục Hải quan TP Hà Nội"}
    head_post = {
        "kind": "BO_NHIEM",
        "post": "Chi cục trưởng",
        "post_code": "CHI_CUC_TRUONG",
        "unit_name": "Chi cục Hải quan Nội Bài",
        "term_months": 60,
    }
    async with _client(system.gateway_url, system.token("qthanoi")) as hanoi:
        person = (
            await hanoi.post("/v1/persons", json=person_body(noi_bai, "Đinh Văn Trưởng", born="1975-04-02"))
        ).json()
    username = await issue_personal_account(system, person["personal_id"], "Đinh Văn Trưởng")
    appointments = f"/v1/persons/{person['id']}/appointments"

    async def tiers() -> set[str]:
        return await asyncio.to_thread(_tiers, system, username)

    async with (
        _client(system.services.identity_url, system.token("quantri")) as accounts,
        _client(system.gateway_url, system.token("quantri")) as sysadmin,
        _client(system.gateway_url, system.token("qthanoi")) as hanoi,
    ):
        granted = await accounts.put(f"/v1/accounts/{username}/tiers/unit-leader")
        assert granted.status_code == 200, granted.text
        earlier = await hanoi.post(
            appointments,
            json={"values": head_post | {"unit_name": "Đội Nghiệp vụ"}, "valid_from": "2012-01-01"}
            | {"valid_to": "2016-12-31", "decision": decision | {"date": "2012-01-01"}},
        )
        assert earlier.status_code == 201, earlier.text
        running = {"values": head_post, "valid_from": "2024-03-01", "decision": decision}
        current = await hanoi.post(appointments, json=running)
        assert current.status_code == 201, current.text

        async def reviews() -> list[dict[str, Any]]:
            listed = (await accounts.get("/v1/account-reviews")).json()
            return [r for r in listed if r["username"] == username]

        await caught_up(system, "identity-positions")
        assert "unit-leader" in await tiers(), "the history of an earlier term, and a running one, take nothing"
        ended = await hanoi.put(
            f"{appointments}/{current.json()['entry_id']}",
            json=running | {"valid_to": "2026-11-30"},
            headers={"If-Match": '"1"'},
        )
        assert ended.status_code == 200, ended.text
        (review,) = await eventually(reviews, lambda found: len(found) == 1, timeout=30, what="the review")
        assert (review["revoke_tier"], review["reason"]) == ("unit-leader", "appointments.head_ended")
        assert "unit-leader" in await tiers(), "a local admin's recording does not strip a leader's tier"
        async with _client(system.services.identity_url, system.token("qthanoi")) as local_admin:
            assert username not in [r["username"] for r in (await local_admin.get("/v1/account-reviews")).json()]

        revoked = await accounts.delete(f"/v1/accounts/{username}/tiers/unit-leader")
        assert revoked.status_code == 200, revoked.text
        assert await reviews() == [], "taking the tier away closes the review"
        assert "unit-leader" not in await tiers()

        granted = await accounts.put(f"/v1/accounts/{username}/tiers/unit-leader")
        assert granted.status_code == 200, granted.text
        again = await sysadmin.post(
            appointments,
            json={"values": head_post, "valid_from": "2026-12-01", "decision": decision | {"date": "2026-11-25"}},
        )
        assert again.status_code == 201, again.text
        mistaken = await sysadmin.delete(f"{appointments}/{again.json()['entry_id']}", headers={"If-Match": '"1"'})
        assert mistaken.status_code == 200, mistaken.text
        await eventually(tiers, lambda held: "unit-leader" not in held, timeout=30, what="the tier taken away")
        assert "self" in await tiers()
        log = (await accounts.get("/v1/audit", params={"target": username})).json()
        automatic = [e for e in log if e["action"] == "account.revoke" and e["after"].get("reason")]
        assert [e["after"]["reason"] for e in automatic] == ["appointments.head_ended"]
        assert await reviews() == []
