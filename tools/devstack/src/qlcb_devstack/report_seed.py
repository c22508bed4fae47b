"""Seeds the demo's report workflow for `make up` (issue 11, "done when"): one periodic regime of the
sector's personnel department, the monthly headcount report of the Cục and their Chi cục, with
reports in every state: not sent, being written, submitted, returned, approved, and overdue.

Everything goes through the gateway as the demo's people would do it: Hà Nội's admin (qthanoi)
writes and sends its Chi cục's reports and, as the level above them, returns and approves them;
the system admin opens the periods and unlocks one late report."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

import httpx

from qlcb_devstack import demo
from qlcb_devstack.accounts import password_token

REGIME_CODE = "BC-BIENCHE-THANG"
INDICATORS = [
    {
        "code": "so_bien_che",
        "label": "Biên chế được giao",
        "kind": "number",
        "unit": "người",
        "required": True,
        "integer": True,
        "min": 0,
    },
    {
        "code": "so_co_mat",
        "label": "Số có mặt",
        "kind": "number",
        "unit": "người",
        "required": True,
        "integer": True,
        "min": 0,
    },
    {"code": "ty_le_nu", "label": "Tỷ lệ nữ", "kind": "percent", "unit": "%"},
    {"code": "ghi_chu", "label": "Ghi chú", "kind": "text", "max_length": 1000},
    {
        "code": "nghi_huu",
        "label": "Cán bộ nghỉ hưu trong kỳ",
        "kind": "table",
        "columns": [
            {"code": "ho_ten", "label": "Họ và tên", "kind": "text", "required": True},
            {"code": "ngay_nghi", "label": "Ngày nghỉ hưu", "kind": "text"},
        ],
    },
]
VALUES = {"so_bien_che": 90, "so_co_mat": 88, "ty_le_nu": 41.5, "ghi_chu": "Đủ biên chế", "nghi_huu": []}


def _month(day: date, back: int) -> str:
    index = day.year * 12 + day.month - 1 - back
    return f"{index // 12}-{index % 12 + 1:02d}"


def seed_reports(gateway_url: str, keycloak_url: str, unit_ids: dict[str, str], *, today: date) -> str:
    """Seeds the regime and two periods (this month's, in every state; two months ago, overdue but
    for one report sent late by exception); returns the regime's code."""
    asyncio.run(_seed(gateway_url, keycloak_url, unit_ids, today))
    return REGIME_CODE


async def _send(api: httpx.AsyncClient, report_id: str, values: dict[str, object]) -> None:
    (await api.put(f"/v1/report-assignments/{report_id}/values", json={"values": values})).raise_for_status()
    (await api.post(f"/v1/report-assignments/{report_id}/submit", json={})).raise_for_status()


async def _seed(gateway_url: str, keycloak_url: str, unit_ids: dict[str, str], today: date) -> None:
    def login(username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {password_token(keycloak_url, username, demo.DEMO_PASSWORD)}"}

    async with (
        httpx.AsyncClient(base_url=gateway_url, timeout=60, headers=login("quantri")) as admin,
        httpx.AsyncClient(base_url=gateway_url, timeout=60, headers=login("qthanoi")) as hanoi,
    ):
        # Reports learns the units from personnel's events: the regime waits until it knows them all.
        deadline = time.monotonic() + 120
        for unit_id in unit_ids.values():
            while (await admin.get(f"/v1/units/{unit_id}/headcount")).status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("reports has not heard of every demo unit in two minutes")
                await asyncio.sleep(0.5)
        regime = await admin.post(
            "/v1/report-regimes",
            json={
                "code": REGIME_CODE,
                "name": "Báo cáo số lượng cán bộ, công chức hằng tháng",
                "kind": "periodic",
                "frequency": "month",
                "legal_basis": "Quyết định 239/QĐ-UBND ngày 01/12/2025; Thông tư 11/2012/TT-BNV",
                "issuer_unit_id": unit_ids["TCHQ"],
                "unit_kinds": ["provincial_department", "sub_unit"],
                "unit_levels": [2, 3],
                "deadline_days": 5,
                "deadline_counting": "working_days",
                "reminder_days": 3,
                "outline": "I. Số lượng\nII. Biến động trong kỳ\nIII. Kiến nghị",
                "indicators": INDICATORS,
            },
        )
        regime.raise_for_status()
        regime_id = regime.json()["id"]
        periods = {}
        for key in (_month(today, 0), _month(today, 2)):
            opened = await admin.post(f"/v1/report-regimes/{regime_id}/periods", json={"period": key})
            if opened.status_code == 409:  # today's month, opened by itself meanwhile (R-REP-2)
                kept = await admin.get(f"/v1/report-regimes/{regime_id}/periods")
                kept.raise_for_status()
                period_id = next(p["id"] for p in kept.json() if p["key"] == key)
            else:
                opened.raise_for_status()
                period_id = opened.json()["period"]["id"]
            listed = await admin.get(f"/v1/report-periods/{period_id}/assignments")
            listed.raise_for_status()
            periods[key] = {a["unit_id"]: a["id"] for a in listed.json()["items"]}

        current = periods[_month(today, 0)]
        await _send(hanoi, current[unit_ids["HQHN-NB"]], VALUES)
        await _send(hanoi, current[unit_ids["HQHN-BHN"]], VALUES | {"so_co_mat": 95})
        returned = await hanoi.post(
            f"/v1/report-assignments/{current[unit_ids['HQHN-BHN']]}/return",
            json={"reason": "Số có mặt vượt biên chế được giao: đề nghị kiểm tra lại"},
        )
        returned.raise_for_status()
        await _send(hanoi, current[unit_ids["HQHN-GT"]], VALUES)
        # Four eyes: Hà Nội's admin sent it, so another approver over the unit approves it.
        approved = await admin.post(f"/v1/report-assignments/{current[unit_ids['HQHN-GT']]}/approve", json={})
        approved.raise_for_status()
        draft = await hanoi.put(
            f"/v1/report-assignments/{current[unit_ids['HQHN-DT']]}/values", json={"values": {"so_bien_che": 30}}
        )
        draft.raise_for_status()

        late = periods[_month(today, 2)][unit_ids["HQHN-NB"]]
        unlocked = await admin.post(
            f"/v1/report-assignments/{late}/lock-exception",
            json={
                "until": (today + timedelta(days=7)).isoformat(),
                "reason": "Đã gửi bằng văn bản khi hệ thống gián đoạn",
            },
        )
        unlocked.raise_for_status()
        await _send(hanoi, late, VALUES)
