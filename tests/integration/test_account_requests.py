"""Account requests (R-ACC-4..6, R-TIER-3): consent, approval within scope and tier,
issuance exactly once, a one-time first-login password, deadlines in working days."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from qlcb_common.working_days import WorkingCalendar
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_identity.calendar import due_after_working_days
from qlcb_identity.keycloak_accounts import ascii_slug
from tests.support import (
    System,
    browser_login,
    claim_credential,
    eventually,
    mailed_code,
    new_sub_unit,
    person_body,
    unique_code,
)

LEADER_HN = "thutruong.hanoi"
LEADER_PASSWORD = "Thủ trưởng 2026"


@pytest.fixture(scope="module")
def hanoi_leader(system: System) -> str:
    ensure_user(
        system.infra.keycloak_admin(),
        Account(LEADER_HN, LEADER_PASSWORD, "unit-leader", "/TCHQ/HQHN", "Ngô Văn Trưởng"),
    )
    return password_token(system.infra.keycloak.base_url, LEADER_HN, LEADER_PASSWORD)


def _request(unit_path: str = "/TCHQ/HQHN/HQHN-NB", types: list[str] | None = None) -> dict[str, Any]:
    code = unique_code("")
    return {
        "holder_name": f"Nguyễn Thị {code}",
        "holder_email": f"holder.{code.lower()}@haiquan.example",
        "unit_path": unit_path,
        "division": "Đội Thủ tục hàng hóa xuất nhập khẩu",
        "position": "Công chức",
        "phone": "0912345678",
        "account_types": types or ["local-officer"],
        "reply_name": "Vũ Thị Hà",
        "reply_unit": "Phòng Tổ chức cán bộ, Cục Hải quan TP Hà Nội",
        "reply_email": "tccb.hanoi@qlcb.example",
        "reply_phone": "0243123456",
        "requester_name": "Vũ Thị Hà",
    }


def _client_to(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _client(system: System, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=system.services.identity_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


async def test_request_consent_approve_issue_and_first_login(system: System, hanoi_leader: str) -> None:
    """Four people: Hà Nội's personnel officer requests, the head consents, the local admin
    approves, the system admin issues."""
    async with (
        _client(system, system.token("nhansu1.hanoi")) as officer,
        _client(system, system.token("qthanoi")) as admin,
        _client(system, hanoi_leader) as leader,
        _client(system, system.token("quantri")) as sysadmin,
    ):
        body = _request()
        submitted = await officer.post("/v1/account-requests", json=body)
        assert submitted.status_code == 201, submitted.text
        request = submitted.json()
        expected_due = due_after_working_days(datetime.fromisoformat(request["submitted_at"]), 3, WorkingCalendar())
        assert datetime.fromisoformat(request["due_at"]) == expected_due

        early = await admin.post(f"/v1/account-requests/{request['id']}/approve")
        assert early.status_code == 409, "approval needs the unit head's consent first"
        assert (await leader.post(f"/v1/account-requests/{request['id']}/consent")).status_code == 200
        assert (await admin.post(f"/v1/account-requests/{request['id']}/approve")).status_code == 200
        own_approval = await admin.post(f"/v1/account-requests/{request['id']}/issue")
        assert own_approval.status_code == 403, "the approver does not also issue"
        issued = await sysadmin.post(f"/v1/account-requests/{request['id']}/issue")
        assert issued.status_code == 201, issued.text
        account = issued.json()

    # The code goes to the holder only: not in the issuer's response, not to the reply contact.
    holder = body["holder_email"]
    assert account["delivered_to"] == f"h***@{holder.split('@')[1]}"
    assert "credential" not in issued.text
    assert "password" not in issued.text
    code = await mailed_code(system, holder)
    assert code not in issued.text
    assert system.infra.mail.messages_to(body["reply_email"]) == []
    credential = await claim_credential(system, code)
    again = await claim_credential(system, code)
    assert credential.status_code == 200
    assert credential.json()["username"] == account["username"]
    assert again.status_code == 410

    with pytest.raises(httpx.HTTPStatusError) as first_login:
        password_token(system.infra.keycloak.base_url, account["username"], credential.json()["temporary_password"])
    assert "not fully set up" in first_login.value.response.text, "the temporary password must be changed first"

    # The first login on Keycloak's own page, with the forced password change; the account has
    # no e-mail (a request collects none) and must not be held up for one.
    chosen = "Đổi mật khẩu 2026"
    browser_token = await asyncio.to_thread(
        browser_login, system, account["username"], credential.json()["temporary_password"], new_password=chosen
    )
    cli_token = password_token(system.infra.keycloak.base_url, account["username"], chosen)
    for token in (browser_token, cli_token):
        async with httpx.AsyncClient(
            base_url=system.gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as api:
            me = await api.get("/v1/me")
            assert me.status_code == 200, me.text
            assert me.json()["username"] == account["username"]
            staff = await api.get(f"/v1/units/{system.unit_ids['HQHN-NB']}/persons")
            assert staff.status_code == 200, "its tier's rights hold from the first token on"


async def test_a_local_admin_cannot_grant_above_its_tier_or_outside_its_subtree(
    system: System, hanoi_leader: str
) -> None:
    async with _client(system, system.token("qthanoi")) as admin, _client(system, hanoi_leader) as leader:
        too_high = (await admin.post("/v1/account-requests", json=_request(types=["system-admin"]))).json()
        await leader.post(f"/v1/account-requests/{too_high['id']}/consent")
        refused = await admin.post(f"/v1/account-requests/{too_high['id']}/approve")
        outside = await admin.post("/v1/account-requests", json=_request(unit_path="/TCHQ/HQHCM"))
    assert refused.status_code == 403
    assert outside.status_code == 403
    async with _client(system, system.token("quantri")) as sysadmin:
        log = (await sysadmin.get("/v1/audit", params={"target": too_high["id"]})).json()
        approved = await sysadmin.post(f"/v1/account-requests/{too_high['id']}/approve")
    assert {"action": "account_request.approve", "outcome": "refused"}.items() <= log[0].items()
    assert log[0]["actor_username"] == "qthanoi"
    assert approved.status_code == 200, "the system admin may grant it"


async def test_a_duplicate_open_request_is_refused(system: System) -> None:
    body = _request()
    async with _client(system, system.token("qthanoi")) as admin:
        first = await admin.post("/v1/account-requests", json=body)
        second = await admin.post("/v1/account-requests", json=body | {"holder_name": body["holder_name"].upper()})
    assert first.status_code == 201
    assert second.status_code == 409


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "12345"),
        ("account_types", []),
        ("account_types", ["chief"]),
        ("unit_path", "TCHQ"),
        ("reply_email", "not-an-email"),
        ("holder_name", ""),
        ("holder_name", "   "),
        ("division", " \u00a0 "),
        ("unit_path", "/TCHQ" + "/AA" * 400),
    ],
)
async def test_invalid_fields_are_named(system: System, field: str, value: Any) -> None:
    async with _client(system, system.token("qthanoi")) as admin:
        response = await admin.post("/v1/account-requests", json=_request() | {field: value})
    assert response.status_code == 422
    assert ["body", field] in [e["loc"][:2] for e in response.json()["detail"]]


async def test_overdue_lists_only_what_is_late_in_scope(system: System) -> None:
    async with _client(system, system.token("qthanoi")) as admin:
        request = (await admin.post("/v1/account-requests", json=_request())).json()
        on_time = [r["id"] for r in (await admin.get("/v1/account-requests/overdue")).json()]
        # Its three working days have passed: move the due date into the past, as time would.
        conn = await asyncpg.connect(system.postgres_dsn("identity"))
        try:
            await conn.execute(
                "UPDATE account_requests SET due_at = now() - interval '1 day' WHERE id = $1", request["id"]
            )
        finally:
            await conn.close()
        late = [r["id"] for r in (await admin.get("/v1/account-requests/overdue")).json()]
    async with _client(system, system.token("thutruong.hcm")) as other_unit:
        elsewhere = [r["id"] for r in (await other_unit.get("/v1/account-requests/overdue")).json()]
    # A self account of the same unit takes no part in requests, which name their holders.
    async with _client(system, system.token("canbo.noibai")) as plain:
        unrelated = await plain.get("/v1/account-requests/overdue")
    assert request["id"] not in on_time
    assert request["id"] in late
    assert request["id"] not in elsewhere
    assert unrelated.status_code == 403, unrelated.text


async def _open(api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """The open requests the caller sees, by id, with their next step and whether it is the caller's."""
    listed = await api.get("/v1/account-requests", params={"limit": 500})
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["yours"] == sum(r["yours"] for r in body["items"]) or body["total"] > len(body["items"])
    dues = [r["due_at"] for r in body["items"]]
    assert dues == sorted(dues), "soonest due first"
    return {r["id"]: r for r in body["items"]}


