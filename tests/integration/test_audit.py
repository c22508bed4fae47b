"""The records' audit trail (issue 9 point 5, R-AUD-1, R-PER-7): every write with the account and
the before and after of each field, every whole-record and section read, for a purpose account the
civil servant who held it that day; read through `GET /v1/audit` by record, unit, account, holder,
action and time inside the caller's scope; chained by hash, with `POST /v1/audit/verify` and
`python -m qlcb_personnel.audit verify` naming the first entry that breaks the chain."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tests.support import (
    System,
    api_client,
    browser_login,
    claim_credential,
    eventually,
    handed_over,
    handover_day,
    mailed_code,
    person_body,
    unique_code,
)

DECISION = {"number": "15/QĐ-HQHN", "date": "2011-12-20", "body": "Cục Hải quan TP Hà Nội"}


def _salary(step: int, coefficient: str) -> dict[str, Any]:
    return {
        "values": {"rank_code": "08.051", "step": step, "coefficient": coefficient},
        "valid_from": "2012-01-01",
        "decision": DECISION,
    }


async def _person(api: httpx.AsyncClient, unit_id: str, name: str) -> str:
    created = await api.post("/v1/persons", json=person_body(unit_id, name, born="1985-03-04"))
    assert created.status_code == 201, created.text
    person_id: str = created.json()["id"]
    return person_id


async def _entries(api: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await api.get(
        "/v1/audit", params={k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}
    )
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def _sealed(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """The entries found once each has been sealed into the chain (a moment after it is written)."""
    page = await eventually(
        lambda: _entries(api, **params),
        lambda found: bool(found["entries"]) and all(e["seq"] > 0 for e in found["entries"]),
        timeout=30,
        what=f"sealed audit entries for {params}",
    )
    entries: list[dict[str, Any]] = page["entries"]
    return entries


async def test_a_write_is_recorded_with_who_and_the_before_and_after_of_each_field(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system.unit_ids["HQHN-NB"], "Vũ Thị Nhật Ký")
        salary = f"/v1/persons/{person}/salary"
        added = await api.post(salary, json=_salary(1, "2.34"))
        assert added.status_code == 201, added.text
        first = added.json()
        corrected = await api.put(f"{salary}/{first['entry_id']}", json=_salary(2, "2.67"), headers={"If-Match": '"1"'})
        assert corrected.status_code == 200, corrected.text
        entries = await _sealed(api, person_id=person)
    for found in entries:
        assert found["account"] == "qthanoi"
        assert "local-admin" in found["tiers"]
        assert found["person_id"] == person
        assert found["unit_path"] == "/TCHQ/HQHN/HQHN-NB"
        assert len(found["hash"]) == 64
    created = next(e for e in entries if e["target"] == "persons")
    assert created["action"] == "create"
    assert created["details"]["changes"]["full_name"] == [None, "Vũ Thị Nhật Ký"]
    assert "name_sort" not in created["details"]["changes"], "derived columns say nothing new"
    recorded = next(e for e in entries if e["target"] == "record_entries" and e["action"] == "create")
    assert recorded["details"]["changes"]["values.step"] == [None, 1]
    assert recorded["details"]["changes"]["decision_number"] == [None, "15/QĐ-HQHN"]
    correction = next(e for e in entries if e["target"] == "record_entries" and "supersedes" in e["details"])
    assert correction["action"] == "update"
    assert correction["details"]["supersedes"] == recorded["target_id"]
    assert correction["details"]["changes"]["values.step"] == [1, 2]
    assert correction["details"]["changes"]["change"] == ["recorded", "corrected"]
    assert "decision_number" not in correction["details"]["changes"], "only what the correction changed"
    superseded = next(e for e in entries if e["target_id"] == recorded["target_id"] and e is not recorded)
    assert superseded["details"]["changes"]["superseded_at"][0] is None
    assert correction["transaction_id"] == superseded["transaction_id"] != recorded["transaction_id"]


async def test_a_refused_write_leaves_nothing_and_a_read_of_the_record_is_recorded(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system.unit_ids["HQHN-NB"], "Đào Văn Đọc")
        before = (await _entries(api, person_id=person))["total"]
        refused = await api.post(f"/v1/persons/{person}/salary", json=_salary(10, "5.31"))
        assert refused.status_code == 422, refused.text
        assert (await _entries(api, person_id=person))["total"] == before, "nothing recorded for a refused write"
    async with api_client(system.gateway_url, system.token("thutruong.hcm")) as elsewhere:
        assert (await elsewhere.get(f"/v1/persons/{person}/record")).status_code == 404
    async with api_client(system.gateway_url, system.token("vutccb")) as sector:
        read = await sector.get(f"/v1/persons/{person}/record", params={"as_of": "2025-06-30"})
        assert read.status_code == 200, read.text
        section = await sector.get(f"/v1/persons/{person}/salary")
        assert section.status_code == 200, section.text
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        reads = await _sealed(api, person_id=person, action="read")
    assert {(e["account"], e["target"]) for e in reads} == {("vutccb", "record"), ("vutccb", "record_section")}
    whole = next(e for e in reads if e["target"] == "record")
    assert whole["details"]["as_of"] == "2025-06-30"
    assert "salary" in whole["details"]["sections"]
    assert next(e for e in reads if e["target"] == "record_section")["details"]["sections"] == ["salary"]
    assert all(e["account"] != "thutruong.hcm" for e in reads), "a refused read gave nothing to record"


async def test_each_tier_reads_the_trail_of_its_own_scope_only(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        person = await _person(hanoi, system.unit_ids["HQHN-NB"], "Hồ Thị Phạm Vi")
        await _sealed(hanoi, person_id=person)
        subtree = await _entries(hanoi, unit_id=system.unit_ids["HQHN"], include_subtree=True, person_id=person)
        only_hq = await _entries(hanoi, unit_id=system.unit_ids["HQHN"], person_id=person)
        outside = await hanoi.get("/v1/audit", params={"unit_id": system.unit_ids["HQHCM"]})
    async with api_client(system.gateway_url, system.token("thutruong.hcm")) as hcm:
        theirs = await _entries(hcm, person_id=person)
        everything = await _entries(hcm, page_size=200)
    async with api_client(system.gateway_url, system.token("canbo.noibai")) as own:
        refused = await own.get("/v1/audit", params={"person_id": person})
    assert subtree["total"] >= 1
    assert only_hq["total"] == 0, "the record is in Nội Bài, below Hà Nội"
    assert outside.status_code == 403
    assert theirs == {"entries": [], "total": 0}, "Hồ Chí Minh's head sees nothing of Hà Nội's records"
    assert all(
        e["unit_path"] == "/TCHQ/HQHCM" or (e["unit_path"] or "").startswith("/TCHQ/HQHCM/")
        for e in everything["entries"]
    )
    assert refused.status_code == 403


async def test_entries_are_found_by_account_action_and_time(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        began = datetime.now(UTC) - timedelta(seconds=1)
        person = await _person(api, system.unit_ids["HQHN-NB"], "Lương Văn Thời")
        ended = datetime.now(UTC) + timedelta(seconds=1)
        await _sealed(api, person_id=person)
        inside = await _entries(
            api,
            person_id=person,
            account="qthanoi",
            action="create",
            occurred_from=began.isoformat(),
            occurred_to=ended.isoformat(),
        )
        later = await _entries(api, person_id=person, occurred_from=ended.isoformat())
        other_account = await _entries(api, person_id=person, account="quantri")
        deleted = await _entries(api, person_id=person, action="delete")
    assert inside["total"] >= 1
    assert {e["target"] for e in inside["entries"]} >= {"persons"}
    assert later["total"] == other_account["total"] == deleted["total"] == 0


async def test_bad_criteria_are_refused_naming_the_field(system: System) -> None:
    async with api_client(system.gateway_url, system.token("quantri")) as api:
        cases = {
            "action": {"action": "peek"},
            "page_size": {"page_size": "0"},
            "occurred_from": {"occurred_from": "2026-12-01T08:00:00"},
            "occurred_to": {"occurred_from": "2026-12-02T00:00:00+07:00", "occurred_to": "2026-12-01T00:00:00+07:00"},
        }
        answers = {field: await api.get("/v1/audit", params=params) for field, params in cases.items()}
        unknown_unit = await api.get("/v1/audit", params={"unit_id": "00000000-0000-0000-0000-000000000000"})
    for field, response in answers.items():
        assert response.status_code == 422, (field, response.text)
        assert field in {str(loc) for d in response.json()["detail"] for loc in d["loc"]}, (field, response.text)
    assert unknown_unit.status_code == 404


def _identity(system: System, username: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=system.services.identity_url,
        headers={"Authorization": f"Bearer {system.token(username)}"},
        timeout=60,
    )


async def test_a_purpose_accounts_entries_name_who_held_it_that_day(system: System) -> None:
    """ "Nhân sự 1" of a new Chi cục is handed to Lê Thị Giữ; what the account reads is found by
    her name or personal id, and each entry names her."""
    async with api_client(system.gateway_url, system.token("quantri")) as admin:
        unit = await admin.post(
            "/v1/units",
            json={
                "code": unique_code("NK"),
                "name": "Chi cục kiểm thử nhật ký",
                "kind": "sub_unit",
                "parent_id": system.unit_ids["HQHN"],
            },
        )
        assert unit.status_code == 201, unit.text
    unit_id, unit_path = unit.json()["id"], unit.json()["path"]
    async with api_client(system.gateway_url, system.token("qthanoi")) as local:
        holder_body = person_body(unit_id, "Lê Thị Giữ", sex="female", born="1990-02-03")
        holder = await local.post("/v1/persons", json=holder_body)
        assert holder.status_code == 201, holder.text
        person = await _person(local, unit_id, "Trương Văn Được Đọc")
    recipient = f"giu.{unit_id[:8]}@haiquan.example"
    async with _identity(system, "quantri") as sysadmin, _identity(system, "qthanoi") as issuer:
        assert (
            await sysadmin.put("/v1/quotas", json={"unit_path": unit_path, "kind": "user", "limit": 1})
        ).status_code == 200
        issued = await issuer.post(
            "/v1/purpose-accounts", json={"unit_path": unit_path, "purpose": "Nhân sự 1", "tier": "local-officer"}
        )
        assert issued.status_code == 201, issued.text
        account = issued.json()["account"]

        holding = {
            "holder_name": "Lê Thị Giữ",
            "holder_personal_id": holder_body["personal_id"],
            "holder_email": recipient,
            "since": handover_day(),
        }
        given = await handed_over(issuer, account["id"], holding)
        assert given.status_code == 201, given.text
    credential = await claim_credential(system, await mailed_code(system, recipient))
    assert credential.status_code == 200, credential.text
    token = await asyncio.to_thread(
        browser_login,
        system,
        account["username"],
        credential.json()["temporary_password"],
        new_password="Người giữ nhật ký 2026",
    )
    async with api_client(system.gateway_url, token) as officer:
        assert (await officer.get(f"/v1/persons/{person}/record")).status_code == 200
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        by_account = await eventually(
            lambda: _entries(api, account=account["username"]),
            lambda page: any(e["holder_name"] for e in page["entries"]),
            timeout=30,
            what="the holder named beside the purpose account's read",
        )
        by_id = await _entries(api, holder=holder_body["personal_id"])
        by_name = await _entries(api, holder="le thi giu")
        nobody = await _entries(api, holder="Không Ai Giữ")
    read = next(e for e in by_account["entries"] if e["target"] == "record")
    assert (read["holder_name"], read["holder_personal_id"]) == ("Lê Thị Giữ", holder_body["personal_id"])
    assert read["person_id"] == person
    assert (
        {e["id"] for e in by_id["entries"]}
        == {e["id"] for e in by_name["entries"]}
        == {e["id"] for e in by_account["entries"]}
    )
    assert nobody["total"] == 0


async def test_the_chain_is_verified_and_names_the_first_entry_tampered_with(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system.unit_ids["HQHN-NB"], "Kiều Văn Chuỗi")
        entries = await _sealed(api, person_id=person)
        refused = await api.post("/v1/audit/verify")
    target = min(entries, key=lambda e: e["seq"])
    async with api_client(system.gateway_url, system.token("quantri")) as admin:
        intact = await admin.post("/v1/audit/verify")
        assert intact.status_code == 200, intact.text
        assert intact.json()["intact"] is True
        assert intact.json()["checked"] >= target["seq"]
        conn = await asyncpg.connect(system.postgres_dsn("personnel"))
        # The tables' owner turns the database's guards off (migration 0009), as whoever tampers
        # with the trail would have to, and on again after.
        await conn.execute("ALTER TABLE audit_entries DISABLE TRIGGER USER")
        try:
            original = await conn.fetchval("SELECT account FROM audit_entries WHERE id = $1", target["id"])
            await conn.execute("UPDATE audit_entries SET account = 'ke.gian' WHERE id = $1", target["id"])
            try:
                broken = await admin.post("/v1/audit/verify")
                command = await asyncio.to_thread(_verify_command, system)
            finally:
                await conn.execute("UPDATE audit_entries SET account = $2 WHERE id = $1", target["id"], original)
        finally:
            await conn.execute("ALTER TABLE audit_entries ENABLE TRIGGER USER")
            await conn.close()
        repaired = await admin.post("/v1/audit/verify")
        # An entry removed from the middle of the chain, put back after.
        conn = await asyncpg.connect(system.postgres_dsn("personnel"))
        await conn.execute("ALTER TABLE audit_entries DISABLE TRIGGER USER")
        try:
            async with conn.transaction():
                await conn.execute(
                    "CREATE TEMP TABLE removed AS SELECT * FROM audit_entries WHERE id = $1", target["id"]
                )
                await conn.execute("DELETE FROM audit_entries WHERE id = $1", target["id"])
            try:
                gap = await admin.post("/v1/audit/verify")
            finally:
                await conn.execute("INSERT INTO audit_entries SELECT * FROM removed")
        finally:
            await conn.execute("ALTER TABLE audit_entries ENABLE TRIGGER USER")
            await conn.close()
        whole_again = await admin.post("/v1/audit/verify")
    assert gap.status_code == 200, gap.text
    assert (gap.json()["intact"], gap.json()["first_broken_seq"]) == (False, target["seq"]), gap.text
    assert whole_again.json()["intact"] is True
    assert refused.status_code == 403
    assert broken.status_code == 200, broken.text
    assert broken.json()["intact"] is False
    assert (broken.json()["first_broken_seq"], broken.json()["first_broken_id"]) == (target["seq"], target["id"])
    assert broken.json()["checked"] == target["seq"] - 1
    assert command.returncode == 1
    assert f"mục số {target['seq']}" in command.stderr
    assert repaired.json()["intact"] is True


def _verify_command(system: System) -> subprocess.CompletedProcess[str]:
    url = system.services.database_urls["personnel"]
    return subprocess.run(
        [sys.executable, "-m", "qlcb_personnel.audit", "verify", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"PYTHONUTF8": "1"},
        check=False,
    )


async def test_every_kind_of_write_is_recorded_with_what_it_changed(system: System) -> None:
    """Beyond a person and an entry: a status change and its undoing, a transfer, a decision and its
    cancellation, a unit created and renamed, and a quota given each leave their entries, with the
    account and what changed."""
    async with api_client(system.gateway_url, system.token("quantri")) as api:
        hanoi = system.unit_ids["HQHN"]
        made = await api.post(
            "/v1/units",
            json={"code": unique_code("KT"), "name": "Đội Kiểm tra", "kind": "sub_unit", "parent_id": hanoi}
            | {"effective_date": "2025-07-01", "decision": "1/QĐ-HQHN"},
        )
        assert made.status_code == 201, made.text
        team = made.json()["id"]
        renamed = await api.post(
            f"/v1/units/{team}/rename",
            json={"name": "Đội Kiểm tra sau thông quan", "effective_date": "2025-08-01", "decision": "2/QĐ-HQHN"},
        )
        assert renamed.status_code == 200, renamed.text
        # A year no other test gives: each unit's quota comes out of its parent's.
        for unit_id in (system.root_unit_id, hanoi, team):
            quota = {"quota": 6, "effective_date": "2033-01-01", "decision": "3/QĐ-HQHN"}
            given = await api.put(f"/v1/units/{unit_id}/quotas/2033", json=quota)
            assert given.status_code == 200, given.text
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, team, "Lại Văn Ghi")
        retire = {"status": "retired", "effective_date": "2025-09-30", "decision": "4/QĐ-HQHN"}
        assert (await api.post(f"/v1/persons/{person}/status", json=retire)).status_code == 200
        back = {"status": "active", "effective_date": "2025-10-01", "decision": "5/QĐ-HQHN"}
        assert (await api.post(f"/v1/persons/{person}/status", json=back)).status_code == 200
        sent = await api.post(
            "/v1/transfers",
            json={"person_id": person, "to_unit_id": system.unit_ids["HQHN-NB"], "effective_date": "2025-11-01"}
            | {"decision": "6/QĐ-HQHN"},
        )
        assert sent.status_code == 201, sent.text
        assert (await api.post(f"/v1/transfers/{sent.json()['id']}/accept")).status_code == 200
        decision = {
            "kind": "reward",
            "number": f"{unique_code('K')[-6:]}/QĐ-HQHN",
            "decision_date": "2025-12-01",
            "effective_date": "2025-12-01",
            "summary": "Khen thưởng",
            "items": [{"person_id": person, "values": {"form": "LDTT"}}],
            "body": "Cục Hải quan TP Hà Nội",
            "signer": "Nguyễn Văn Ký",
            "signer_post": "Cục trưởng",
        }
        created = await api.post("/v1/decisions", json=decision)
        assert created.status_code == 201, created.text
        cancel = {"reason": "Nhầm người", "cancel_number": f"{unique_code('H')[-6:]}/QĐ-HQHN"}
        cancelled = await api.post(
            f"/v1/decisions/{created.json()['id']}/cancel", json=cancel, headers={"If-Match": '"1"'}
        )
        assert cancelled.status_code == 200, cancelled.text
        about_person = await _sealed(api, person_id=person)
        about_team = await _sealed(api, unit_id=team, include_subtree=False)

    def changed(entries: list[dict[str, Any]], field: str) -> set[tuple[str, str, str, Any]]:
        """(account, action, target, [before, after] of `field`) of the entries that changed it."""
        return {
            (e["account"], e["action"], e["target"], tuple(e["details"]["changes"][field]))
            for e in entries
            if field in e["details"].get("changes", {})
        }

    assert changed(about_team, "name") >= {
        ("quantri", "create", "units", (None, "Đội Kiểm tra")),
        ("quantri", "update", "units", ("Đội Kiểm tra", "Đội Kiểm tra sau thông quan")),
    }
    assert changed(about_team, "change") >= {
        ("quantri", "create", "unit_changes", (None, "established")),
        ("quantri", "create", "unit_changes", (None, "renamed")),
        ("quantri", "create", "unit_quotas", (None, "assigned")),
    }
    assert ("quantri", "create", "unit_quotas", (None, 6)) in changed(about_team, "quota")
    assert changed(about_person, "status") >= {
        ("qthanoi", "create", "person_statuses", (None, "PERSON_STATUS_RETIRED")),
        ("qthanoi", "create", "person_statuses", (None, "PERSON_STATUS_ACTIVE")),
        ("qthanoi", "update", "transfers", ("TRANSFER_STATUS_SENT", "TRANSFER_STATUS_ACCEPTED")),
    }
    assert ("qthanoi", "update", "persons", (team, system.unit_ids["HQHN-NB"])) in changed(about_person, "unit_id")
    assert ("qthanoi", "create", "decision_items", (None, "LDTT")) in changed(about_person, "values.form")
    assert changed(about_person, "retracted") == {
        ("qthanoi", "create", "record_entries", (None, False)),
        ("qthanoi", "update", "record_entries", (False, True)),
    }, "the decision wrote the reward, its cancellation retracted it"
