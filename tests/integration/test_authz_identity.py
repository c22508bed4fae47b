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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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
from tests.support import System, api_client, handed_over_on, unique_code

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
PROBES_AT_ONCE = 16
"""Probes in flight at once, of all logins together: most of their time is spent waiting on Keycloak."""
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
UNIT_PATHS = {u.code: u.path(demo.UNITS_BY_CODE) for u in demo.UNITS}

Prober = Callable[["Probe"], Awaitable[httpx.Response]]
_PER_THREAD = threading.local()
_ROLES: dict[str, dict[str, Any]] = {}
_GROUPS: dict[str, str] = {}


async def _done(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    answer = await response
    assert 200 <= answer.status_code < 300, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _today() -> str:
    return datetime.now(VIETNAM).date().isoformat()


def _month_ago() -> date:
    return datetime.now(VIETNAM).date() - timedelta(days=30)


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


def _keycloak(system: System) -> KeycloakAdmin:
    """The realm's master admin for the calling thread: python-keycloak's client holds one session
    and one token, so each worker thread gets its own."""
    keycloak: KeycloakAdmin | None = getattr(_PER_THREAD, "keycloak", None)
    if keycloak is None:
        keycloak = _PER_THREAD.keycloak = system.infra.keycloak_admin()
    return keycloak


@dataclass
class Maker:
    """Makes what a probe acts on, as the system admin and the helpers."""

    system: System
    admin: httpx.AsyncClient  # identity, as the system admin
    filer: httpx.AsyncClient
    approver: httpx.AsyncClient
    head: httpx.AsyncClient

    async def request(self, unit_path: str, steps: int) -> str:
        """A request of the unit for a local officer's account, taken through `steps` of the steps
        before the probed one (0: submitted, 1: consented, 2: approved), each by another person."""
        code = unique_code("")
        body = {
            "holder_name": f"Kiều Thị {code}",
            "holder_email": f"oracle.{code.lower()}@haiquan.example",
            "unit_path": unit_path,
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
        request_id: str = (await _done(self.filer.post("/v1/account-requests", json=body)))["id"]
        if steps >= 1:
            await _done(self.head.post(f"/v1/account-requests/{request_id}/consent"))
        if steps >= 2:
            await _done(self.approver.post(f"/v1/account-requests/{request_id}/approve"))
        return request_id

    async def account(self, unit_path: str, *tiers: str) -> str:
        """A username of the unit holding `tiers` (a local officer's unless told)."""
        held = tiers or ("local-officer",)
        return await asyncio.to_thread(lambda: _make_account(_keycloak(self.system), unit_path, held))

    async def purpose_account(self, unit_path: str, *, held_since: date | None = None) -> str:
        """A purpose account of the unit (handed to someone from `held_since`, when given: handed
        over today, the only day a hand-over is recorded for, and moved back); its id."""
        body = {"unit_path": unit_path, "purpose": f"Kiểm thử {unique_code('')}", "tier": "local-officer"}
        account_id: str = (await _done(self.admin.post("/v1/purpose-accounts", json=body)))["account"]["id"]
        if held_since is not None:
            holder = {"holder_name": "Kiều Văn Giữ", "holder_email": "giu@haiquan.example", "since": _today()}
            await _done(self.admin.post(f"/v1/purpose-accounts/{account_id}/holders", json=holder))
            await handed_over_on(self.system, account_id, held_since)
        return account_id

    async def delegation(self, unit_path: str) -> str:
        granted = await _done(self.admin.post("/v1/delegations", json=_delegation(unit_path)))
        delegation_id: str = granted["id"]
        return delegation_id

    async def incident(self, username: str) -> None:
        await _done(self.admin.post(f"/v1/accounts/{username}/incidents", json=LOST))


LOST = {"kind": "lost", "note": "Quên mật khẩu"}


def _delegation(unit_path: str) -> dict[str, Any]:
    """A delegation to the unit that changes nobody's rights: in force only from a day far ahead,
    over one person who does not exist, of a right every grantor holds over the whole sector."""
    return {
        "unit_path": unit_path,
        "tiers": ["unit-leader"],
        "records": {"person_ids": [str(uuid.uuid4())]},
        "sections": ["salary"],
        "actions": ["read"],
        "valid_from": "2099-01-01",
        "reason": "Kiểm thử phân quyền",
    }


@dataclass(frozen=True)
class Standing:
    """What a target unit holds for the probes: made once, shared by the probes the table expects
    refused (a refusal changes nothing, and each service checks the caller before the state of what
    it acts on) and by those that only read or change nothing another probe relies on. A probe the
    table expects to succeed gets its own when it would use up what it acts on."""

    submitted: str  # requests, by id
    consented: str
    approved: str
    officer: str  # accounts, by username: a local officer's, with a loss reported
    self_account: str
    both: str  # self and local officer
    unheld: str  # purpose accounts, by id: held by nobody
    held: str  # held since a month ago
    delegation: str

    @classmethod
    async def made(cls, make: Maker, unit_path: str) -> Standing:
        async def officer() -> str:
            username = await make.account(unit_path)
            await make.incident(username)
            return username

        made = await asyncio.gather(
            make.request(unit_path, 0),
            make.request(unit_path, 1),
            make.request(unit_path, 2),
            officer(),
            make.account(unit_path, "self"),
            make.account(unit_path, "self", "local-officer"),
            make.purpose_account(unit_path),
            make.purpose_account(unit_path, held_since=_month_ago()),
            make.delegation(unit_path),
        )
        return cls(*made)


@dataclass
class Probe:
    """One call of one login on one target."""

    system: System
    api: httpx.AsyncClient  # identity, as the login
    make: Maker
    login: str
    target: str
    unit_code: str | None  # the target's unit (None for "any")
    fresh: bool  # the table expects it done: what it uses up is its own, not the unit's standing one
    standing: Standing | None

    @property
    def unit_path(self) -> str:
        assert self.unit_code is not None
        return UNIT_PATHS[self.unit_code]

    @property
    def unit(self) -> Standing:
        assert self.standing is not None
        return self.standing


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


async def _request(p: Probe, steps: int) -> str:
    if p.fresh:
        return await p.make.request(p.unit_path, steps)
    return (p.unit.submitted, p.unit.consented, p.unit.approved)[steps]


# ---- the operations ----------------------------------------------------------------------------


@operation("GET", "/v1/me", "account.me")
async def _me(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/me")


@operation("GET", "/v1/account-names", "account.names")
async def _account_names(p: Probe) -> httpx.Response:
    subject = (await p.api.get("/v1/me")).json()["subject"]
    return await p.api.get("/v1/account-names", params={"id": subject})


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


@operation("GET", "/v1/account-requests", "account_request.open")
async def _open_requests(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/account-requests")


@operation("POST", "/v1/accounts/{username}/disable", "account.disable")
async def _disable(p: Probe) -> httpx.Response:
    username = await p.make.account(p.unit_path) if p.fresh else p.unit.officer
    return await p.api.post(f"/v1/accounts/{username}/disable")


@operation("POST", "/v1/accounts/{username}/enable", "account.enable")
async def _enable(p: Probe) -> httpx.Response:
    return await p.api.post(f"/v1/accounts/{p.unit.officer}/enable")


@operation("PUT", "/v1/accounts/{username}/tiers/{tier}", "account.tiers.grant")
async def _grant_tier(p: Probe) -> httpx.Response:
    username = await p.make.account(p.unit_path, "self") if p.fresh else p.unit.self_account
    return await p.api.put(f"/v1/accounts/{username}/tiers/local-officer")


@operation("DELETE", "/v1/accounts/{username}/tiers/{tier}", "account.tiers.revoke")
async def _revoke_tier(p: Probe) -> httpx.Response:
    username = await p.make.account(p.unit_path, "self", "local-officer") if p.fresh else p.unit.both
    return await p.api.delete(f"/v1/accounts/{username}/tiers/local-officer")


@operation("PUT", "/v1/accounts/{username}/sections", "account.sections.write")
async def _grant_sections(p: Probe) -> httpx.Response:
    """The same grant each time: a second changes nothing."""
    return await p.api.put(f"/v1/accounts/{p.unit.officer}/sections", json={"sections": ["identity"]})


@operation("GET", "/v1/accounts/{username}/sections", "account.sections.read")
async def _read_sections(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/accounts/{p.unit.officer}/sections")


@operation("GET", "/v1/accounts/{username}", "account.read")
async def _read_account(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/accounts/{p.unit.officer}")


@operation("GET", "/v1/accounts", "account.list")
async def _list_accounts(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/accounts", params={"unit_path": p.unit_path, "limit": "5"})


@operation("GET", "/v1/accounts/{username}", "account.own.read")
async def _read_own_account(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/accounts/{p.login}")


@operation("POST", "/v1/accounts/{username}/incidents", "account.incident")
async def _report(p: Probe) -> httpx.Response:
    return await p.api.post(f"/v1/accounts/{p.unit.officer}/incidents", json=LOST)


@operation("POST", "/v1/accounts/{username}/reset", "account.reset")
async def _reset(p: Probe) -> httpx.Response:
    """A reset closes the latest open report: one done reports its own first, so the standing one
    stays open for the others."""
    if p.fresh:
        await p.make.incident(p.unit.officer)
    return await p.api.post(f"/v1/accounts/{p.unit.officer}/reset")


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
    """The quota the unit has already: a second setting changes nothing."""
    return await p.api.put("/v1/quotas", json={"unit_path": p.unit_path, "kind": "user", "limit": QUOTA})


@operation("GET", "/v1/quotas", "quota.read")
async def _read_quotas(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/quotas", params={"unit_path": p.unit_path})


@operation("POST", "/v1/purpose-accounts", "purpose_account.issue")
async def _issue_purpose_account(p: Probe) -> httpx.Response:
    body = {"unit_path": p.unit_path, "purpose": f"Kiểm thử {unique_code('')}", "tier": "local-officer"}
    return await p.api.post("/v1/purpose-accounts", json=body)


@operation("POST", "/v1/purpose-accounts/{account_id}/holders", "purpose_account.assign")
async def _assign(p: Probe) -> httpx.Response:
    account_id = await p.make.purpose_account(p.unit_path) if p.fresh else p.unit.unheld
    holder = {"holder_name": "Kiều Thị Nhận", "holder_email": "nhan@haiquan.example", "since": _today()}
    return await p.api.post(f"/v1/purpose-accounts/{account_id}/holders", json=holder)


@operation("POST", "/v1/purpose-accounts/{account_id}/release", "purpose_account.release")
async def _release(p: Probe) -> httpx.Response:
    account_id = await p.make.purpose_account(p.unit_path, held_since=_month_ago()) if p.fresh else p.unit.held
    return await p.api.post(f"/v1/purpose-accounts/{account_id}/release", json={"until": _today()})


@operation("GET", "/v1/purpose-accounts/{account_id}/holders", "purpose_account.holders")
async def _holders(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/purpose-accounts/{p.unit.held}/holders")


@operation("GET", "/v1/purpose-accounts", "purpose_account.list")
async def _purpose_accounts(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/purpose-accounts", params={"limit": "5"})


@operation("GET", "/v1/purpose-accounts/{account_id}", "purpose_account.read")
async def _purpose_account(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/purpose-accounts/{p.unit.held}")


@operation("POST", "/v1/delegations", "delegation.grant")
async def _delegate(p: Probe) -> httpx.Response:
    return await p.api.post("/v1/delegations", json=_delegation(p.unit_path))


@operation("DELETE", "/v1/delegations/{delegation_id}", "delegation.revoke")
async def _revoke_delegation(p: Probe) -> httpx.Response:
    delegation_id = await p.make.delegation(p.unit_path) if p.fresh else p.unit.delegation
    return await p.api.delete(f"/v1/delegations/{delegation_id}")


@operation("GET", "/v1/delegations", "delegation.list")
async def _delegations(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/delegations")


@operation("POST", "/v1/federation/agencies", "federation.register")
async def _federate(p: Probe) -> httpx.Response:
    """The test Keycloak's master realm stands for another agency (a discovery document that
    answers), mapping a claim none of its users carries; removed again once registered."""
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
        await asyncio.to_thread(lambda: _keycloak(p.system).delete_idp(alias))
    return response


@operation("GET", "/v1/audit", "audit.read")
async def _audit(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/audit", params={"target": unique_code("none")})


def _upgrade() -> dict[str, str]:
    start = datetime.now(UTC) + timedelta(hours=30)
    return {
        "kind": "upgrade",
        "title": "Nâng cấp (kiểm thử quyền)",
        "body": "Thông báo của bảng phân quyền, đóng ngay sau khi đăng.",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
    }


@operation("GET", "/v1/notices", "notices.read")
async def _notices(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/notices")


@operation("GET", "/v1/notices/posted", "notices.posted")
async def _notices_posted(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/notices/posted")


@operation("POST", "/v1/notices", "notices.post")
async def _post_notice(p: Probe) -> httpx.Response:
    """Closed again once posted: the pages of the other tests show no notice of this table's."""
    response = await p.api.post("/v1/notices", json=_upgrade())
    if response.status_code == 201:
        await _done(p.make.admin.post(f"/v1/notices/{response.json()['id']}/close"))
    return response


@operation("POST", "/v1/notices/{notice_id}/close", "notices.close")
async def _close_notice(p: Probe) -> httpx.Response:
    notice_id = (await _done(p.make.admin.post("/v1/notices", json=_upgrade())))["id"]
    response = await p.api.post(f"/v1/notices/{notice_id}/close")
    if response.status_code != 200:
        await _done(p.make.admin.post(f"/v1/notices/{notice_id}/close"))
    return response


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


@asynccontextmanager
async def _maker(system: System) -> AsyncIterator[Maker]:
    identity = system.services.identity_url
    async with (
        api_client(identity, system.token(ADMIN)) as admin,
        api_client(identity, system.token(FILER)) as filer,
        api_client(identity, system.token(APPROVER)) as approver,
        api_client(identity, system.token(HEAD)) as head,
    ):
        yield Maker(system, admin, filer, approver, head)


@pytest.fixture(scope="module")
async def standing(system: System) -> dict[str, Standing]:
    """The helpers' accounts, a quota in every target unit, and what each unit holds for the probes."""

    def helpers() -> None:
        keycloak = system.infra.keycloak_admin()
        for helper in HELPERS.values():
            ensure_user(keycloak, helper)
            system.passwords[helper.username] = helper.password

    await asyncio.to_thread(helpers)
    units = sorted({code for targets in TARGETS.values() for code in targets.values()})
    async with _maker(system) as make:
        for code in units:
            body = {"unit_path": UNIT_PATHS[code], "kind": "user", "limit": QUOTA}
            await _done(make.admin.put("/v1/quotas", json=body))
        made = await asyncio.gather(*(Standing.made(make, UNIT_PATHS[code]) for code in units))
    return dict(zip(units, made, strict=True))


@pytest.fixture(scope="module")
async def answers(system: System, standing: dict[str, Standing]) -> dict[str, list[str]]:
    """Every login's probes, all at once (most of a probe's time is spent waiting on Keycloak, and
    the logins the table lets do most wait longest): for each login, where identity's answer
    differs from the table's."""
    rows = {o.row for o in OPERATIONS}
    cells = [c for c in authz_oracle.cells() if c.operation in rows]
    # Those expected done first: they make what they use up, and take longest.
    cells.sort(key=lambda c: c.expected != "Y")
    limit = asyncio.Semaphore(PROBES_AT_ONCE)
    async with AsyncExitStack() as stack:
        apis = {
            login: await stack.enter_async_context(api_client(system.services.identity_url, system.token(login)))
            for login in LOGINS
        }
        make = await stack.enter_async_context(_maker(system))

        async def answer(cell: authz_oracle.Cell, op: Operation) -> str | None:
            unit = TARGETS[cell.login].get(cell.target)
            fresh = cell.expected == "Y"
            held = standing.get(unit or "")
            probe = Probe(system, apis[cell.login], make, cell.login, cell.target, unit, fresh, held)
            async with limit:
                response = await op.call(probe)
            if (200 <= response.status_code < 300) if fresh else response.status_code in EXPECTED_STATUS[cell.expected]:
                return None
            got = f"{response.status_code} {response.text[:160]}"
            return f"{op.method} {op.path} ({op.row}) on {cell.target}: table {cell.expected}, got {got}"

        probes = [(c, op) for c in cells for op in OPERATIONS if op.row == c.operation]
        wrong = await asyncio.gather(*(answer(c, op) for c, op in probes))
    found: dict[str, list[str]] = {login: [] for login in LOGINS}
    for (cell, _), mismatch in zip(probes, wrong, strict=True):
        if mismatch:
            found[cell.login].append(mismatch)
    return found


@pytest.mark.parametrize("login", LOGINS)
def test_each_login_gets_from_identity_what_the_regulation_gives_its_tier(
    answers: dict[str, list[str]], login: str
) -> None:
    mismatches = sorted(answers[login])
    assert not mismatches, f"{login}: {len(mismatches)} answers differ from the table:\n" + "\n".join(mismatches)
