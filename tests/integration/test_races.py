"""Races that really overlap (issue 17.3): for each documented race, ten or more callers, each
on its own TCP connection opened beforehand, are released together; exactly one wins, every
other one is refused with the status the API documents, and the service's own database shows
one effect, not two."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest

from qlcb.personnel.v1 import decision_pb2, events_pb2
from qlcb_common.events import subjects
from qlcb_common.events.envelope import parse, unpack
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_identity.keycloak_accounts import ascii_slug
from tests.support import System, api_client, person_body, unique_code

RACERS = 10
HCM = "/TCHQ/HQHCM"

Send = Callable[[int, httpx.AsyncClient], Awaitable[httpx.Response]]


@pytest.fixture(scope="module")
def hcm_admin(system: System) -> str:
    """A local admin of Hồ Chí Minh City customs: the receiving side of a transfer."""
    admin = Account("qthcm", "Quản trị HCM 2026", "local-admin", HCM, "Trần Thị Nhận")
    ensure_user(system.infra.keycloak_admin(), admin)
    return password_token(system.infra.keycloak.base_url, admin.username, admin.password)


@pytest.fixture(scope="module")
def hanoi_leader(system: System) -> str:
    """The unit head who consents to Hà Nội's account requests."""
    leader = Account("thutruong.hanoi", "Thủ trưởng 2026", "unit-leader", "/TCHQ/HQHN", "Ngô Văn Trưởng")
    ensure_user(system.infra.keycloak_admin(), leader)
    return password_token(system.infra.keycloak.base_url, leader.username, leader.password)


@asynccontextmanager
async def _clients(base_url: str, tokens: Sequence[str]) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client, hence one connection pool, per token given (a token may repeat)."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(api_client(base_url, token)) for token in tokens]


def _client_port(response: httpx.Response) -> int:
    port: int = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


async def _race(clients: Sequence[httpx.AsyncClient], send: Send) -> list[httpx.Response]:
    """Every client opens its connection, then waits at a barrier until all have; released
    together, each sends its request on the connection it opened."""
    barrier = asyncio.Barrier(len(clients))

    async def one(index: int, client: httpx.AsyncClient) -> tuple[int, httpx.Response]:
        opened = await client.get("/livez")
        assert opened.status_code == 200, opened.text
        await barrier.wait()
        response = await send(index, client)
        assert _client_port(response) == _client_port(opened), "the request went on the connection opened before"
        return _client_port(opened), response

    raced = await asyncio.gather(*(one(i, c) for i, c in enumerate(clients)))
    assert len({port for port, _ in raced}) == len(clients), "every caller has a connection of its own"
    return [response for _, response in raced]


def _one_winner(responses: Sequence[httpx.Response], won: int, refused: int) -> httpx.Response:
    """The one response with `won`; every other one is `refused`."""
    seen = Counter(r.status_code for r in responses)
    assert seen == Counter({won: 1, refused: len(responses) - 1}), [(r.status_code, r.text[:300]) for r in responses]
    return next(r for r in responses if r.status_code == won)


