"""Account issuance end to end through identity (request, consent, approval, issuance, one-time
credential mailed to the holder and retrieved) vs the bare Keycloak admin calls that create the same account."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
from keycloak import KeycloakAdmin

from bench.stats import Latency
from qlcb_devstack.mail import MailSink
from qlcb_identity.credential_mail import code_in
from qlcb_identity.keycloak_accounts import create_account, temporary_password

N = 20


def _request(n: int, unit_path: str) -> dict[str, object]:
    return {
        "holder_name": f"Phan Văn Đo {n}",
        "holder_email": f"do.{n}@bench.example",
        "unit_path": unit_path,
        "division": "Đội đo",
        "position": "Công chức",
        "phone": "0912345678",
        "account_types": ["local-officer"],
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


async def measure(
    identity_url: str, signers: Signers, unit_path: str, admin: KeycloakAdmin, mail: MailSink
) -> dict[str, Latency]:
    """Ours runs from the request to the holder's retrieval of the mailed first-login password."""
    ours: list[float] = []
    async with httpx.AsyncClient(base_url=identity_url, timeout=60) as api:
        by = signers.header
        started = time.perf_counter()
        for n in range(N):
            t = time.perf_counter()
            body = _request(n, unit_path)
            request = (await api.post("/v1/account-requests", json=body, headers=by(signers.requester))).json()
            consent = f"/v1/account-requests/{request['id']}/consent"
            (await api.post(consent, headers=by(signers.consenter))).raise_for_status()
            approve = f"/v1/account-requests/{request['id']}/approve"
            (await api.post(approve, headers=by(signers.approver))).raise_for_status()
            issued = await api.post(f"/v1/account-requests/{request['id']}/issue", headers=by(signers.issuer))
            issued.raise_for_status()
            code = await _mailed_code(mail, str(body["holder_email"]))
            (await api.post("/v1/credentials", json={"token": code})).raise_for_status()
            ours.append(time.perf_counter() - t)
        ours_latency = Latency.of(ours, time.perf_counter() - started)
    bare: list[float] = []
    started = time.perf_counter()
    for n in range(N):
        t = time.perf_counter()
        await asyncio.to_thread(
            create_account,
            admin,
            username=f"bare.{n}",
            full_name=f"Phan Văn Gốc {n}",
            roles=["local-officer"],
            group_path=unit_path,
            password=temporary_password(),
        )
        bare.append(time.perf_counter() - t)
    return {"bare": Latency.of(bare, time.perf_counter() - started), "ours": ours_latency}
