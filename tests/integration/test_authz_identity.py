"""Identity's REST operations against the authorization table written from the regulation
(`tests/authz_oracle.py`, issue 17.1), as `test_authz_matrix` does for the gateway's: every
operation, called by every tier's demo login (a real Keycloak login) on each target the table
names, answers as the table says: done, refused (403), or refused as if the account did not exist
(404). The target is the unit of the account request, account, purpose account or delegation acted
on; what each probe acts on is made first by the system admin (or, for the steps of a request that
four different people take, by three helper accounts no probe logs in as). Nothing here asks the
policy code what to expect."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from keycloak import KeycloakAdmin

from qlcb_devstack import demo
from qlcb_devstack.accounts import Account, ensure_user
from qlcb_identity.api import create_app
from qlcb_identity.settings import IdentitySettings
from qlcb_identity.unit_groups.projection import ensure_group_path
from tests import authz_oracle
from tests.authz_oracle import LOGINS, TARGETS
from tests.support import System, api_client, unique_code

ADMIN = "quantri"
FILER, APPROVER, HEAD = "oracle.nopdon", "oracle.pheduyet", "oracle.lanhdao"
"""Helpers taking the steps of a request before the one probed, each a different person (one
person takes one step of a request): a system admin files it, the General Department's head
consents to it, another system admin approves it."""
HELPERS = {
    FILER: Account(FILER, "Nộp đơn 2026!", "system-admin", "/TCHQ", "Lý Văn Nộp"),
    APPROVER: Account(APPROVER, "Phê duyệt 2026!", "system-admin", "/TCHQ", "Mạc Thị Duyệt"),
    HEAD: Account(HEAD, "Lãnh đạo 2026!", "unit-leader", "/TCHQ", "Ông Văn Đạo"),
}
QUOTA = 200
"""The user-account quota the system admin gives each target unit for the purpose-account probes."""
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
UNIT_PATHS = {u.code: u.path(demo.UNITS_BY_CODE) for u in demo.UNITS}

Prober = Callable[["Probe"], Awaitable[httpx.Response]]


@dataclass
class Probe:
    """One call of one login on one target, and the clients that prepare what it acts on."""

    system: System
    api: httpx.AsyncClient  # identity, as the login
    admin: httpx.AsyncClient  # identity, as the system admin
    helpers: dict[str, httpx.AsyncClient]  # identity, as each helper
    keycloak: Callable[[], KeycloakAdmin]  # the master admin of the realm, one per thread
    login: str
    target: str
    unit_code: str | None  # the target's unit (None for "any")

    @property
    def unit_path(self) -> str:
        assert self.unit_code is not None
        return UNIT_PATHS[self.unit_code]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    row: str  # the table's operation
    call: Prober


OPERATIONS: list[Operation] = []


def operation(method: str, path: str, row: str) -> Callable[[Prober], Prober]:
    def register(call: Prober) -> Prober:
        OPERATIONS.append(Operation(method, path, row, call))
        return call

    return register


async def _done(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    answer = await response
    assert 200 <= answer.status_code < 300, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _today() -> str:
    return datetime.now(VIETNAM).date().isoformat()


# ---- what is prepared --------------------------------------------------------------------------


async def _request(p: Probe, steps: int) -> str:
    """A request of the target unit for a local officer's account, taken through `steps` of the
    steps before the probed one: 0 submitted, 1 consented, 2 approved. Its id."""
    code = unique_code("")
    body = {
        "holder_name": f"Kiều Thị {code}",
        "holder_email": f"oracle.{code.lower()}@haiquan.example",
        "unit_path": p.unit_path,
        "division": "Đội nghiệp vụ",
        "position": "Công chức",
        "phone": "0912345678",
        "account_types": ["local-officer"],
        "reply_name": "Lý Văn Nộp",
        "reply_unit": "Cục Công nghệ thông tin và Thống kê hải quan",
        "reply_email": "cntt@qlcb.example",
        "reply_phone": "0243123456",
        "requester_name": "Lý Văn Nộp",
    }
    request_id: str = (await _done(p.helpers[FILER].post("/v1/account-requests", json=body)))["id"]
    if steps >= 1:
        await _done(p.helpers[HEAD].post(f"/v1/account-requests/{request_id}/consent"))
    if steps >= 2:
        await _done(p.helpers[APPROVER].post(f"/v1/account-requests/{request_id}/approve"))
    return request_id


_ROLES: dict[str, dict[str, Any]] = {}
_GROUPS: dict[str, str] = {}


def _make_account(keycloak: KeycloakAdmin, unit_path: str, tiers: tuple[str, ...]) -> str:
    """An account of the unit holding `tiers`, made on Keycloak's admin API as an installer would."""
    username = unique_code("oracle.").lower()
    user_id = keycloak.create_user(
        {
            "username": username,
            "enabled": True,
            "email": f"{username}@qlcb.example",
            "emailVerified": True,
            "firstName": "Kiểm",
            "lastName": "Thử Quyền",
        }
    )
    for tier in tiers:
        if tier not in _ROLES:
            _ROLES[tier] = keycloak.get_realm_role(tier)
    keycloak.assign_realm_roles(user_id, [_ROLES[t] for t in tiers])
    if unit_path not in _GROUPS:
        _GROUPS[unit_path] = ensure_group_path(keycloak, unit_path)
    keycloak.group_user_add(user_id, _GROUPS[unit_path])
    return username


