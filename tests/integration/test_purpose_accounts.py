"""Purpose accounts (R-ACC-2, R-ACC-3): issued to units within quotas, handed from holder to
holder with a history that answers "who held it on that day"."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
import jwt
import pytest

from qlcb_devstack.accounts import password_token
from tests.support import (
    System,
    browser_login,
    claim_credential,
    eventually,
    handed_over_on,
    handover_day,
    mailed_code,
    person_body,
    unique_code,
)

MOT = "le.thi.mot@haiquan.example"
HAI = "tran.van.hai@haiquan.example"


def _identity(system: System, username: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=system.services.identity_url,
        headers={"Authorization": f"Bearer {system.token(username)}"},
        timeout=60,
    )


async def _new_unit(system: System, parent: str = "HQHN") -> str:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        response = await api.post(
            "/v1/units",
            json={
                "code": unique_code("Q"),
                "name": "Chi cục kiểm thử định mức",
                "kind": "sub_unit",
                "parent_id": system.unit_ids[parent],
            },
        )
    assert response.status_code == 201, response.text
    path: str = response.json()["path"]
    return path


async def test_two_admins_racing_for_the_last_slot_get_one_account(system: System) -> None:
    unit = await _new_unit(system)
    async with _identity(system, "quantri") as sysadmin, _identity(system, "qthanoi") as local:
        refused = await local.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 2})
        assert refused.status_code == 403
        assert (
            await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 2})
        ).status_code == 200
        first = await local.post(
            "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Nhân sự 1", "tier": "local-officer"}
        )
        assert first.status_code == 201, first.text
        racing = await asyncio.gather(
            local.post(
                "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Nhân sự 2", "tier": "local-officer"}
            ),
            sysadmin.post(
                "/v1/purpose-accounts",
                json={"unit_path": unit, "purpose": "Chính sách cán bộ 1", "tier": "local-officer"},
            ),
        )
        no_admin_quota = await sysadmin.post(
            "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Quản trị", "tier": "local-admin"}
        )
        used = await local.get("/v1/quotas", params={"unit_path": unit})
    async with _identity(system, "thutruong.hcm") as elsewhere:
        outside = await elsewhere.get("/v1/quotas", params={"unit_path": unit})
    assert sorted(r.status_code for r in racing) == [201, 409]
    assert no_admin_quota.status_code == 409
    assert used.status_code == 200, used.text
    assert [(q["kind"], q["limit"], q["used"], q["set_by"]) for q in used.json()] == [("user", 2, 2, "quantri")]
    assert outside.status_code == 403, "another Cục's head reads none of its quotas"
    prefix = unit.rsplit("/", 1)[-1].lower()
    users = system.infra.keycloak_admin().get_users({"search": f"{prefix}."})
    assert len(users) == 2


async def test_who_held_the_account_on_a_given_day(system: System) -> None:
    unit = await _new_unit(system)
    async with _identity(system, "quantri") as sysadmin, _identity(system, "qthanoi") as local:
        await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 1})
        account = (
            await local.post(
                "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Nhân sự 1", "tier": "local-officer"}
            )
        ).json()["account"]
        holders = f"/v1/purpose-accounts/{account['id']}/holders"
        today = handover_day()
        assert (
            await local.post(holders, json={"holder_name": "Lê Thị Một", "holder_email": MOT, "since": today})
        ).status_code == 201
        await handed_over_on(system, account["id"], date(2026, 1, 5))
        assert (
            await local.post(holders, json={"holder_name": "Trần Văn Hai", "holder_email": HAI, "since": today})
        ).status_code == 201
        await handed_over_on(system, account["id"], date(2026, 6, 1))
        backwards = await local.post(
            holders, json={"holder_name": "Sai Ngày", "holder_email": HAI, "since": "2026-03-01"}
        )
        yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
        backdated = await local.post(holders, json={"holder_name": "Ghi Lùi", "holder_email": HAI, "since": yesterday})
        in_march = (await local.get(holders, params={"on": "2026-03-15"})).json()
        on_handover = (await local.get(holders, params={"on": "2026-06-01"})).json()
        before_any = (await local.get(holders, params={"on": "2025-12-31"})).json()
        history = (await local.get(holders)).json()
    async with _identity(system, "thutruong.hcm") as elsewhere:
        outside = await elsewhere.get(holders)
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"] == ["body", "since"]
    assert backdated.status_code == 422, "a hand-over is recorded on its day, not after it (ADR 0047)"
    assert backdated.json()["detail"][0]["loc"] == ["body", "since"]
    assert backdated.json()["detail"][0]["msg"].startswith("Không được trước ngày hôm nay")
    assert [h["holder_name"] for h in in_march] == ["Lê Thị Một"]
    assert [h["holder_name"] for h in on_handover] == ["Trần Văn Hai"]
    assert before_any == []
    assert [(h["holder_name"], h["valid_to"]) for h in history] == [
        ("Lê Thị Một", "2026-06-01"),
        ("Trần Văn Hai", None),
    ]
    assert outside.status_code == 403


async def test_the_accounts_in_reach_are_listed_with_who_holds_each_today(system: System) -> None:
    unit = await _new_unit(system)
    today = handover_day()
    week_ago = (date.fromisoformat(today) - timedelta(days=7)).isoformat()
    async with _identity(system, "quantri") as sysadmin, _identity(system, "qthanoi") as local:
        await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 2})
        for purpose in ("Nhân sự 2", "Nhân sự 1"):
            issued = await local.post(
                "/v1/purpose-accounts", json={"unit_path": unit, "purpose": purpose, "tier": "local-officer"}
            )
            assert issued.status_code == 201, issued.text
        listed = (await local.get("/v1/purpose-accounts", params={"unit_path": unit})).json()
        first = listed["items"][0]["id"]
        handed = {"holder_name": "Lê Thị Một", "holder_email": MOT, "since": today}
        assert (await local.post(f"/v1/purpose-accounts/{first}/holders", json=handed)).status_code == 201
        await handed_over_on(system, first, date.fromisoformat(week_ago))
        held = (await local.get("/v1/purpose-accounts", params={"unit_path": unit})).json()
        one = (await local.get(f"/v1/purpose-accounts/{first}")).json()
        faults = [
            (name, await local.get("/v1/purpose-accounts", params={name: value}))
            for name, value in (("limit", "0"), ("limit", "501"), ("unit_path", "khong-phai-duong-dan"))
        ]
        assert (await local.post(f"/v1/purpose-accounts/{first}/release", json={"until": today})).status_code == 200
        released = (await local.get("/v1/purpose-accounts", params={"unit_path": unit})).json()
    async with _identity(system, "vutccb") as sector, _identity(system, "thutruong.hcm") as elsewhere:
        by_sector = (await sector.get("/v1/purpose-accounts", params={"unit_path": unit})).json()
        from_elsewhere = (await elsewhere.get("/v1/purpose-accounts", params={"unit_path": unit})).json()
        one_elsewhere = await elsewhere.get(f"/v1/purpose-accounts/{first}")
    async with _identity(system, "canbo.noibai") as own:
        refused = await own.get("/v1/purpose-accounts")

    assert listed["total"] == 2
    assert [(a["purpose"], a["holder"], a["manageable"]) for a in listed["items"]] == [
        ("Nhân sự 1", None, True),
        ("Nhân sự 2", None, True),
    ]
    assert held["items"][0]["holder"]["holder_name"] == "Lê Thị Một"
    assert held["items"][0]["holder"]["valid_from"] == week_ago
    assert one == held["items"][0], "one account reads as the listing shows it"
    assert one_elsewhere.status_code == 403
    assert released["items"][0]["holder"] is None, "released today: nobody holds it today"
    assert [(a["purpose"], a["manageable"]) for a in by_sector["items"]] == [("Nhân sự 1", False), ("Nhân sự 2", False)]
    assert from_elsewhere == {"items": [], "total": 0}, "another Cục's head reads none of Hà Nội's units"
    assert refused.status_code == 403
    for name, response in faults:
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["query", name]


async def _issued_account(system: System) -> dict[str, str]:
    unit = await _new_unit(system)
    async with _identity(system, "quantri") as sysadmin, _identity(system, "qthanoi") as local:
        await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 1})
        issued = await local.post(
            "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Nhân sự 1", "tier": "local-officer"}
        )
    assert issued.status_code == 201, issued.text
    assert set(issued.json()) == {"account"}, "no credential comes back to the issuing admin"
    account: dict[str, str] = issued.json()["account"]
    return account


async def _first_login(system: System, username: str, recipient: str, *, after: int, chosen: str) -> str:
    credential = await claim_credential(system, await mailed_code(system, recipient, after=after))
    assert credential.status_code == 200, credential.text
    assert credential.json()["username"] == username
    return await asyncio.to_thread(
        browser_login, system, username, credential.json()["temporary_password"], new_password=chosen
    )


async def test_an_account_changes_hands_with_a_new_password_and_the_old_holders_sessions_end(
    system: System,
) -> None:
    """The review's case: the previous holder of "Nhân sự 1" kept logging in after the hand-over."""
    account = await _issued_account(system)
    first, second = f"mot.{account['id'][:8]}@haiquan.example", f"hai.{account['id'][:8]}@haiquan.example"
    holders = f"/v1/purpose-accounts/{account['id']}/holders"
    async with _identity(system, "qthanoi") as local:
        given = await local.post(
            holders, json={"holder_name": "Lê Thị Một", "holder_email": first, "since": handover_day()}
        )
    assert given.status_code == 201, given.text
    await handed_over_on(system, account["id"], date(2026, 1, 5))
    assert given.json()["delivered_to"] == "m***@haiquan.example"
    await _first_login(system, account["username"], first, after=0, chosen="Người giữ đầu 2026")
    keycloak = system.infra.keycloak_admin()
    user_id = keycloak.get_user_id(account["username"])
    assert user_id is not None
    assert keycloak.get_sessions(user_id) != [], "the first holder is logged in"

    async with _identity(system, "qthanoi") as local:
        handed = await local.post(
            holders, json={"holder_name": "Trần Văn Hai", "holder_email": second, "since": handover_day()}
        )
        future = await local.post(
            holders, json={"holder_name": "Sau Này", "holder_email": first, "since": "2099-01-01"}
        )
    assert handed.status_code == 201, handed.text
    assert future.status_code == 422
    assert future.json()["detail"][0]["loc"] == ["body", "since"]
    assert keycloak.get_sessions(user_id) == [], "the previous holder's sessions end at the hand-over"
    with pytest.raises(httpx.HTTPStatusError):
        password_token(system.infra.keycloak.base_url, account["username"], "Người giữ đầu 2026")
    assert len(system.infra.mail.messages_to(first)) == 1, "the previous holder gets no new code"
    token = await _first_login(system, account["username"], second, after=0, chosen="Người giữ sau 2026")
    await handed_over_on(system, account["id"], date(2026, 6, 1))
    async with httpx.AsyncClient(
        base_url=system.services.identity_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as holder:
        assert (await holder.get("/v1/me")).json()["username"] == account["username"]

    async with _identity(system, "qthanoi") as local:
        released = await local.post(f"/v1/purpose-accounts/{account['id']}/release", json={"until": handover_day()})
        again = await local.post(f"/v1/purpose-accounts/{account['id']}/release", json={"until": handover_day()})
        history = (await local.get(holders)).json()
    assert released.status_code == 200, released.text
    assert again.status_code == 409, "nobody holds it any more"
    assert keycloak.get_sessions(user_id) == []
    with pytest.raises(httpx.HTTPStatusError):
        password_token(system.infra.keycloak.base_url, account["username"], "Người giữ sau 2026")
    assert [(h["holder_name"], h["valid_to"]) for h in history] == [
        ("Lê Thị Một", "2026-06-01"),
        ("Trần Văn Hai", handover_day()),
    ]


async def test_a_purpose_account_is_handed_only_to_a_working_record_of_its_unit(system: System) -> None:
    """16.10: the holder's personal id drives the release when the holder leaves; another
    unit's civil servant cannot be named the holder."""
    unit = await _new_unit(system)
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        unit_id = next(u["id"] for u in (await api.get("/v1/units")).json() if u["path"] == unit)
        # In this order: once identity knows the unit's own clerk, it knows the other record too.
        elsewhere = (await api.post("/v1/persons", json=person_body(system.unit_ids["HQHCM"], "Trịnh Văn Xa"))).json()
        own = (await api.post("/v1/persons", json=person_body(unit_id, "Trịnh Thị Gần"))).json()
    async with _identity(system, "quantri") as sysadmin:
        await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 2})
        issued = await sysadmin.post(
            "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Nhân sự 1", "tier": "local-officer"}
        )
        assert issued.status_code == 201, issued.text
        holders = f"/v1/purpose-accounts/{issued.json()['account']['id']}/holders"

        async def hand_to(person: dict[str, str], since: str) -> httpx.Response:
            body = {"holder_name": person["full_name"], "holder_personal_id": person["personal_id"]}
            return await sysadmin.post(holders, json=body | {"holder_email": MOT, "since": since})

        handed = await eventually(
            lambda: hand_to(own, handover_day()), lambda r: r.status_code != 409, timeout=30, what="the clerk known"
        )
        assert handed.status_code == 201, handed.text
        refused = await hand_to(elsewhere, handover_day())
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"]["message"].startswith("holder_personal_id:")
        assert [h["holder_name"] for h in (await sysadmin.get(holders)).json()] == ["Trịnh Thị Gần"]