async def test_open_requests_show_each_account_the_step_that_waits_for_it(system: System, hanoi_leader: str) -> None:
    """A request as it moves: the head sees the consent as its own, the admin who did not file it
    the approval, then another admin the issue; nobody is offered a step the four-eyes rule or the
    scope refuses, and a request done leaves the list."""
    async with (
        _client(system, system.token("nhansu1.hanoi")) as officer,
        _client(system, system.token("qthanoi")) as admin,
        _client(system, hanoi_leader) as leader,
        _client(system, system.token("quantri")) as sysadmin,
        _client(system, system.token("thutruong.hcm")) as other_unit,
        _client(system, system.token("canbo.noibai")) as plain,
    ):
        request = (await officer.post("/v1/account-requests", json=_request())).json()
        to_leader, to_admin = (await _open(leader))[request["id"]], (await _open(admin))[request["id"]]
        assert (to_leader["next_step"], to_leader["yours"]) == ("consent", True)
        assert (to_admin["yours"], to_admin["rejectable"]) == (False, True), "consent is the head's"
        assert (await _open(officer))[request["id"]]["rejectable"] is False, "an officer does not reject"
        assert request["id"] not in await _open(other_unit), "another Cục's head does not see it"
        refused = await plain.get("/v1/account-requests")
        assert refused.status_code == 403, refused.text

        assert (await leader.post(f"/v1/account-requests/{request['id']}/consent")).status_code == 200
        assert (await _open(leader))[request["id"]]["yours"] is False
        to_admin = (await _open(admin))[request["id"]]
        assert (to_admin["next_step"], to_admin["yours"]) == ("approve", True)
        assert (await admin.post(f"/v1/account-requests/{request['id']}/approve")).status_code == 200
        assert (await _open(admin))[request["id"]]["yours"] is False, "the approver does not also issue"
        waiting = (await _open(sysadmin))[request["id"]]
        assert (waiting["next_step"], waiting["yours"]) == ("issue", True)
        assert (await sysadmin.post(f"/v1/account-requests/{request['id']}/issue")).status_code == 201
        assert request["id"] not in await _open(sysadmin)
        for limit in (0, 501, "x"):
            bad = await sysadmin.get("/v1/account-requests", params={"limit": limit})
            assert bad.status_code == 422, bad.text
            assert bad.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_one_person_takes_one_step_of_a_request(system: System, hanoi_leader: str) -> None:
    """The four-eyes rule: a head who files a request does not consent to it; an admin who
    filed it does not approve it."""
    async with _client(system, hanoi_leader) as leader, _client(system, system.token("qthanoi")) as admin:
        own = (await leader.post("/v1/account-requests", json=_request())).json()
        self_consent = await leader.post(f"/v1/account-requests/{own['id']}/consent")
        filed = (await admin.post("/v1/account-requests", json=_request())).json()
        assert (await leader.post(f"/v1/account-requests/{filed['id']}/consent")).status_code == 200
        self_approval = await admin.post(f"/v1/account-requests/{filed['id']}/approve")
    assert self_consent.status_code == 403, self_consent.text
    assert self_approval.status_code == 403, self_approval.text