async def _fetch(system: System, database: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """Rows read straight from a service's PostgreSQL database."""
    conn = await asyncpg.connect(system.postgres_dsn(database))
    try:
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
        return rows
    finally:
        await conn.close()


async def _transfers_of(system: System, person_id: str) -> list[tuple[str, str]]:
    """The person's transfers in personnel's database: (status, who decided)."""
    rows = await _fetch(system, "personnel", "SELECT status, decided_by FROM transfers WHERE person_id = $1", person_id)
    return [(r["status"], r["decided_by"]) for r in rows]


async def _moves_published(system: System, person_id: str) -> int:
    """`person.transferred` events for the person in personnel's outbox."""
    rows = await _fetch(
        system, "personnel", "SELECT envelope FROM outbox WHERE subject = $1", subjects.PERSONNEL_PERSON_TRANSFERRED
    )
    moved = [unpack(parse(r["envelope"]), events_pb2.PersonTransferred) for r in rows]
    return sum(1 for event in moved if event.person.id == person_id)


async def _unit_of(system: System, person_id: str) -> str:
    rows = await _fetch(system, "personnel", "SELECT unit_id FROM persons WHERE id = $1", person_id)
    unit_id: str = rows[0]["unit_id"]
    return unit_id


async def _sent_to_hcm(system: System, full_name: str) -> tuple[str, str]:
    """A new Nội Bài record sent to Hồ Chí Minh City: the person's id and the transfer's."""
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        created = await hanoi.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], full_name))
        assert created.status_code == 201, created.text
        person_id: str = created.json()["id"]
        sent = await hanoi.post(
            "/v1/transfers",
            json={
                "person_id": person_id,
                "to_unit_id": system.unit_ids["HQHCM"],
                "effective_date": "2026-12-01",
                "decision": f"{unique_code('')[:5]}/QĐ-TCHQ",
            },
        )
    assert sent.status_code == 201, sent.text
    transfer_id: str = sent.json()["id"]
    return person_id, transfer_id


async def test_ten_accepts_of_one_transfer_move_the_person_once(system: System, hcm_admin: str) -> None:
    person_id, transfer_id = await _sent_to_hcm(system, "Đinh Thị Tranh")
    # The receiving unit's admin and the system admin, five connections each.
    tokens = [hcm_admin if i % 2 else system.token("quantri") for i in range(RACERS)]
    async with _clients(system.gateway_url, tokens) as receivers:
        raced = await _race(receivers, lambda _, c: c.post(f"/v1/transfers/{transfer_id}/accept"))

    accepted = _one_winner(raced, 200, 409)
    assert accepted.json()["status"] == "accepted"
    assert await _transfers_of(system, person_id) == [("TRANSFER_STATUS_ACCEPTED", accepted.json()["decided_by"])]
    assert await _unit_of(system, person_id) == system.unit_ids["HQHCM"]
    assert await _moves_published(system, person_id) == 1, "one move, one person.transferred event"


async def test_withdrawals_racing_accepts_leave_one_of_them_done(system: System, hcm_admin: str) -> None:
    person_id, transfer_id = await _sent_to_hcm(system, "Cao Văn Giằng")
    senders, receivers = RACERS // 2 + 1, RACERS // 2 + 1
    tokens = [system.token("qthanoi")] * senders + [hcm_admin] * receivers

    async def withdraw_or_accept(index: int, client: httpx.AsyncClient) -> httpx.Response:
        if index < senders:
            return await client.post(f"/v1/transfers/{transfer_id}/withdraw", json={"reason": f"Thu hồi lần {index}"})
        return await client.post(f"/v1/transfers/{transfer_id}/accept")

    async with _clients(system.gateway_url, tokens) as callers:
        raced = await _race(callers, withdraw_or_accept)

    winner = _one_winner(raced, 200, 409)
    done = winner.json()["status"]
    assert done in {"accepted", "withdrawn"}
    stored = await _transfers_of(system, person_id)
    assert stored == [(f"TRANSFER_STATUS_{done.upper()}", winner.json()["decided_by"])]
    moved = done == "accepted"
    assert await _unit_of(system, person_id) == system.unit_ids["HQHCM" if moved else "HQHN-NB"]
    assert await _moves_published(system, person_id) == (1 if moved else 0)


def _account_request() -> dict[str, Any]:
    code = unique_code("")
    return {
        "holder_name": f"Lương Thị {code}",
        "holder_email": f"holder.{code.lower()}@haiquan.example",
        "unit_path": "/TCHQ/HQHN/HQHN-NB",
        "division": "Đội Kiểm soát hải quan",
        "position": "Công chức",
        "phone": "0912345678",
        "account_types": ["local-officer"],
        "reply_name": "Vũ Thị Hà",
        "reply_unit": "Phòng Tổ chức cán bộ, Cục Hải quan TP Hà Nội",
        "reply_email": "tccb.hanoi@qlcb.example",
        "reply_phone": "0243123456",
        "requester_name": "Vũ Thị Hà",
    }