async def test_a_unit_head_hands_user_accounts_to_others_but_never_an_admin_account_nor_one_to_itself(
    system: System,
) -> None:
    """R-ACC-2 with R-TIER-3: the head of Hồ Chí Minh's unit hands the unit's user account to one of its
    civil servants; the unit's admin account, and any account to the head's own address, it may not
    (either would give the head rights above its tier). The system admin hands the admin account."""
    unit = await _new_unit(system, "HQHCM")
    today = handover_day()
    head_email = jwt.decode(system.token("thutruong.hcm"), options={"verify_signature": False})["email"]
    async with _identity(system, "quantri") as sysadmin, _identity(system, "thutruong.hcm") as head:
        for kind in ("admin", "user"):
            quota = await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": kind, "limit": 1})
            assert quota.status_code == 200, quota.text
        issued = {}
        for tier in ("local-admin", "local-officer"):
            account = await sysadmin.post(
                "/v1/purpose-accounts", json={"unit_path": unit, "purpose": f"Thử {tier}", "tier": tier}
            )
            assert account.status_code == 201, account.text
            issued[tier] = f"/v1/purpose-accounts/{account.json()['account']['id']}/holders"

        admin_account = await head.post(
            issued["local-admin"], json={"holder_name": "Bùi Thị Trưởng", "holder_email": MOT, "since": today}
        )
        to_itself = await head.post(
            issued["local-officer"],
            json={"holder_name": "Bùi Thị Trưởng", "holder_email": head_email.upper(), "since": today},
        )
        handed = await head.post(
            issued["local-officer"], json={"holder_name": "Lê Thị Một", "holder_email": MOT, "since": today}
        )
        by_the_admin = await sysadmin.post(
            issued["local-admin"], json={"holder_name": "Trần Văn Hai", "holder_email": HAI, "since": today}
        )
        held = {tier: (await sysadmin.get(path)).json() for tier, path in issued.items()}
    assert (admin_account.status_code, to_itself.status_code) == (403, 403), (admin_account.text, to_itself.text)
    assert (handed.status_code, by_the_admin.status_code) == (201, 201), (handed.text, by_the_admin.text)
    assert [h["holder_name"] for h in held["local-officer"]] == ["Lê Thị Một"]
    assert [h["holder_name"] for h in held["local-admin"]] == ["Trần Văn Hai"]