async def test_a_local_admin_cannot_take_over_a_unit_leaders_account(system: System, hanoi_leader: str) -> None:
    """The attack of the review: Hà Nội's admin files "lost" on its head's account, resets it and
    reads the one-time credential, then consents as the head. It may not touch the head's account
    at all, nor create one, nor grant the tier; upper case does not pass as another account.
    (The admin filed the request, so the four-eyes rule would refuse its approval anyway; the
    tier rule is shown by its message.)"""
    async with _client(system, system.token("qthanoi")) as admin:
        lost = await admin.post(f"/v1/accounts/{LEADER_HN}/incidents", json={"kind": "lost", "note": "Quên mật khẩu"})
        reset = await admin.post(f"/v1/accounts/{LEADER_HN}/reset")
        leader_request = await admin.post("/v1/account-requests", json=_request(types=["unit-leader"]))
        granted = await admin.put(f"/v1/accounts/{LEADER_HN}/tiers/unit-leader")
        own_upper = await admin.put("/v1/accounts/QTHANOI/tiers/local-officer")
    assert lost.status_code == 403, lost.text
    assert reset.status_code in (403, 409), reset.text
    assert granted.status_code == 403, granted.text
    assert own_upper.status_code == 403, "its own account, whatever the case"
    assert leader_request.status_code == 201, "a unit may ask for a head's account ..."
    request_id = leader_request.json()["id"]
    async with _client(system, hanoi_leader) as leader, _client(system, system.token("nhansu1.hanoi")) as officer:
        assert (await leader.post(f"/v1/account-requests/{request_id}/consent")).status_code == 200
        approve = await officer.post(f"/v1/account-requests/{request_id}/approve")
    async with _client(system, system.token("qthanoi")) as admin:
        admin_approve = await admin.post(f"/v1/account-requests/{request_id}/approve")
    assert approve.status_code == 403
    assert admin_approve.status_code == 403, "... but its local admin cannot grant the unit-leader tier"
    assert "cao hơn quyền" in admin_approve.text