async def _consented_request(system: System, leader: str) -> str:
    """An account request filed by Hà Nội's personnel officer, consented to by its head."""
    identity = system.services.identity_url
    async with api_client(identity, system.token("nhansu1.hanoi")) as officer, api_client(identity, leader) as head:
        submitted = await officer.post("/v1/account-requests", json=_account_request())
        assert submitted.status_code == 201, submitted.text
        request_id: str = submitted.json()["id"]
        consented = await head.post(f"/v1/account-requests/{request_id}/consent")
    assert consented.status_code == 200, consented.text
    return request_id


async def test_ten_submissions_of_one_request_open_it_once(system: System) -> None:
    """One open request per holder and purpose: the same request filed ten times at once."""
    body = _account_request()
    # Hà Nội's personnel officer and its admin, both allowed to file for Nội Bài.
    tokens = [system.token("qthanoi" if i % 2 else "nhansu1.hanoi") for i in range(RACERS)]
    async with _clients(system.services.identity_url, tokens) as requesters:
        raced = await _race(requesters, lambda _, c: c.post("/v1/account-requests", json=body))

    filed = _one_winner(raced, 201, 409)
    rows = await _fetch(
        system, "identity", "SELECT id, status FROM account_requests WHERE holder_name = $1", body["holder_name"]
    )
    assert [(r["id"], r["status"]) for r in rows] == [(filed.json()["id"], "submitted")]


async def _audited(system: System, action: str, target: str) -> list[tuple[str, str, str]]:
    """Identity's audit entries of one action on one target: (outcome, actor's subject, username)."""
    rows = await _fetch(
        system,
        "identity",
        "SELECT outcome, actor_subject, actor_username FROM audit_entries WHERE action = $1 AND target = $2",
        action,
        target,
    )
    return [(r["outcome"], r["actor_subject"], r["actor_username"]) for r in rows]


async def test_ten_approvals_of_one_request_approve_it_once(system: System, hanoi_leader: str) -> None:
    request_id = await _consented_request(system, hanoi_leader)
    # Hà Nội's admin and the system admin may both approve a local officer of Nội Bài.
    tokens = [system.token("qthanoi" if i % 2 else "quantri") for i in range(RACERS)]
    async with _clients(system.services.identity_url, tokens) as approvers:
        raced = await _race(approvers, lambda _, c: c.post(f"/v1/account-requests/{request_id}/approve"))

    assert _one_winner(raced, 200, 409).json()["status"] == "approved"
    done = [entry for entry in await _audited(system, "account_request.approve", request_id) if entry[0] == "done"]
    assert len(done) == 1, done
    rows = await _fetch(
        system, "identity", "SELECT status, approved_by FROM account_requests WHERE id = $1", request_id
    )
    assert [(r["status"], r["approved_by"]) for r in rows] == [("approved", done[0][1])], "approved once, by the winner"