def _account_request(unit_path: str, n: int) -> dict[str, object]:
    return {
        "holder_name": f"Nguyễn Thị Số {n} {unique_code('')}",
        "holder_email": f"so.{n}.{unique_code('').lower()}@haiquan.example",
        "unit_path": unit_path,
        "division": "Đội Thủ tục hàng hóa xuất nhập khẩu",
        "position": "Công chức",
        "phone": "0912345678",
        "account_types": ["local-officer"],
        "reply_name": "Vũ Thị Hà",
        "reply_unit": "Phòng Tổ chức cán bộ",
        "reply_email": "tccb.hanoi@qlcb.example",
        "reply_phone": "0243123456",
        "requester_name": "Phạm Thị Ba",
    }


async def test_the_account_audit_names_who_held_a_shared_account_and_reads_a_page_at_a_time(system: System) -> None:
    """R-AUD-1 asks who did it: the account and its holder. What a purpose account does is logged with
    the account's name; the log names the civil servant who held it that day. The log is read by
    time range and a page at a time, newest first, and a wrong range or page is refused by name."""
    account = await _issued_account(system)
    email = f"ba.{account['id'][:8]}@haiquan.example"
    async with _identity(system, "qthanoi") as local:
        given = await local.post(
            f"/v1/purpose-accounts/{account['id']}/holders",
            json={"holder_name": "Phạm Thị Ba", "holder_email": email, "since": handover_day()},
        )
    assert given.status_code == 201, given.text
    await handed_over_on(system, account["id"], date(2026, 1, 5))
    token = await _first_login(system, account["username"], email, after=0, chosen="Người giữ thứ ba 2026")
    async with httpx.AsyncClient(
        base_url=system.services.identity_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as holder:
        for n in range(3):
            submitted = await holder.post("/v1/account-requests", json=_account_request(account["unit_path"], n))
            assert submitted.status_code == 201, submitted.text

    mine = {"username": account["username"], "action": "account_request.submit"}
    async with _identity(system, "quantri") as sysadmin:
        log = (await sysadmin.get("/v1/audit", params=mine)).json()
        assert [(e["actor_username"], e["holder_name"]) for e in log] == [(account["username"], "Phạm Thị Ba")] * 3
        assert [e["at"] for e in log] == sorted((e["at"] for e in log), reverse=True), "newest first"
        first = (await sysadmin.get("/v1/audit", params=mine | {"limit": 2})).json()
        rest = (await sysadmin.get("/v1/audit", params=mine | {"limit": 2, "before_id": first[-1]["id"]})).json()
        assert [e["id"] for e in first + rest] == [e["id"] for e in log]
        since = (await sysadmin.get("/v1/audit", params=mine | {"occurred_from": log[1]["at"]})).json()
        until = (await sysadmin.get("/v1/audit", params=mine | {"occurred_to": log[1]["at"]})).json()
        assert ([e["id"] for e in since], [e["id"] for e in until]) == (
            [e["id"] for e in log[:2]],
            [e["id"] for e in log[1:]],
        )
        refused = {
            "occurred_to": mine | {"occurred_from": log[0]["at"], "occurred_to": log[2]["at"]},
            "before_id": mine | {"before_id": "00000000-0000-0000-0000-000000000000"},
            "occurred_from": mine | {"occurred_from": "0001-01-01T00:00:00+01:00"},
        }
        for field, params in refused.items():
            answer = await sysadmin.get("/v1/audit", params=params)
            assert answer.status_code == 422, (field, answer.text)
            assert answer.json()["detail"][0]["loc"][-1] == field, answer.text


async def test_a_local_admin_reads_the_account_audit_of_its_own_units_only(system: System) -> None:
    """R-AUD-1 for a unit's account admin: the quotas, requests and accounts of its subtree, as the
    system admin reads them; nothing of another Cục's, of the realm's or of a refusal; every other
    tier is refused."""
    hanoi, elsewhere = await _new_unit(system), await _new_unit(system, "HQHCM")
    async with _identity(system, "quantri") as sysadmin, _identity(system, "qthanoi") as local:
        for unit in (hanoi, elsewhere):
            quota = await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 3})
            assert quota.status_code == 200, quota.text
        filed = await local.post("/v1/account-requests", json=_account_request(hanoi, 1))
        assert filed.status_code == 201, filed.text
        refused = await local.post("/v1/account-requests", json=_account_request(elsewhere, 2))
        assert refused.status_code == 403, refused.text

        seen = (await local.get("/v1/audit", params={"limit": 500})).json()
        mine = [(e["action"], e["target"]) for e in seen if e["target"] in (f"{hanoi}#user", filed.json()["id"])]
        assert mine == [("account_request.submit", filed.json()["id"]), ("quota.set", f"{hanoi}#user")]
        assert not [e for e in seen if elsewhere in e["target"]], "another Cục's quota"
        assert not [e for e in seen if e["outcome"] == "refused"], "a refusal names no unit it may read"
        one = await local.get("/v1/audit", params={"target": f"{hanoi}#user"})
        assert [e["after"] for e in one.json()] == [{"limit": 3}]
        assert (await local.get("/v1/audit", params={"target": f"{elsewhere}#user"})).json() == []
        everything = await sysadmin.get("/v1/audit", params={"target": f"{elsewhere}#user"})
        assert [e["action"] for e in everything.json()] == ["quota.set"]
    for login in ("thutruong.hcm", "nhansu1.hanoi", "vutccb", "canbo.noibai"):
        async with _identity(system, login) as other:
            answer = await other.get("/v1/audit", params={"target": f"{hanoi}#user"})
        assert answer.status_code == 403, (login, answer.text)