async def _approved(
    system: System,
    leader_token: str,
    holder_name: str,
    personal_id: str | None,
    *,
    body: dict[str, Any] | None = None,
    approver: str = "qthanoi",
) -> str:
    """A request (of Nội Bài for `personal_id` for the self tier, unless `body` says otherwise),
    taken through consent and approval by `approver`; its id."""
    self_tier = {"holder_name": holder_name, "holder_personal_id": personal_id, "account_types": ["self"]}
    body = body or _request() | self_tier
    async with (
        _client(system, system.token("nhansu1.hanoi")) as officer,
        _client(system, leader_token) as leader,
        _client(system, system.token(approver)) as admin,
    ):
        created = await officer.post("/v1/account-requests", json=body)
        assert created.status_code == 201, created.text
        request_id: str = created.json()["id"]
        assert (await leader.post(f"/v1/account-requests/{request_id}/consent")).status_code == 200
        assert (await admin.post(f"/v1/account-requests/{request_id}/approve")).status_code == 200
    return request_id


async def test_an_account_is_linked_only_to_a_working_record_of_the_unit_under_its_name(
    system: System, hanoi_leader: str
) -> None:
    """16.10: the personal id on a request is typed by the requester, and the account then reads
    that record (self tier) and follows its status. Issuance checks it against the records
    personnel keeps: another unit's civil servant, someone retired, a wrong name or an unknown id
    is refused naming the field, and no account is made."""
    async with (
        _client_to(system.gateway_url, system.token("quantri")) as sector,
        _client_to(system.gateway_url, system.token("qthanoi")) as hanoi,
    ):
        # In this order: once identity knows the last record, it has applied the events before it.
        elsewhere = (await sector.post("/v1/persons", json=person_body(system.unit_ids["HQHCM"], "Phan Văn Xa"))).json()
        retired = (await hanoi.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Lý Văn Hưu"))).json()
        change = {"status": "retired", "effective_date": "2026-11-30", "decision": "90/QĐ-HQHN"}
        assert (await hanoi.post(f"/v1/persons/{retired['id']}/status", json=change)).status_code == 200
        misnamed = (await hanoi.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Tô Văn Khác"))).json()
        working = (await hanoi.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Tô Thị Thật"))).json()

    attempts = {  # name on the request, its personal id, the field the refusal names
        "elsewhere": ("Phan Văn Xa", elsewhere["personal_id"], "holder_personal_id"),
        "retired": ("Lý Văn Hưu", retired["personal_id"], "holder_personal_id"),
        "wrong name": ("Tô Thị Giả", misnamed["personal_id"], "holder_name"),
        "unknown": ("Tô Văn Vô", "000000000001", "holder_personal_id"),
    }
    requests = {case: await _approved(system, hanoi_leader, name, pid) for case, (name, pid, _) in attempts.items()}
    rightful = await _approved(system, hanoi_leader, "tô thị  THẬT", working["personal_id"])
    async with _client(system, system.token("quantri")) as sysadmin:

        async def issue_rightful() -> httpx.Response:
            return await sysadmin.post(f"/v1/account-requests/{rightful}/issue")

        issued = await eventually(
            issue_rightful, lambda r: r.status_code != 409, timeout=30, what="identity to know the record"
        )
        assert issued.status_code == 201, issued.text
        for case, (name, _, field) in attempts.items():
            refused = await sysadmin.post(f"/v1/account-requests/{requests[case]}/issue")
            assert refused.status_code == 409, (case, refused.text)
            assert refused.json()["detail"]["message"].startswith(f"{field}:"), case
            # The username issuance would have given it.
            assert system.infra.keycloak_admin().get_user_id(f"{ascii_slug(name)}.{requests[case][:6]}") is None


async def test_a_units_admin_quota_holds_however_its_admin_accounts_come(system: System, hanoi_leader: str) -> None:
    """R-ACC-3: "one admin account per provincial unit" counts the unit's admin accounts whether
    issued for a purpose, issued to a person from a request, or given as a tier to an account it has.
    Once the one is taken, the other two ways are refused naming the quota, and nothing is made;
    raised to two, the tier is given. Only a system admin grants the local-admin tier (R-TIER-3), and
    another one approves what it issues."""
    unit = (await new_sub_unit(system, system.unit_ids["HQHN"], "Chi cục kiểm thử định mức quản trị"))["path"]
    async with _client(system, system.token("quantri")) as sysadmin, _client(system, system.token("qthanoi")) as admin:
        quota = await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "admin", "limit": 1})
        assert quota.status_code == 200, quota.text
        first, second = [
            await _approved(system, hanoi_leader, "", None, body=_request(unit, ["local-admin"]), approver="quantri2")
            for _ in range(2)
        ]
        officer = await _approved(system, hanoi_leader, "", None, body=_request(unit))
        issued = [await sysadmin.post(f"/v1/account-requests/{rid}/issue") for rid in (first, officer)]
        assert [r.status_code for r in issued] == [201, 201], [r.text for r in issued]
        officer_name = issued[1].json()["username"]

        refused_request = await sysadmin.post(f"/v1/account-requests/{second}/issue")
        refused_purpose = await sysadmin.post(
            "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Quản trị 2", "tier": "local-admin"}
        )
        refused_tier = await sysadmin.put(f"/v1/accounts/{officer_name}/tiers/local-admin")
        for refused in (refused_request, refused_purpose, refused_tier):
            assert refused.status_code == 409, refused.text
            assert "định mức 1 tài khoản loại admin" in refused.json()["detail"]["message"], refused.text
        assert (await _open(sysadmin))[second]["status"] == "approved", "the refused request waits, not issued"
        used = await sysadmin.get("/v1/quotas", params={"unit_path": unit})
        assert [(q["kind"], q["used"]) for q in used.json()] == [("admin", 1)]
        officer_tiers = await admin.get(f"/v1/accounts/{officer_name}")
        assert officer_tiers.json()["tiers"] == ["local-officer"], officer_tiers.text

        raised = await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "admin", "limit": 2})
        assert raised.status_code == 200, raised.text
        given = await sysadmin.put(f"/v1/accounts/{officer_name}/tiers/local-admin")
        assert given.status_code == 200, given.text
        used = await sysadmin.get("/v1/quotas", params={"unit_path": unit})
        assert [(q["kind"], q["used"]) for q in used.json()] == [("admin", 2)]
