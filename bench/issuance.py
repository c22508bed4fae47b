"""Account issuance end to end through identity (request, consent, approval, issuance, one-time
credential mailed to the holder and retrieved) vs the bare Keycloak admin calls that create the same account.

Afterwards every account of both must be in Keycloak, in the unit's group with the tier asked for,
and each holder must have retrieved the credential of the account issued to them."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
from keycloak import KeycloakAdmin

from bench.stats import Latency
from qlcb_devstack.mail import MailSink
from qlcb_identity.credential_mail import code_in
from qlcb_identity.keycloak_accounts import account_scope, create_account, temporary_password

TIER = "local-officer"


@dataclass(frozen=True)
class Sizes:
    accounts: int = 20
    """Accounts each way."""

    def __post_init__(self) -> None:
        if self.accounts < 1:
            raise ValueError("at least one account")


SMOKE = Sizes(accounts=1)


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    bare: Latency
    ours: Latency
    found: dict[str, int]
    """Accounts found in Keycloak afterwards in the unit's group with the tier, each way: `sizes.accounts`."""


def _request(n: int, unit_path: str) -> dict[str, object]:
    return {
        "holder_name": f"Phan Văn Đo {n}",
        "holder_email": f"{unit_path.rsplit('/', 1)[-1].lower()}.{n}@bench.example",
        "unit_path": unit_path,
        "division": "Đội đo",
        "position": "Công chức",
        "phone": "0912345678",
        "account_types": [TIER],
        "reply_name": "Người nhận",
        "reply_unit": "Phòng TCCB",
        "reply_email": "tccb@qlcb.example",
        "reply_phone": "0912345679",
        "requester_name": "Người đề nghị",
    }


@dataclass(frozen=True)
class Signers:
    """Tokens of the four distinct people one request needs (the four-eyes rule)."""

    requester: str
    consenter: str
    approver: str
    issuer: str

    def header(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


async def _mailed_code(mail: MailSink, recipient: str) -> str:
    """The code of the mail to `recipient`, once the mailer has sent it."""
    deadline = time.monotonic() + 30
    while not (mails := mail.messages_to(recipient)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no mail to {recipient}")
        await asyncio.sleep(0.005)
    code = code_in(mails[0])
    if code is None:
        raise ValueError(f"no code in the mail to {recipient}")
    return code


def _found(admin: KeycloakAdmin, usernames: list[str], unit_path: str) -> int:
    """How many of the accounts Keycloak holds in the unit's group with the tier, and no other."""
    found = 0
    for username in usernames:
        scope = account_scope(admin, username)
        if scope is None or (scope.unit_path, scope.tiers) != (unit_path, [TIER]):
            raise RuntimeError(f"account {username}: {scope}; expected in {unit_path} as {TIER}")
        found += 1
    return found


async def measure(
    identity_url: str, signers: Signers, unit_path: str, admin: KeycloakAdmin, mail: MailSink, sizes: Sizes = Sizes()
) -> Result:
    """Ours runs from the request to the holder's retrieval of the mailed first-login password.
    The bare accounts are named after the unit (`<code>.bare.<n>`)."""
    ours: list[float] = []
    issued: list[str] = []
    async with httpx.AsyncClient(base_url=identity_url, timeout=60) as api:
        by = signers.header
        started = time.perf_counter()
        for n in range(sizes.accounts):
            t = time.perf_counter()
            body = _request(n, unit_path)
            requested = await api.post("/v1/account-requests", json=body, headers=by(signers.requester))
            requested.raise_for_status()
            request = requested.json()
            consent = f"/v1/account-requests/{request['id']}/consent"
            (await api.post(consent, headers=by(signers.consenter))).raise_for_status()
            approve = f"/v1/account-requests/{request['id']}/approve"
            (await api.post(approve, headers=by(signers.approver))).raise_for_status()
            issue = await api.post(f"/v1/account-requests/{request['id']}/issue", headers=by(signers.issuer))
            issue.raise_for_status()
            code = await _mailed_code(mail, str(body["holder_email"]))
            credential = await api.post("/v1/credentials", json={"token": code})
            credential.raise_for_status()
            ours.append(time.perf_counter() - t)
            issued.append(issue.json()["username"])
            if credential.json()["username"] != issued[-1]:
                raise RuntimeError(f"issued {issued[-1]}, the holder retrieved {credential.json()['username']}")
        ours_latency = Latency.of(ours, time.perf_counter() - started)
    bare: list[float] = []
    created = [f"{unit_path.rsplit('/', 1)[-1].lower()}.bare.{n}" for n in range(sizes.accounts)]
    started = time.perf_counter()
    for n, username in enumerate(created):
        t = time.perf_counter()
        await asyncio.to_thread(
            create_account,
            admin,
            username=username,
            full_name=f"Phan Văn Gốc {n}",
            roles=[TIER],
            group_path=unit_path,
            password=temporary_password(username),
        )
        bare.append(time.perf_counter() - t)
    bare_latency = Latency.of(bare, time.perf_counter() - started)
    found = {
        "bare": await asyncio.to_thread(_found, admin, created, unit_path),
        "ours": await asyncio.to_thread(_found, admin, issued, unit_path),
    }
    return Result(sizes, bare_latency, ours_latency, found)
