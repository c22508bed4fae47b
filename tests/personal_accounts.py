"""Issuing a personal account the way a unit does, for tests that follow what happens to it."""

from __future__ import annotations

import httpx

from qlcb_devstack.accounts import Account, ensure_user, password_token
from tests.support import System, eventually


def _client(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


async def issue_personal_account(
    system: System, personal_id: str, holder_name: str, unit_path: str = "/TCHQ/HQHN/HQHN-NB"
) -> str:
    """A personal account of a civil servant of a unit of Hà Nội (Nội Bài unless told), through
    identity's whole workflow (request by Hà Nội's personnel officer, the unit head's consent, the
    local admin's approval, issuance by the system admin: four people); its username. The record
    must exist: issuance waits until identity has heard of it from personnel."""
    leader = Account("thutruong.hanoi", "Thủ trưởng 2026", "unit-leader", "/TCHQ/HQHN", "Ngô Văn Trưởng")
    ensure_user(system.infra.keycloak_admin(), leader)
    leader_token = password_token(system.infra.keycloak.base_url, leader.username, leader.password)
    body = {
        "holder_name": holder_name,
        "holder_personal_id": personal_id,
        "holder_email": f"{personal_id}@haiquan.example",
        "unit_path": unit_path,
        "division": "Đội nghiệp vụ",
        "position": "Công chức",
        "phone": "0912345678",
        "account_types": ["self"],
        "reply_name": "Vũ Thị Hà",
        "reply_unit": "Phòng TCCB",
        "reply_email": "tccb@qlcb.example",
        "reply_phone": "0912345679",
        "requester_name": "Vũ Thị Hà",
    }
    identity = system.services.identity_url
    async with (
        _client(identity, system.token("nhansu1.hanoi")) as officer,
        _client(identity, leader_token) as head,
        _client(identity, system.token("qthanoi")) as admin,
        _client(identity, system.token("quantri")) as sysadmin,
    ):
        request = (await officer.post("/v1/account-requests", json=body)).json()
        await head.post(f"/v1/account-requests/{request['id']}/consent")
        await admin.post(f"/v1/account-requests/{request['id']}/approve")

        async def issue() -> httpx.Response:
            return await sysadmin.post(f"/v1/account-requests/{request['id']}/issue")

        issued = await eventually(
            issue,
            lambda r: not (r.status_code == 409 and "holder_personal_id" in r.text),
            timeout=30,
            what="identity to know the holder's record",
        )
    assert issued.status_code == 201, issued.text
    username: str = issued.json()["username"]
    return username