async def _account(p: Probe, *tiers: str) -> str:
    """A username of the target unit holding `tiers` (a local officer's unless told)."""
    return await asyncio.to_thread(lambda: _make_account(p.keycloak(), p.unit_path, tiers or ("local-officer",)))


async def _purpose_account(p: Probe, *, held_since: str | None = None) -> str:
    """A purpose account of the target unit the system admin issued (handed to someone from
    `held_since`, when given); its id."""
    body = {"unit_path": p.unit_path, "purpose": f"Kiểm thử {unique_code('')}", "tier": "local-officer"}
    account_id: str = (await _done(p.admin.post("/v1/purpose-accounts", json=body)))["account"]["id"]
    if held_since is not None:
        holder = {"holder_name": "Kiều Văn Giữ", "holder_email": "giu@haiquan.example", "since": held_since}
        await _done(p.admin.post(f"/v1/purpose-accounts/{account_id}/holders", json=holder))
    return account_id


def _delegation(p: Probe) -> dict[str, Any]:
    """A delegation to the target unit that changes nobody's rights: in force only from a day far
    ahead, over one person who does not exist, of a right every grantor holds sector-wide."""
    return {
        "unit_path": p.unit_path,
        "tiers": ["unit-leader"],
        "records": {"person_ids": [str(uuid.uuid4())]},
        "sections": ["salary"],
        "actions": ["read"],
        "valid_from": "2099-01-01",
        "reason": "Kiểm thử phân quyền",
    }


# ---- the operations ----------------------------------------------------------------------------