async def test_ten_issuers_of_one_request_create_one_account(system: System, hanoi_leader: str) -> None:
    request_id = await _consented_request(system, hanoi_leader)
    async with api_client(system.services.identity_url, system.token("qthanoi")) as admin:
        approved = await admin.post(f"/v1/account-requests/{request_id}/approve")
    assert approved.status_code == 200, approved.text
    # The approver may not also issue: the system admin, on ten connections.
    async with _clients(system.services.identity_url, [system.token("quantri")] * RACERS) as issuers:
        raced = await _race(issuers, lambda _, c: c.post(f"/v1/account-requests/{request_id}/issue"))

    issued = _one_winner(raced, 201, 409)
    username = issued.json()["username"]
    rows = await _fetch(system, "identity", "SELECT status, username FROM account_requests WHERE id = $1", request_id)
    assert [(r["status"], r["username"]) for r in rows] == [("issued", username)]
    deliveries = await _fetch(
        system, "identity", "SELECT username FROM credential_deliveries WHERE request_id = $1", request_id
    )
    assert [r["username"] for r in deliveries] == [username], "one first-login password, for the one account"
    assert [(outcome, who) for outcome, _, who in await _audited(system, "account.issue", username)] == [
        ("done", "quantri")
    ]
    # Every account issued for this holder (whose name is unique to the test) begins with it.
    users = system.infra.keycloak_admin().get_users({"search": ascii_slug(issued.json()["request"]["holder_name"])})
    assert [u["username"] for u in users] == [username]


async def test_ten_admins_racing_for_the_last_purpose_account_slot_get_one(system: System) -> None:
    async with api_client(system.gateway_url, system.token("quantri")) as api:
        created = await api.post(
            "/v1/units",
            json={
                "code": unique_code("Q"),
                "name": "Chi cục kiểm thử tranh chấp định mức",
                "kind": "sub_unit",
                "parent_id": system.unit_ids["HQHN"],
            },
        )
    assert created.status_code == 201, created.text
    unit: str = created.json()["path"]
    async with api_client(system.services.identity_url, system.token("quantri")) as sysadmin:
        quota = await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 2})
        assert quota.status_code == 200, quota.text
        first = await sysadmin.post(
            "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Nhân sự 1", "tier": "local-officer"}
        )
        assert first.status_code == 201, first.text

    # Hà Nội's admin and the system admin, each wanting a different purpose account.
    tokens = [system.token("qthanoi" if i % 2 else "quantri") for i in range(RACERS)]

    async def issue(index: int, client: httpx.AsyncClient) -> httpx.Response:
        purpose = {"unit_path": unit, "purpose": f"Chính sách cán bộ {index + 1}", "tier": "local-officer"}
        return await client.post("/v1/purpose-accounts", json=purpose)

    async with _clients(system.services.identity_url, tokens) as admins:
        raced = await _race(admins, issue)

    won = _one_winner(raced, 201, 409).json()["account"]
    rows = await _fetch(system, "identity", "SELECT username FROM purpose_accounts WHERE unit_path = $1", unit)
    assert sorted(r["username"] for r in rows) == sorted([first.json()["account"]["username"], won["username"]])
    prefix = unit.rsplit("/", 1)[-1].lower()
    users = system.infra.keycloak_admin().get_users({"search": f"{prefix}."})
    assert len(users) == 2, "no account made in Keycloak for a caller refused"


def _salary(since: str) -> dict[str, Any]:
    return {
        "values": {"rank_code": "08.051", "step": 1, "coefficient": "2.34"},
        "valid_from": since,
        "decision": {"number": "15/QĐ-HQHN", "date": "2011-12-20", "body": "Cục Hải quan TP Hà Nội"},
    }


async def test_ten_corrections_of_one_version_make_one_new_version(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        created = await hanoi.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Tôn Thất Đính"))
        assert created.status_code == 201, created.text
        salary = f"/v1/persons/{created.json()['id']}/salary"
        recorded = await hanoi.post(salary, json=_salary("2012-01-01"))
    assert recorded.status_code == 201, recorded.text
    assert recorded.headers["ETag"] == '"1"'
    entry_id = recorded.json()["entry_id"]
    # Each read version 1 and corrects the start to a different day of January 2012.
    tokens = [system.token("qthanoi" if i % 2 else "quantri") for i in range(RACERS)]

    async def correct(index: int, client: httpx.AsyncClient) -> httpx.Response:
        return await client.put(
            f"{salary}/{entry_id}", json=_salary(f"2012-01-{index + 2:02d}"), headers={"If-Match": '"1"'}
        )

    async with _clients(system.gateway_url, tokens) as editors:
        raced = await _race(editors, correct)

    corrected = _one_winner(raced, 200, 412)
    assert corrected.headers["ETag"] == '"2"'
    rows = await _fetch(
        system,
        "personnel",
        "SELECT version, change, valid_from, superseded_at IS NULL AS current FROM record_entries"
        " WHERE entry_id = $1 ORDER BY version",
        entry_id,
    )
    assert [(r["version"], r["change"], r["current"]) for r in rows] == [(1, "recorded", False), (2, "corrected", True)]
    assert rows[1]["valid_from"].isoformat() == corrected.json()["valid_from"], "the stored version is the winner's"


async def test_ten_cancellations_of_one_decision_reverse_it_once(system: System) -> None:
    placement = {"values": {"unit_name": "Chi cục Hải quan Nội Bài", "post": "Công chức"}, "valid_from": "2015-01-01"}
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        people = []
        for name in ("Lạc Văn Hủy", "Lạc Thị Hủy"):
            created = await hanoi.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], name))
            assert created.status_code == 201, created.text
            people.append(created.json()["id"])
            placed = await hanoi.post(f"/v1/persons/{people[-1]}/placements", json=placement)
            assert placed.status_code == 201, placed.text
        decided = await hanoi.post(
            "/v1/decisions",
            json={
                "kind": "placement",
                "number": f"{unique_code('Q')[-6:]}/QĐ-HQHN",
                "decision_date": "2025-02-20",
                "effective_date": "2025-03-01",
                "body": "Cục Hải quan TP Hà Nội",
                "signer": "Nguyễn Văn Ký",
                "signer_post": "Cục trưởng",
                "summary": "Bố trí công tác",
                "items": [
                    {"person_id": p, "values": {"unit_name": "Đội Kiểm soát", "post": "Đội phó"}} for p in people
                ],
            },
        )
    assert decided.status_code == 201, decided.text
    assert (decided.json()["state"], decided.headers["ETag"]) == ("applied", '"1"')
    decision_id = decided.json()["id"]
    # Each read version 1 and cancels it.
    tokens = [system.token("qthanoi" if i % 2 else "quantri") for i in range(RACERS)]
    cancel = {"reason": "Ban hành nhầm", "cancel_number": f"{unique_code('H')[-6:]}/QĐ-HQHN"}

    async with _clients(system.gateway_url, tokens) as cancellers:
        raced = await _race(
            cancellers,
            lambda _, c: c.post(f"/v1/decisions/{decision_id}/cancel", json=cancel, headers={"If-Match": '"1"'}),
        )

    cancelled = _one_winner(raced, 200, 412).json()
    assert [e["change"] for e in cancelled["reversed"]] == ["retracted", "retracted"]
    rows = await _fetch(
        system, "personnel", "SELECT state, version, cancelled_by FROM decision_documents WHERE id = $1", decision_id
    )
    assert [tuple(r) for r in rows] == [("cancelled", 2, cancelled["decision"]["cancelled_by"])]
    for person_id in people:
        rows = await _fetch(
            system,
            "personnel",
            "SELECT change FROM record_entries WHERE person_id = $1 AND section = 'placements'",
            person_id,
        )
        # 2015's placement recorded, closed by the decision and reopened by its cancellation;
        # the decision's own recorded and retracted: each once.
        assert Counter(r["change"] for r in rows) == Counter(recorded=2, closed=1, reopened=1, retracted=1)
    rows = await _fetch(
        system, "personnel", "SELECT envelope FROM outbox WHERE subject = $1", subjects.PERSONNEL_DECISION_CHANGED
    )
    changes = [unpack(parse(r["envelope"]), events_pb2.DecisionChanged).decision for r in rows]
    states = [d.state for d in changes if d.id == decision_id]
    assert Counter(states)[decision_pb2.DECISION_STATE_CANCELLED] == 1, "one decision.changed for the cancellation"