@operation("GET", "/v1/me", "account.me")
async def _me(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/me")


@operation("POST", "/v1/account-requests", "account_request.submit")
async def _submit(p: Probe) -> httpx.Response:
    code = unique_code("")
    body = {
        "holder_name": f"Kiều Văn {code}",
        "holder_email": f"oracle.{code.lower()}@haiquan.example",
        "unit_path": p.unit_path,
        "division": "Đội nghiệp vụ",
        "position": "Công chức",
        "phone": "0912345678",
        "account_types": ["local-officer"],
        "reply_name": "Vũ Thị Hà",
        "reply_unit": "Phòng Tổ chức cán bộ",
        "reply_email": "tccb@qlcb.example",
        "reply_phone": "0243123456",
        "requester_name": "Vũ Thị Hà",
    }
    return await p.api.post("/v1/account-requests", json=body)


@operation("POST", "/v1/account-requests/{request_id}/consent", "account_request.consent")
async def _consent(p: Probe) -> httpx.Response:
    return await p.api.post(f"/v1/account-requests/{await _request(p, 0)}/consent")


@operation("POST", "/v1/account-requests/{request_id}/approve", "account_request.approve")
async def _approve(p: Probe) -> httpx.Response:
    return await p.api.post(f"/v1/account-requests/{await _request(p, 1)}/approve")


@operation("POST", "/v1/account-requests/{request_id}/reject", "account_request.reject")
async def _reject(p: Probe) -> httpx.Response:
    body = {"reason": "Không đúng mục đích"}
    return await p.api.post(f"/v1/account-requests/{await _request(p, 0)}/reject", json=body)


@operation("POST", "/v1/account-requests/{request_id}/issue", "account_request.issue")
async def _issue(p: Probe) -> httpx.Response:
    return await p.api.post(f"/v1/account-requests/{await _request(p, 2)}/issue")


@operation("GET", "/v1/account-requests/overdue", "account_request.overdue")
async def _overdue(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/account-requests/overdue")


@operation("POST", "/v1/accounts/{username}/disable", "account.disable")
async def _disable(p: Probe) -> httpx.Response:
    return await p.api.post(f"/v1/accounts/{await _account(p)}/disable")


@operation("POST", "/v1/accounts/{username}/enable", "account.enable")
async def _enable(p: Probe) -> httpx.Response:
    return await p.api.post(f"/v1/accounts/{await _account(p)}/enable")


@operation("PUT", "/v1/accounts/{username}/tiers/{tier}", "account.tiers.grant")
async def _grant_tier(p: Probe) -> httpx.Response:
    return await p.api.put(f"/v1/accounts/{await _account(p, 'self')}/tiers/local-officer")


@operation("DELETE", "/v1/accounts/{username}/tiers/{tier}", "account.tiers.revoke")
async def _revoke_tier(p: Probe) -> httpx.Response:
    return await p.api.delete(f"/v1/accounts/{await _account(p, 'self', 'local-officer')}/tiers/local-officer")


@operation("PUT", "/v1/accounts/{username}/sections", "account.sections.write")
async def _grant_sections(p: Probe) -> httpx.Response:
    return await p.api.put(f"/v1/accounts/{await _account(p)}/sections", json={"sections": ["identity"]})


@operation("GET", "/v1/accounts/{username}/sections", "account.sections.read")
async def _read_sections(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/accounts/{await _account(p)}/sections")


LOST = {"kind": "lost", "note": "Quên mật khẩu"}


@operation("POST", "/v1/accounts/{username}/incidents", "account.incident")
async def _report(p: Probe) -> httpx.Response:
    return await p.api.post(f"/v1/accounts/{await _account(p)}/incidents", json=LOST)


@operation("POST", "/v1/accounts/{username}/reset", "account.reset")
async def _reset(p: Probe) -> httpx.Response:
    username = await _account(p)
    await _done(p.admin.post(f"/v1/accounts/{username}/incidents", json=LOST))
    return await p.api.post(f"/v1/accounts/{username}/reset")


@operation("POST", "/v1/accounts/{username}/incidents", "account.own.incident")
async def _report_own(p: Probe) -> httpx.Response:
    return await p.api.post(f"/v1/accounts/{p.login}/incidents", json=LOST)


@operation("GET", "/v1/accounts/{username}/sections", "account.own.sections.read")
async def _read_own_sections(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/accounts/{p.login}/sections")


@operation("PUT", "/v1/accounts/{username}/tiers/{tier}", "account.own.tiers.grant")
async def _raise_own(p: Probe) -> httpx.Response:
    higher = "sector-hr" if p.login == ADMIN else "system-admin"
    return await p.api.put(f"/v1/accounts/{p.login}/tiers/{higher}")


@operation("GET", "/v1/account-reviews", "account.reviews")
async def _reviews(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/account-reviews")


@operation("PUT", "/v1/quotas", "quota.set")
async def _set_quota(p: Probe) -> httpx.Response:
    return await p.api.put("/v1/quotas", json={"unit_path": p.unit_path, "kind": "user", "limit": QUOTA})


@operation("POST", "/v1/purpose-accounts", "purpose_account.issue")
async def _issue_purpose_account(p: Probe) -> httpx.Response:
    body = {"unit_path": p.unit_path, "purpose": f"Kiểm thử {unique_code('')}", "tier": "local-officer"}
    return await p.api.post("/v1/purpose-accounts", json=body)


@operation("POST", "/v1/purpose-accounts/{account_id}/holders", "purpose_account.assign")
async def _assign(p: Probe) -> httpx.Response:
    holder = {"holder_name": "Kiều Thị Nhận", "holder_email": "nhan@haiquan.example", "since": _today()}
    return await p.api.post(f"/v1/purpose-accounts/{await _purpose_account(p)}/holders", json=holder)


@operation("POST", "/v1/purpose-accounts/{account_id}/release", "purpose_account.release")
async def _release(p: Probe) -> httpx.Response:
    since = (datetime.now(VIETNAM).date() - timedelta(days=30)).isoformat()
    account_id = await _purpose_account(p, held_since=since)
    return await p.api.post(f"/v1/purpose-accounts/{account_id}/release", json={"until": _today()})


@operation("GET", "/v1/purpose-accounts/{account_id}/holders", "purpose_account.holders")
async def _holders(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/purpose-accounts/{await _purpose_account(p, held_since=_today())}/holders")


@operation("POST", "/v1/delegations", "delegation.grant")
async def _delegate(p: Probe) -> httpx.Response:
    return await p.api.post("/v1/delegations", json=_delegation(p))


@operation("DELETE", "/v1/delegations/{delegation_id}", "delegation.revoke")
async def _revoke_delegation(p: Probe) -> httpx.Response:
    granted = await _done(p.admin.post("/v1/delegations", json=_delegation(p)))
    return await p.api.delete(f"/v1/delegations/{granted['id']}")


@operation("GET", "/v1/delegations", "delegation.list")
async def _delegations(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/delegations")


@operation("POST", "/v1/federation/agencies", "federation.register")
async def _federate(p: Probe) -> httpx.Response:
    """The realm's own Keycloak's master realm stands for another agency (a discovery document
    that answers), mapping a claim none of its users carries; removed again once registered."""
    alias = unique_code("oracle-").lower()
    body = {
        "alias": alias,
        "display_name": "Cơ quan kiểm thử",
        "issuer": f"{p.system.infra.keycloak.base_url}/realms/master",
        "client_id": "qlcb-broker",
        "client_secret": "oracle-secret",
        "mappings": [{"claim": "oracle_never", "value": alias, "tier": "self", "unit_path": "/TCHQ/HQHN"}],
    }
    response = await p.api.post("/v1/federation/agencies", json=body)
    if response.status_code == 201:
        await asyncio.to_thread(lambda: p.keycloak().delete_idp(alias))
    return response


@operation("GET", "/v1/audit", "audit.read")
async def _audit(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/audit", params={"target": unique_code("none")})


@operation("GET", "/v1/realm/drift", "realm.drift")
async def _drift(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/realm/drift")


NOT_YES_OR_NO = {
    ("POST", "/v1/credentials"): "anonymous by design: the one-time code in the body is the credential, "
    "whoever holds it takes the first-login password once; no tier is asked (test_account_requests)",
}
"""Operations of identity no tier decides, with why."""

EXPECTED_STATUS = {"F": {403}, "H": {404}}


def test_every_operation_of_identity_is_in_the_table() -> None:
    """A new REST operation of identity has no answer until its row is written from the regulation.
    The app is only built (its settings unchecked, nothing started) to read its OpenAPI document."""
    paths = create_app(IdentitySettings.model_construct()).openapi()["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    probed = {(o.method, o.path) for o in OPERATIONS}
    assert routes - probed - set(NOT_YES_OR_NO) == set(), "operations no row of the table answers for"
    assert probed - routes == set(), "probes of operations identity does not have"
    assert probed & set(NOT_YES_OR_NO) == set(), "an operation both probed and listed as no yes/no"
    rows = {c.operation for c in authz_oracle.cells()}
    assert {o.row for o in OPERATIONS} <= rows, "probes of rows the table does not have"


_PER_THREAD = threading.local()


@pytest.fixture(scope="module")
async def prepared(system: System) -> Callable[[], KeycloakAdmin]:
    """The helpers' accounts and the quotas of every target unit; a Keycloak admin client per
    thread for what the probes make there."""

    def helpers() -> None:
        keycloak = system.infra.keycloak_admin()
        for helper in HELPERS.values():
            ensure_user(keycloak, helper)
            system.passwords[helper.username] = helper.password

    await asyncio.to_thread(helpers)
    units = sorted({code for targets in TARGETS.values() for code in targets.values()})
    async with api_client(system.services.identity_url, system.token(ADMIN)) as admin:
        for code in units:
            await _done(admin.put("/v1/quotas", json={"unit_path": UNIT_PATHS[code], "kind": "user", "limit": QUOTA}))

    def per_thread() -> KeycloakAdmin:
        """python-keycloak's client holds one session and token: each thread gets its own."""
        keycloak: KeycloakAdmin | None = getattr(_PER_THREAD, "keycloak", None)
        if keycloak is None:
            keycloak = _PER_THREAD.keycloak = system.infra.keycloak_admin()
        return keycloak

    return per_thread


@pytest.mark.parametrize("login", LOGINS)
async def test_each_login_gets_from_identity_what_the_regulation_gives_its_tier(
    system: System, prepared: Callable[[], KeycloakAdmin], login: str
) -> None:
    rows = {o.row for o in OPERATIONS}
    cells = [c for c in authz_oracle.cells() if c.login == login and c.operation in rows]
    identity = system.services.identity_url
    async with (
        api_client(identity, system.token(login)) as api,
        api_client(identity, system.token(ADMIN)) as admin,
        api_client(identity, system.token(FILER)) as filer,
        api_client(identity, system.token(APPROVER)) as approver,
        api_client(identity, system.token(HEAD)) as head,
    ):
        helpers = {FILER: filer, APPROVER: approver, HEAD: head}
        limit = asyncio.Semaphore(8)

        async def answer(cell: authz_oracle.Cell, op: Operation) -> str | None:
            probe = Probe(system, api, admin, helpers, prepared, login, cell.target, TARGETS[login].get(cell.target))
            async with limit:
                response = await op.call(probe)
            allowed = cell.expected == "Y"
            if (
                (200 <= response.status_code < 300)
                if allowed
                else response.status_code in EXPECTED_STATUS[cell.expected]
            ):
                return None
            got = f"{response.status_code} {response.text[:160]}"
            return f"{op.method} {op.path} ({op.row}) on {cell.target}: table {cell.expected}, got {got}"

        wrong = await asyncio.gather(*(answer(c, op) for c in cells for op in OPERATIONS if op.row == c.operation))
    mismatches = sorted(w for w in wrong if w)
    assert not mismatches, f"{login}: {len(mismatches)} answers differ from the table:\n" + "\n".join(mismatches)
