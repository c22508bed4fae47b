"""The report workflow on the running system (issue 11 points 1, 2, 3, 5 and 8): regimes and their
template versions, periods assigned down the unit tree with their deadlines, the steps of sending
and approving a report with the rules DHIS2 keeps (a parent after its children, approved data
locked, reopening only until the level above approves), lock exceptions, completeness, reminders,
the audit of every step and its event; and bad input refused naming the field, with nothing
written.

Each test builds its own branch of units under Cục Hải quan Hà Nội, so that its regimes assign to
those units alone: Hà Nội's admin (qthanoi) is the level above the branch and the sector's
personnel department (vutccb) issues the regimes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import httpx
import nats
import pytest

from qlcb.reports.v1 import events_pb2
from qlcb_common.days import vietnam_today
from qlcb_common.events import streams, subjects
from qlcb_common.events.envelope import parse, unpack
from qlcb_common.working_days import WorkingCalendar
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_devstack.report_seed import seed_reports
from qlcb_reports.regimes import periods
from qlcb_reports.regimes.periods import today
from tests.support import (
    System,
    api_client,
    browser_login,
    claim_credential,
    eventually,
    handed_over,
    handed_over_on,
    handover_day,
    mailed_code,
    person_body,
    unique_code,
    wait_for_headcount,
)

ISSUER = "vutccb"  # sector HR: issues the sector's report regimes
ABOVE = "qthanoi"  # local admin of Hà Nội: writes its subtree's reports, approves its sub-units'
ELSEWHERE = "thutruong.hcm"  # the head of another Cục
INDICATORS: list[dict[str, Any]] = [
    {
        "code": "so_bien_che",
        "label": "Số biên chế được giao",
        "kind": "number",
        "unit": "người",
        "required": True,
        "integer": True,
        "min": 0,
    },
    {"code": "so_co_mat", "label": "Số có mặt", "kind": "number", "unit": "người", "integer": True, "min": 0},
    {"code": "ty_le_nu", "label": "Tỷ lệ nữ", "kind": "percent"},
    {"code": "ghi_chu", "label": "Ghi chú", "kind": "text", "max_length": 200},
    {
        "code": "danh_sach",
        "label": "Danh sách cán bộ nghỉ hưu trong kỳ",
        "kind": "table",
        "max_rows": 5,
        "columns": [
            {"code": "ho_ten", "label": "Họ và tên", "kind": "text", "required": True},
            {"code": "so_nam", "label": "Số năm công tác", "kind": "number", "integer": True, "min": 0, "max": 60},
        ],
    },
]
VALID = {"so_bien_che": 40, "so_co_mat": 38, "ty_le_nu": 42.5, "ghi_chu": "Đủ biên chế", "danh_sach": []}


@asynccontextmanager
async def _as(system: System, login: str) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(system.gateway_url, system.token(login)) as api:
        yield api


async def _unit(api: httpx.AsyncClient, parent_id: str, name: str, kind: str = "sub_unit") -> str:
    body = {"code": unique_code("BC"), "name": name, "kind": kind, "parent_id": parent_id}
    created = await api.post("/v1/units", json=body)
    assert created.status_code == 201, created.text
    unit_id: str = created.json()["id"]
    return unit_id


async def _branch(system: System, *shape: str) -> dict[str, str]:
    """Units under Hà Nội, known to reports: "P" directly under Hà Nội, then each of `shape` as
    "NAME<PARENT" (e.g. "B<P", "C1<B")."""
    async with _as(system, "quantri") as admin:
        ids = {"P": await _unit(admin, system.unit_ids["HQHN"], "Đội kiểm thử báo cáo")}
        for item in shape:
            name, parent = item.split("<")
            ids[name] = await _unit(admin, ids[parent], f"Tổ báo cáo {name}")
        for unit_id in ids.values():
            await wait_for_headcount(admin, unit_id, 0)
    return ids


async def _regime(system: System, issuer_id: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": unique_code("BC-"),
        "name": "Báo cáo số lượng, chất lượng cán bộ",
        "kind": "periodic",
        "frequency": "month",
        "legal_basis": "Quyết định 239/QĐ-UBND ngày 01/12/2025",
        "issuer_unit_id": issuer_id,
        "deadline_days": 5,
        "deadline_counting": "working_days",
        "outline": "I. Số lượng\nII. Chất lượng",
        "indicators": INDICATORS,
        # Each test opens the periods it needs; test_periods_open_by_themselves shows the other way.
        "opens_periods": False,
    } | fields
    async with _as(system, ISSUER) as api:
        created = await api.post("/v1/report-regimes", json=body)
    assert created.status_code == 201, created.text
    regime: dict[str, Any] = created.json()
    return regime


async def _open(system: System, regime: dict[str, Any], period: str, **dates: date) -> dict[str, Any]:
    body: dict[str, Any] = {"period": period} | {k: v.isoformat() for k, v in dates.items()}
    async with _as(system, ISSUER) as api:
        opened = await api.post(f"/v1/report-regimes/{regime['id']}/periods", json=body)
    assert opened.status_code == 201, opened.text
    found: dict[str, Any] = opened.json()
    return found


async def _thematic(system: System, issuer_id: str, deadline: date, **fields: Any) -> dict[str, Any]:
    """A thematic regime of `issuer_id` and its one period, due on `deadline`; the period's assignments."""
    regime = await _regime(system, issuer_id, kind="thematic", frequency=None, deadline_days=0, **fields)
    period = await _open(
        system, regime, unique_code("DX"), starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 31), deadline=deadline
    )
    return period


async def _assignments(system: System, period_id: str, login: str = ISSUER) -> dict[str, dict[str, Any]]:
    """The period's assignments by unit id."""
    async with _as(system, login) as api:
        listed = await api.get(f"/v1/report-periods/{period_id}/assignments")
    assert listed.status_code == 200, listed.text
    return {a["unit_id"]: a for a in listed.json()["items"]}


async def _step(api: httpx.AsyncClient, assignment: dict[str, Any], action: str, **body: Any) -> httpx.Response:
    return await api.post(f"/v1/report-assignments/{assignment['id']}/{action}", json=body)


async def _send(api: httpx.AsyncClient, assignment: dict[str, Any], values: dict[str, Any] | None = None) -> None:
    saved = await api.put(f"/v1/report-assignments/{assignment['id']}/values", json={"values": values or VALID})
    assert saved.status_code == 200, saved.text
    sent = await _step(api, assignment, "submit")
    assert sent.status_code == 200, sent.text


async def _detail(api: httpx.AsyncClient, assignment: dict[str, Any]) -> dict[str, Any]:
    found = await api.get(f"/v1/report-assignments/{assignment['id']}")
    assert found.status_code == 200, found.text
    detail: dict[str, Any] = found.json()
    return detail


async def _last_event(system: System, subject: str) -> tuple[str, Any]:
    user, password = system.infra.nats.credentials("ops")
    nc = await nats.connect(system.infra.nats.url, user=user, password=password, allow_reconnect=False)
    try:
        message = await nc.jetstream().get_last_msg(streams.REPORTS.name, subject)
    except nats.js.errors.NotFoundError:
        return "", None
    finally:
        await nc.close()
    assert message.data is not None
    envelope = parse(message.data)
    payload_type = events_pb2.ReminderDue if subject == subjects.REPORTS_REMINDER_DUE else events_pb2.SubmissionChanged
    return envelope.actor, unpack(envelope, payload_type)


def _faults(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {".".join(str(p) for p in f["loc"][1:]): f["msg"] for f in response.json()["detail"]}


# ---- regimes, templates, periods ------------------------------------------------------------------


async def test_a_period_keeps_the_template_version_it_was_opened_with(system: System) -> None:
    units = await _branch(system, "C1<P", "C2<P")
    regime = await _regime(system, units["P"], cutoff_day=14)
    assert regime["templates"][0]["version"] == 1
    assert [i["code"] for i in regime["templates"][0]["indicators"]] == [i["code"] for i in INDICATORS]

    november = await _open(system, regime, "2026-11")
    # A month with its data cut on the 14th: from 15 October to 14 November, due 5 working days
    # later (14 November 2026 is a Saturday: Monday 16 to Friday 20).
    assert november["assignments"] == 2
    assert (
        november["period"] | {"starts_on": "2026-10-15", "ends_on": "2026-11-14", "deadline": "2026-11-20"}
        == (november["period"])
    )
    january = await _open(system, regime, "2027-01")

    async with _as(system, ISSUER) as api:
        added = await api.post(
            f"/v1/report-regimes/{regime['id']}/versions",
            json={
                "outline": "Đề cương mới",
                "indicators": [*INDICATORS, {"code": "so_nghi_huu", "label": "Số nghỉ hưu", "kind": "number"}],
            },
        )
        assert added.status_code == 201, added.text
        assert [t["version"] for t in added.json()["templates"]] == [1, 2]
        again = await api.post(f"/v1/report-regimes/{regime['id']}/periods", json={"period": "2026-11"})
        assert again.status_code == 409, again.text
    february = await _open(system, regime, "2027-02")
    assert (january["period"]["template_version"], february["period"]["template_version"]) == (1, 2)

    old = (await _assignments(system, january["period"]["id"]))[units["C1"]]
    new = (await _assignments(system, february["period"]["id"]))[units["C1"]]
    async with _as(system, ABOVE) as api:
        refused = await api.put(f"/v1/report-assignments/{old['id']}/values", json={"values": {"so_nghi_huu": 2}})
        assert _faults(refused) == {"values.so_nghi_huu": "Không có chỉ tiêu này trong mẫu báo cáo phiên bản 1"}
        taken = await api.put(f"/v1/report-assignments/{new['id']}/values", json={"values": {"so_nghi_huu": 2}})
        assert taken.status_code == 200, taken.text


async def test_periods_are_assigned_to_the_units_of_the_kinds_and_levels_concerned(system: System) -> None:
    units = await _branch(system, "B<P", "C1<B", "C2<B", "D<P")
    everyone = await _open(system, await _regime(system, units["P"]), "2026-10")
    assigned = await _assignments(system, everyone["period"]["id"])
    assert set(assigned) == {units[n] for n in ("B", "C1", "C2", "D")}
    # Each is approved by the nearest unit above it that reports too; the top ones by the issuer.
    assert assigned[units["C1"]]["parent_assignment_id"] == assigned[units["B"]]["id"]
    assert assigned[units["C1"]]["approver_unit_id"] == units["B"]
    assert assigned[units["B"]]["approver_unit_id"] == units["P"]
    assert assigned[units["B"]]["parent_assignment_id"] is None
    assert {a["state"] for a in assigned.values()} == {"not_started"}

    # Levels: Hà Nội is at level 2, P at 3, B and D at 4, C1 and C2 at 5.
    fifth = await _open(system, await _regime(system, units["P"], unit_levels=[5]), "2026-10")
    assert set(await _assignments(system, fifth["period"]["id"])) == {units["C1"], units["C2"]}
    assert fifth["assignments"] == 2
    # Kinds: none of the branch is a provincial department.
    none = await _open(system, await _regime(system, units["P"], unit_kinds=["provincial_department"]), "2026-10")
    assert none["assignments"] == 0


async def test_periods_open_by_themselves_on_their_first_day(system: System) -> None:
    """R-REP-2: "assignments are created automatically per period for the units concerned". A
    periodic regime opens today's period by itself, assigned as its issuer's opening would assign
    it; its issuer's opening of the same period is then refused. A regime that opens its own periods
    by hand gets none, and a thematic regime may not ask for it (422 naming the field)."""
    units = await _branch(system, "C1<P", "C2<P")
    by_hand = await _regime(system, units["P"])
    regime = await _regime(system, units["P"], cutoff_day=14, opens_periods=None)
    assert (by_hand["opens_periods"], regime["opens_periods"]) == (False, True)
    key = periods.key_on("month", 14, today())

    async def opened(of: dict[str, Any]) -> list[dict[str, Any]]:
        async with _as(system, ISSUER) as api:
            listed = await api.get(f"/v1/report-regimes/{of['id']}/periods")
        assert listed.status_code == 200, listed.text
        found: list[dict[str, Any]] = listed.json()
        return found

    (period,) = await eventually(lambda: opened(regime), bool, timeout=60, what="today's period to open")
    assert (period["key"], period["opened_by"], period["template_version"]) == (key, "system:periods", 1)
    assert period["starts_on"] <= today().isoformat() <= period["ends_on"]
    assigned = await _assignments(system, period["id"])
    assert set(assigned) == {units["C1"], units["C2"]}
    assert {a["state"] for a in assigned.values()} == {"not_started"}
    # The pass that opened it had both regimes in hand: the one opened by hand was passed over.
    assert await opened(by_hand) == []
    async with _as(system, ISSUER) as api:
        again = await api.post(f"/v1/report-regimes/{regime['id']}/periods", json={"period": key})
        assert again.status_code == 409, again.text
        thematic = {"kind": "thematic", "frequency": None, "deadline_days": 0, "opens_periods": True}
        refused = await api.post(
            "/v1/report-regimes",
            json={
                "code": unique_code("BC-"),
                "name": "Báo cáo chuyên đề",
                "legal_basis": "Quyết định 239/QĐ-UBND ngày 01/12/2025",
                "issuer_unit_id": units["P"],
                "indicators": INDICATORS,
            }
            | thematic,
        )
    assert _faults(refused) == {"opens_periods": "Chỉ kỳ của báo cáo định kỳ mới tự mở"}


# ---- the workflow ---------------------------------------------------------------------------------


async def test_a_report_goes_from_draft_to_approval_through_return_and_recall(system: System) -> None:
    units = await _branch(system, "C1<P")
    period = await _open(system, await _regime(system, units["P"]), "2027-01")
    report = (await _assignments(system, period["period"]["id"]))[units["C1"]]
    async with _as(system, ABOVE) as api, _as(system, ELSEWHERE) as stranger, _as(system, ISSUER) as approver:
        await _send(api, report)
        assert (await _step(stranger, report, "approve")).status_code == 403
        assert _faults(await _step(api, report, "return")) == {"reason": "Phải nêu lý do khi trả lại báo cáo"}
        returned = await _step(api, report, "return", reason="Số có mặt lệch với số liệu nhân sự")
        assert returned.status_code == 200, returned.text
        assert (
            returned.json()["assignment"]
            | {"state": "returned", "returned_reason": "Số có mặt lệch với số liệu nhân sự"}
            == (returned.json()["assignment"])
        )
        corrected = await api.put(
            f"/v1/report-assignments/{report['id']}/values", json={"values": VALID | {"so_co_mat": 37}}
        )
        assert corrected.status_code == 200, corrected.text
        assert (await _step(api, report, "submit")).status_code == 200
        assert (await _step(api, report, "recall")).json()["assignment"]["state"] == "draft"
        sent = await _step(api, report, "submit")
        assert sent.status_code == 200, sent.text
        assert sent.json()["assignment"]["submitted_by"] == ABOVE
        # Four eyes: the local admin writes its sub-unit's report and approves for the level above,
        # but never both on one submission; another approver over the unit does.
        own = await _step(api, report, "approve")
        assert own.status_code == 403, own.text
        assert "không tự duyệt báo cáo mình gửi" in own.json()["detail"]["message"]
        assert (await _detail(api, report))["assignment"]["state"] == "submitted"
        approved = await _step(approver, report, "approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["assignment"]["approved_by"] == ISSUER

        # Approved data is locked: neither saved nor recalled.
        locked = await api.put(f"/v1/report-assignments/{report['id']}/values", json={"values": VALID})
        assert locked.status_code == 409, locked.text
        assert "đã duyệt (approved)" in locked.json()["detail"]["message"]
        assert (await _step(api, report, "recall")).status_code == 409
        detail = await _detail(api, report)

    assert detail["assignment"]["values"]["so_co_mat"] == 37
    steps = [(t["action"], t["from_state"], t["to_state"]) for t in detail["transitions"]]
    assert steps == [
        ("saved", "not_started", "draft"),
        ("submitted", "draft", "submitted"),
        ("returned", "submitted", "returned"),
        ("saved", "returned", "draft"),
        ("submitted", "draft", "submitted"),
        ("recalled", "submitted", "draft"),
        ("submitted", "draft", "submitted"),
        ("approved", "submitted", "approved"),
    ]
    assert [t["account"] for t in detail["transitions"]] == [ABOVE] * 7 + [ISSUER]
    assert detail["transitions"][2]["reason"] == "Số có mặt lệch với số liệu nhân sự"

    async def approval() -> Any:
        return (await _last_event(system, subjects.REPORTS_SUBMISSION_APPROVED))[1]

    event = await eventually(
        approval, lambda e: e is not None and e.assignment.id == report["id"], timeout=30, what="the approval event"
    )
    assert (event.transition.action, event.transition.account, event.assignment.state) == (
        "approved",
        ISSUER,
        "approved",
    )


async def test_a_parent_is_approved_only_after_its_children_and_reopened_only_before_its_own_approval(
    system: System,
) -> None:
    units = await _branch(system, "B<P", "C1<B", "C2<B")
    period = await _open(system, await _regime(system, units["P"]), "2027-01")
    assigned = await _assignments(system, period["period"]["id"])
    parent, first, second = (assigned[units[n]] for n in ("B", "C1", "C2"))
    async with _as(system, ABOVE) as api, _as(system, ISSUER) as approver:
        for report in (first, second, parent):
            await _send(api, report)
        assert (await _step(approver, first, "approve")).status_code == 200
        waiting = await _step(approver, parent, "approve")
        assert waiting.status_code == 409, waiting.text
        assert "1 báo cáo của đơn vị cấp dưới chưa được duyệt (Tổ báo cáo C2)" in waiting.json()["detail"]["message"]
        assert (await _step(approver, second, "approve")).status_code == 200
        assert (await _step(approver, parent, "approve")).status_code == 200

        # The level above has approved: what it approved from below stays as it was.
        late = await _step(api, first, "reopen", reason="Sai số có mặt")
        assert late.status_code == 409, late.text
        assert "Cấp trên (Tổ báo cáo B) đã duyệt" in late.json()["detail"]["message"]
        # Until the issuer's level reopens the parent: then its approver may reopen the child.
        assert (await _step(api, parent, "reopen", reason="Cần đính chính C1")).status_code == 200
        reopened = await _step(api, first, "reopen", reason="Sai số có mặt")
        assert reopened.status_code == 200, reopened.text
        assert (
            reopened.json()["assignment"] | {"state": "returned", "approved_at": None} == reopened.json()["assignment"]
        )


async def test_a_unit_does_not_approve_its_own_report(system: System) -> None:
    """The sector's personnel department approves over the whole sector, but not its own unit's."""
    departments = await _regime(system, system.unit_ids["TCHQ"], unit_levels=[2], unit_kinds=["hq_department"])
    period = await _open(system, departments, "2027-01")
    own = (await _assignments(system, period["period"]["id"]))[system.unit_ids["VTCCB"]]
    async with _as(system, "canbo.vutccb") as department, _as(system, ISSUER) as issuer:
        await _send(department, own)
        refused = await _step(issuer, own, "approve")
        assert refused.status_code == 403, refused.text
        approved = await _step(department, own, "approve")
        assert approved.status_code == 403, approved.text


async def _waiting(api: httpx.AsyncClient) -> tuple[set[str], set[str]]:
    """The ids of the reports waiting for the caller to send and to approve (other tests' too)."""
    found = await api.get("/v1/report-waiting", params={"limit": 200})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["to_send_total"] >= len(body["to_send"])
    assert body["to_approve_total"] >= len(body["to_approve"])
    return {a["id"] for a in body["to_send"]}, {a["id"] for a in body["to_approve"]}


async def test_what_waits_for_an_account_follows_the_report_from_its_writer_to_the_level_above(system: System) -> None:
    units = await _branch(system, "C1<P")
    period = await _thematic(system, units["P"], vietnam_today() + timedelta(days=30))
    [report] = (await _assignments(system, period["period"]["id"])).values()
    async with _as(system, ABOVE) as above, _as(system, ELSEWHERE) as elsewhere, _as(system, ISSUER) as issuer:
        assert report["id"] in (await _waiting(above))[0], "Hà Nội's admin writes the reports of its subtree"
        assert report["id"] not in set().union(*await _waiting(elsewhere)), "another Cục's head sees nothing of it"
        assert report["id"] not in (await _waiting(issuer))[0], "the issuer writes its own unit's reports only"
        await _send(above, report)
        to_send, to_approve = await _waiting(above)
        assert report["id"] not in to_send
        assert report["id"] not in to_approve, "approved by P, in Hà Nội's subtree, but not by the account that sent it"
        assert report["id"] in (await _waiting(issuer))[1], "the sector's personnel department approves sector-wide"
        approved = await _step(issuer, report, "approve")
        assert approved.status_code == 200, approved.text
        assert report["id"] not in set().union(*await _waiting(above), *await _waiting(issuer))
        for limit in (0, 201, "x"):
            refused = await above.get("/v1/report-waiting", params={"limit": limit})
            assert refused.status_code == 422, refused.text
            assert refused.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_an_account_that_saved_the_figures_another_sent_does_not_approve_them(system: System) -> None:
    """Four eyes over the figures, not only the sending: Hà Nội's admin fills in its sub-unit's
    report, the system admin sends it; neither approves it, and it waits for neither."""
    units = await _branch(system, "C1<P")
    period = await _thematic(system, units["P"], vietnam_today() + timedelta(days=30))
    [report] = (await _assignments(system, period["period"]["id"])).values()
    async with _as(system, ABOVE) as above, _as(system, "quantri") as admin, _as(system, ISSUER) as issuer:
        saved = await above.put(f"/v1/report-assignments/{report['id']}/values", json={"values": VALID})
        assert saved.status_code == 200, saved.text
        sent = await _step(admin, report, "submit")
        assert sent.status_code == 200, sent.text
        assert sent.json()["assignment"]["prepared_by"] == [ABOVE, "quantri"]
        assert report["id"] not in (await _waiting(above))[1], "it waits not for the account that filled it in"
        assert report["id"] not in (await _waiting(admin))[1], "nor for the one that sent it"
        refused = await _step(above, report, "approve")
        assert refused.status_code == 403, refused.text
        assert "không tự duyệt số liệu mình lập" in refused.json()["detail"]["message"]
        assert (await _step(admin, report, "approve")).status_code == 403
        assert (await _detail(issuer, report))["assignment"]["state"] == "submitted"
        assert report["id"] in (await _waiting(issuer))[1]
        approved = await _step(issuer, report, "approve")
        assert approved.status_code == 200, approved.text


async def test_what_waits_to_be_sent_lists_what_can_still_be_sent_before_what_is_locked(system: System) -> None:
    """Reports past their deadline stay listed (to ask the issuer to reopen them), but after the ones
    the unit can still send: soonest deadline first, then the locked ones, latest deadline first."""
    units = await _branch(system, "C1<P")
    behind = await _assignments(system, (await _thematic(system, units["P"], date(2026, 2, 5)))["period"]["id"])
    unlocked = await _assignments(system, (await _thematic(system, units["P"], date(2026, 2, 6)))["period"]["id"])
    async with _as(system, ISSUER) as issuer:
        body = {"until": (today() + timedelta(days=3)).isoformat(), "reason": "Đơn vị gửi bù"}
        opened = await issuer.post(f"/v1/report-assignments/{unlocked[units['C1']]['id']}/lock-exception", json=body)
        assert opened.status_code == 200, opened.text
    async with _as(system, ABOVE) as above:
        found = await above.get("/v1/report-waiting", params={"limit": 200})
    assert found.status_code == 200, found.text
    listed = found.json()["to_send"]
    ids = [a["id"] for a in listed]
    assert unlocked[units["C1"]]["id"] in ids, "a report under a lock exception can be sent: it comes early"
    assert [a["locked"] for a in listed] == sorted(a["locked"] for a in listed), "what can be sent comes first"
    sendable = [a["deadline"] for a in listed if not a["locked"]]
    locked = [a["deadline"] for a in listed if a["locked"]]
    assert sendable == sorted(sendable), "soonest deadline first"
    assert locked == sorted(locked, reverse=True), "the latest deadline first"
    assert found.json()["to_send_total"] >= len(behind) + len(unlocked)


async def test_racing_steps_on_one_report_one_wins_the_other_is_refused(system: System) -> None:
    units = await _branch(system, "C1<P", "C2<P")
    period = await _open(system, await _regime(system, units["P"]), "2027-01")
    assigned = await _assignments(system, period["period"]["id"])
    async with _as(system, ABOVE) as api, _as(system, "quantri") as admin, _as(system, ISSUER) as issuer:
        await _send(admin, assigned[units["C1"]])
        await _send(admin, assigned[units["C2"]])
        for report, steps in (
            (assigned[units["C1"]], [("approve", {}), ("return", {"reason": "Thiếu danh sách"})]),
            (assigned[units["C2"]], [("approve", {}), ("approve", {})]),
        ):
            answers = await asyncio.gather(
                _step(api, report, steps[0][0], **steps[0][1]), _step(issuer, report, steps[1][0], **steps[1][1])
            )
            assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
            winner = next(a for a in answers if a.status_code == 200).json()["transition"]
            loser = next(a for a in answers if a.status_code == 409).json()["detail"]["message"]
            assert f"({winner['to_state']})" in loser
            detail = await _detail(api, report)
            assert detail["assignment"]["state"] == winner["to_state"]
            assert [t["action"] for t in detail["transitions"]][-1:] == [winner["action"]]
            assert len(detail["transitions"]) == 3


async def test_a_stale_version_is_refused(system: System) -> None:
    units = await _branch(system, "C1<P")
    period = await _open(system, await _regime(system, units["P"]), "2027-01")
    report = (await _assignments(system, period["period"]["id"]))[units["C1"]]
    async with _as(system, ABOVE) as api:
        saved = await api.put(f"/v1/report-assignments/{report['id']}/values", json={"values": VALID})
        stale = await api.put(
            f"/v1/report-assignments/{report['id']}/values",
            json={"values": VALID | {"so_co_mat": 1}, "expected_version": report["version"]},
        )
        assert stale.status_code == 409, stale.text
        assert f"nay là {saved.json()['version']}" in stale.json()["detail"]["message"]
        assert (await _detail(api, report))["assignment"]["values"]["so_co_mat"] == VALID["so_co_mat"]


# ---- sub-assignment and consolidation ----------------------------------------------------------------


async def test_a_unit_sub_assigns_parts_and_consolidates_what_its_sub_units_send(system: System) -> None:
    units = await _branch(system, "B<P", "C1<B", "C2<B")
    period = await _open(system, await _regime(system, units["P"], unit_levels=[4]), "2027-01")
    own = (await _assignments(system, period["period"]["id"]))[units["B"]]
    async with _as(system, ABOVE) as api, _as(system, ISSUER) as approver:
        named_twice = await api.post(
            f"/v1/report-assignments/{own['id']}/sub-assignments", json={"unit_ids": [units["C1"], units["C1"]]}
        )
        assert _faults(named_twice) == {"unit_ids[1]": "Đơn vị đã nêu ở trên"}
        given = await api.post(
            f"/v1/report-assignments/{own['id']}/sub-assignments",
            json={"unit_ids": [units["C1"], units["C2"]], "indicator_codes": ["so_co_mat", "danh_sach"]},
        )
        assert given.status_code == 201, given.text
        children = {a["unit_id"]: a for a in given.json()}
        assert [a["indicator_codes"] for a in children.values()] == [["danh_sach", "so_co_mat"]] * 2
        assert {a["approver_unit_id"] for a in children.values()} == {units["B"]}
        twice = await api.post(f"/v1/report-assignments/{own['id']}/sub-assignments", json={"unit_ids": [units["C1"]]})
        assert twice.status_code == 409, twice.text

        first, second = children[units["C1"]], children[units["C2"]]
        not_asked = await api.put(f"/v1/report-assignments/{first['id']}/values", json={"values": {"ghi_chu": "x"}})
        assert _faults(not_asked) == {"values.ghi_chu": "Chỉ tiêu này không giao cho đơn vị"}
        nothing_yet = await api.post(f"/v1/report-assignments/{own['id']}/consolidate")
        assert nothing_yet.status_code == 409, nothing_yet.text
        await _send(api, first, {"so_co_mat": 12, "danh_sach": [{"ho_ten": "Nguyễn Văn Hưu", "so_nam": 35}]})
        await _send(api, second, {"so_co_mat": 9, "danh_sach": [{"ho_ten": "Trần Thị Nghỉ", "so_nam": 30}]})
        for child in (first, second):
            assert (await _step(approver, child, "approve")).status_code == 200
        merged = await api.post(f"/v1/report-assignments/{own['id']}/consolidate")
        assert merged.status_code == 200, merged.text

    values = merged.json()["values"]
    assert values["so_co_mat"] == 21
    assert [row["ho_ten"] for row in values["danh_sach"]] == ["Nguyễn Văn Hưu", "Trần Thị Nghỉ"]
    assert merged.json()["state"] == "draft"


# ---- deadlines, locks, completeness, reminders ------------------------------------------------------


async def test_a_report_locks_after_its_deadline_until_the_issuer_reopens_it(system: System) -> None:
    units = await _branch(system, "C1<P")
    period = await _thematic(system, units["P"], date(2026, 2, 5))
    report = (await _assignments(system, period["period"]["id"]))[units["C1"]]
    assert report["locked"] is True
    async with _as(system, ABOVE) as api, _as(system, ISSUER) as issuer:
        refused = await api.put(f"/v1/report-assignments/{report['id']}/values", json={"values": VALID})
        assert refused.status_code == 409, refused.text
        assert "Đã quá hạn gửi báo cáo (2026-02-05)" in refused.json()["detail"]["message"]
        body = {
            "until": (today() + timedelta(days=3)).isoformat(),
            "reason": "Đơn vị gửi bằng văn bản khi hệ thống gián đoạn",
        }
        assert (await api.post(f"/v1/report-assignments/{report['id']}/lock-exception", json=body)).status_code == 403
        past = await issuer.post(
            f"/v1/report-assignments/{report['id']}/lock-exception", json=body | {"until": "2026-01-01"}
        )
        assert _faults(past) == {"until": "Từ hôm nay đến 90 ngày sau"}
        opened = await issuer.post(f"/v1/report-assignments/{report['id']}/lock-exception", json=body)
        assert opened.status_code == 200, opened.text
        assert opened.json()["locked"] is False
        await _send(api, report)
        detail = await _detail(api, report)
    assert [t["action"] for t in detail["transitions"]] == ["unlocked", "saved", "submitted"]
    assert detail["transitions"][0]["account"] == ISSUER


async def test_completeness_counts_what_was_sent_on_time_and_lists_the_overdue(system: System) -> None:
    units = await _branch(system, "C1<P", "C2<P", "C3<P")
    ahead = await _thematic(system, units["P"], today() + timedelta(days=10))
    assigned = await _assignments(system, ahead["period"]["id"])
    async with _as(system, ABOVE) as api, _as(system, ISSUER) as approver:
        await _send(api, assigned[units["C1"]])
        await _send(api, assigned[units["C2"]])
        assert (await _step(approver, assigned[units["C1"]], "approve")).status_code == 200
        figures = await api.get(f"/v1/report-periods/{ahead['period']['id']}/completeness")
        one = await api.get(f"/v1/report-periods/{ahead['period']['id']}/completeness", params={"unit_id": units["C2"]})
    assert figures.status_code == 200, figures.text
    assert figures.json()["total"] == {
        "expected": 3,
        "submitted": 2,
        "on_time": 2,
        "approved": 1,
        "submitted_rate": pytest.approx(2 / 3),
        "on_time_rate": pytest.approx(2 / 3),
        "approved_rate": pytest.approx(1 / 3),
    }
    assert figures.json()["overdue"] == []
    assert one.json()["total"]["expected"] == 1

    behind = await _thematic(system, units["P"], date(2026, 2, 5))
    late = await _assignments(system, behind["period"]["id"])
    async with _as(system, ISSUER) as issuer, _as(system, ABOVE) as api, _as(system, ELSEWHERE) as stranger:
        body = {"until": today().isoformat(), "reason": "Gửi muộn có lý do"}
        unlock = f"/v1/report-assignments/{late[units['C1']]['id']}/lock-exception"
        assert (await issuer.post(unlock, json=body)).status_code == 200
        await _send(api, late[units["C1"]])
        # 004 Điều 9.4: C2 sent its report on paper on 4 February while the system was down; entered
        # afterwards, it counts as sent on that day. A day still to come is refused by name.
        unlock = f"/v1/report-assignments/{late[units['C2']]['id']}/lock-exception"
        ahead = body | {"sent_otherwise_on": (today() + timedelta(days=1)).isoformat()}
        assert _faults(await issuer.post(unlock, json=ahead)) == {
            "sent_otherwise_on": "Ngày gửi bằng cách khác không được sau hôm nay"
        }
        outage = await issuer.post(unlock, json=body | {"sent_otherwise_on": "2026-02-04"})
        assert outage.status_code == 200, outage.text
        assert outage.json()["sent_otherwise_on"] == "2026-02-04"
        await _send(api, late[units["C2"]])
        figures = await api.get(f"/v1/report-periods/{behind['period']['id']}/completeness")
        refused = await stranger.get(f"/v1/report-periods/{behind['period']['id']}/completeness")
    total = figures.json()["total"]
    assert (total["expected"], total["submitted"], total["on_time"]) == (3, 2, 1)
    assert {a["unit_id"] for a in figures.json()["overdue"]} == {units["C3"]}
    assert refused.status_code == 403, refused.text


async def test_a_reminder_is_published_before_the_deadline_of_a_report_not_sent(system: System) -> None:
    units = await _branch(system, "C1<P")
    due = today() + timedelta(days=1)
    period = await _thematic(system, units["P"], due, reminder_days=3)

    async def reminded() -> list[str]:
        seen: list[str] = []
        user, password = system.infra.nats.credentials("ops")
        nc = await nats.connect(system.infra.nats.url, user=user, password=password, allow_reconnect=False)
        try:
            consumer = await nc.jetstream().pull_subscribe(subjects.REPORTS_REMINDER_DUE, stream=streams.REPORTS.name)
            try:
                for message in await consumer.fetch(500, timeout=2):
                    event = unpack(parse(message.data), events_pb2.ReminderDue)
                    if event.assignment.period_id == period["period"]["id"]:
                        seen.append(event.assignment.unit_id)
            except nats.errors.TimeoutError:
                pass
        finally:
            await nc.close()
        return seen

    found = await eventually(reminded, lambda s: units["C1"] in s, timeout=60, what="a reminder to C1")
    assert found == [units["C1"]], "one reminder, however many rounds ran"
    actor, event = await _last_event(system, subjects.REPORTS_REMINDER_DUE)
    assert actor == "system:reminders"
    assert event.working_days_left == WorkingCalendar().working_days_between(today(), due)


# ---- bad input ------------------------------------------------------------------------------------


async def test_a_template_that_does_not_hold_together_is_refused_naming_each_fault(system: System) -> None:
    units = await _branch(system)
    broken = [
        {"code": "so_bien_che", "label": "Số biên chế", "kind": "number", "min": 10, "max": 5},
        {"code": "so_bien_che", "label": "Lặp mã", "kind": "number"},
        {"code": "bang", "label": "Bảng không cột", "kind": "table"},
        {"code": "ty_le", "label": "Tỷ lệ", "kind": "percent", "max": 150},
        {"code": "van_ban", "label": "Văn bản", "kind": "text", "integer": True},
    ]
    body = {
        "code": unique_code("BC-"),
        "name": "Báo cáo lỗi",
        "kind": "periodic",
        "legal_basis": "Thông tư 11/2012/TT-BNV",
        "issuer_unit_id": units["P"],
        "deadline_days": 5,
        "indicators": broken,
    }
    async with _as(system, ISSUER) as api:
        faults = _faults(await api.post("/v1/report-regimes", json=body))
        listed = await api.get("/v1/report-regimes")
    assert set(faults) >= {
        "frequency",
        "indicators[0].max",
        "indicators[1].code",
        "indicators[2].columns",
        "indicators[4].integer",
    }
    assert faults["indicators[1].code"] == "Mã chỉ tiêu 'so_bien_che' bị trùng"
    assert body["code"] not in {r["code"] for r in listed.json()}


async def test_a_wrong_period_is_refused_naming_it(system: System) -> None:
    units = await _branch(system)
    monthly = await _regime(system, units["P"])
    quarterly = await _regime(system, units["P"], frequency="quarter")
    async with _as(system, ISSUER) as api:
        for regime, period, message in (
            (monthly, "2026-13", "Kỳ báo cáo month viết như '2026-11'"),
            (quarterly, "2026-Q5", "Kỳ báo cáo quarter viết như '2026-Q4'"),
            (monthly, "1999-12", f"Năm của kỳ báo cáo từ 2000 đến {today().year + 1}"),
        ):
            refused = await api.post(f"/v1/report-regimes/{regime['id']}/periods", json={"period": period})
            assert _faults(refused) == {"period": message}
        thematic = await _regime(system, units["P"], kind="thematic", frequency=None, deadline_days=0)
        backwards = await api.post(
            f"/v1/report-regimes/{thematic['id']}/periods",
            json={"period": "DX1", "starts_on": "2026-03-01", "ends_on": "2026-02-01", "deadline": "2026-01-01"},
        )
        assert set(_faults(backwards)) == {"ends_on", "deadline"}


async def test_values_failing_their_rules_are_refused_naming_the_cell_and_nothing_is_written(system: System) -> None:
    units = await _branch(system, "C1<P")
    period = await _open(system, await _regime(system, units["P"]), "2027-01")
    report = (await _assignments(system, period["period"]["id"]))[units["C1"]]
    async with _as(system, ABOVE) as api:
        first = await api.put(f"/v1/report-assignments/{report['id']}/values", json={"values": {"so_co_mat": 5}})
        assert first.status_code == 200, first.text
        bad = {
            "so_bien_che": -1,
            "so_co_mat": 2.5,
            "ty_le_nu": 120,
            "ghi_chu": 7,
            "khong_co": 1,
            "danh_sach": [{"ho_ten": "Lê Văn Một", "so_nam": 10}, {"so_nam": 70, "chuc_vu": "x"}],
        }
        faults = _faults(await api.put(f"/v1/report-assignments/{report['id']}/values", json={"values": bad}))
        assert faults == {
            "values.so_bien_che": "Không được nhỏ hơn 0",
            "values.so_co_mat": "Phải là số nguyên",
            "values.ty_le_nu": "Không được lớn hơn 100%",
            "values.ghi_chu": "Phải là chuỗi ký tự",
            "values.khong_co": "Không có chỉ tiêu này trong mẫu báo cáo phiên bản 1",
            "values.danh_sach[2].so_nam": "Không được lớn hơn 60",
            "values.danh_sach[2].chuc_vu": "Bảng không có cột này",
            "values.danh_sach[2].ho_ten": "Cột bắt buộc",
        }
        incomplete = await _step(api, report, "submit")
        assert _faults(incomplete) == {"values.so_bien_che": "Bắt buộc khi gửi báo cáo"}
        detail = await _detail(api, report)
    assert detail["assignment"] | {"values": {"so_co_mat": 5}, "state": "draft"} == detail["assignment"]
    assert detail["assignment"]["version"] == first.json()["version"]
    assert [t["action"] for t in detail["transitions"]] == ["saved"]


async def test_a_step_the_state_does_not_allow_or_a_unit_not_assigned_is_refused(system: System) -> None:
    units = await _branch(system, "C1<P")
    period = await _open(system, await _regime(system, units["P"]), "2027-01")
    report = (await _assignments(system, period["period"]["id"]))[units["C1"]]
    async with _as(system, ABOVE) as api, _as(system, ELSEWHERE) as stranger, _as(system, "lanhdaovu") as viewer:
        recall = await _step(api, report, "recall")
        assert recall.status_code == 409, recall.text
        assert recall.json()["detail"]["message"].startswith("Báo cáo đang ở trạng thái chưa gửi (not_started)")
        assert (await _step(api, report, "approve")).status_code == 409
        # Units outside the assigned one's reach, or tiers that only read, may not send it.
        foreign = await stranger.put(f"/v1/report-assignments/{report['id']}/values", json={"values": VALID})
        assert foreign.status_code == 403, foreign.text
        read_only = await viewer.put(f"/v1/report-assignments/{report['id']}/values", json={"values": VALID})
        assert read_only.status_code == 403, read_only.text
        unknown = await api.post("/v1/report-assignments/00000000-0000-4000-8000-000000000000/submit")
        assert unknown.status_code == 404, unknown.text
        not_json = await api.put(f"/v1/report-assignments/{report['id']}/values", json={"values": []})
        assert not_json.status_code == 422, not_json.text
        detail = await _detail(api, report)
    assert detail["assignment"]["state"] == "not_started"
    assert detail["transitions"] == []
    assert json.dumps(detail["assignment"]["values"]) == "{}"


async def _head_account(system: System, unit_id: str) -> tuple[dict[str, Any], str]:
    """A purpose account of the unit's head ("Thủ trưởng", unit-leader), issued: the account and the
    unit's path."""
    async with _as(system, ABOVE) as local:
        unit_path = (await local.get(f"/v1/units/{unit_id}")).json()["path"]
    async with api_client(system.services.identity_url, system.token("quantri")) as admin:
        quota = await admin.put("/v1/quotas", json={"unit_path": unit_path, "kind": "user", "limit": 1})
        assert quota.status_code == 200, quota.text
        issued = await admin.post(
            "/v1/purpose-accounts", json={"unit_path": unit_path, "purpose": "Thủ trưởng", "tier": "unit-leader"}
        )
        assert issued.status_code == 201, issued.text
    account: dict[str, Any] = issued.json()["account"]
    return account, unit_path


async def _hand_to(system: System, account: dict[str, Any], unit_id: str, name: str, born: str) -> tuple[str, str]:
    """The account handed today to a new officer of the unit named `name`: the token they sign in with,
    having set a password of their own (the realm refuses one the account had before), and their
    personal id."""
    async with _as(system, ABOVE) as local:
        holder_body = person_body(unit_id, name, sex="female", born=born)
        holder = await local.post("/v1/persons", json=holder_body)
        assert holder.status_code == 201, holder.text
    recipient = f"{unique_code('giu').lower()}@haiquan.example"
    holding = {
        "holder_name": name,
        "holder_personal_id": holder_body["personal_id"],
        "holder_email": recipient,
        "since": handover_day(),
    }
    async with api_client(system.services.identity_url, system.token("quantri")) as admin:
        given = await handed_over(admin, account["id"], holding)
        assert given.status_code == 201, given.text
    credential = await claim_credential(system, await mailed_code(system, recipient))
    assert credential.status_code == 200, credential.text
    token: str = await asyncio.to_thread(
        browser_login,
        system,
        account["username"],
        credential.json()["temporary_password"],
        new_password=f"Mật khẩu của {name} 2026",
    )
    return token, holder_body["personal_id"]


async def test_a_step_taken_with_a_purpose_account_names_who_held_it(system: System) -> None:
    """The head's account of a branch ("Thủ trưởng", a purpose account) is handed to Phan Thị Duyệt;
    the approval it gives is recorded with her name beside the account."""
    units = await _branch(system, "C1<P")
    account, _ = await _head_account(system, units["P"])
    token, _ = await _hand_to(system, account, units["P"], "Phan Thị Duyệt", "1982-07-09")
    period = await _open(system, await _regime(system, units["P"]), "2027-01")
    report = (await _assignments(system, period["period"]["id"]))[units["C1"]]
    async with _as(system, ABOVE) as api, api_client(system.gateway_url, token) as head:
        await _send(api, report)
        approved = await _step(head, report, "approve")
        assert approved.status_code == 200, approved.text

        async def last_step() -> dict[str, Any]:
            step: dict[str, Any] = (await _detail(api, report))["transitions"][-1]
            return step

        named = await eventually(last_step, lambda t: t["holder_name"] is not None, timeout=30, what="the holder")
        earlier = (await _detail(api, report))["transitions"][:2]
    assert (named["action"], named["account"], named["holder_name"]) == (
        "approved",
        account["username"],
        "Phan Thị Duyệt",
    )
    # The sender's personal account has no holder to name.
    assert [(t["account"], t["holder_name"]) for t in earlier] == [(ABOVE, None), (ABOVE, None)]


async def test_one_person_does_not_approve_with_a_purpose_account_what_they_sent_with_their_own(
    system: System,
) -> None:
    """Phan Thị Duyệt holds the branch head's purpose account and has a personal admin account of
    the branch, linked to her record. What she sends with her own account, the head's account does
    not approve, nor wait for: it is hers too. The sector's HR approves it."""
    units = await _branch(system, "C1<P")
    account, unit_path = await _head_account(system, units["P"])
    head_token, personal_id = await _hand_to(system, account, units["P"], "Phan Thị Duyệt", "1982-07-09")
    own = Account(
        f"duyet{unique_code('')[-6:]}".lower(),
        "Hợp lệ 2026 @",
        "local-admin",
        unit_path,
        "Phan Thị Duyệt",
        (),
        personal_id,
    )
    await asyncio.to_thread(ensure_user, system.infra.keycloak_admin("qlcb"), own)
    own_token = await asyncio.to_thread(password_token, system.infra.keycloak.base_url, own.username, own.password)
    period = await _open(system, await _regime(system, units["P"]), "2027-03")
    report = (await _assignments(system, period["period"]["id"]))[units["C1"]]
    async with (
        api_client(system.gateway_url, own_token) as mine,
        api_client(system.gateway_url, head_token) as head,
        _as(system, ISSUER) as issuer,
    ):
        await _send(mine, report)
        # The head's account returns it: once its step names her, reports knows whose account it is.
        returned = await _step(head, report, "return", reason="Thiếu số liệu đào tạo")
        assert returned.status_code == 200, returned.text

        async def last_step() -> dict[str, Any]:
            step: dict[str, Any] = (await _detail(issuer, report))["transitions"][-1]
            return step

        await eventually(last_step, lambda t: t["holder_name"] == "Phan Thị Duyệt", timeout=30, what="the holder")
        await _send(mine, report)
        assert report["id"] not in (await _waiting(head))[1], "what she sent waits not for her other account"
        refused = await _step(head, report, "approve")
        assert refused.status_code == 403, refused.text
        assert "bằng một tài khoản khác không tự duyệt" in refused.json()["detail"]["message"]
        assert report["id"] in (await _waiting(issuer))[1]
        approved = await _step(issuer, report, "approve")
        assert approved.status_code == 200, approved.text


async def test_a_step_keeps_who_held_the_account_when_a_hand_over_follows_the_same_day(system: System) -> None:
    """Duyệt returns a report with the head's account in the morning and hands the account to Lý Thị Kế
    later that day, who approves the report sent again: each step names who took it. Looked up by the
    day, both would have named Kế, who holds the account that day."""
    units = await _branch(system, "C1<P")
    account, _ = await _head_account(system, units["P"])
    first, _ = await _hand_to(system, account, units["P"], "Phan Thị Duyệt", "1982-07-09")
    period = await _open(system, await _regime(system, units["P"]), "2027-02")
    report = (await _assignments(system, period["period"]["id"]))[units["C1"]]
    async with _as(system, ABOVE) as api:

        async def steps() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = (await _detail(api, report))["transitions"]
            return found

        await _send(api, report)
        async with api_client(system.gateway_url, first) as head:
            returned = await _step(head, report, "return", reason="Thiếu số liệu đào tạo")
            assert returned.status_code == 200, returned.text
        await eventually(steps, lambda t: t[-1]["holder_name"] == "Phan Thị Duyệt", timeout=30, what="Duyệt named")
        # Duyệt has held it for a week (moved back in identity: a hand-over is only recorded on its
        # day), so that it may be handed on today.
        await handed_over_on(system, account["id"], date.fromisoformat(handover_day()) - timedelta(days=7))
        second, _ = await _hand_to(system, account, units["P"], "Lý Thị Kế", "1990-01-02")
        await _send(api, report)
        async with api_client(system.gateway_url, second) as head:
            approved = await _step(head, report, "approve")
            assert approved.status_code == 200, approved.text
        named = await eventually(
            steps, lambda t: t[-1]["holder_name"] == "Lý Thị Kế", timeout=30, what="Kế named for the approval"
        )
    by_action = {t["action"]: t["holder_name"] for t in named if t["account"] == account["username"]}
    assert by_action == {"returned": "Phan Thị Duyệt", "approved": "Lý Thị Kế"}


async def test_the_demo_leaves_a_periodic_regime_with_reports_in_every_state(system: System) -> None:
    """What `make up` seeds (`qlcb_devstack.report_seed`), on the suite's demo organisation."""
    code = await asyncio.to_thread(
        seed_reports, system.gateway_url, system.infra.keycloak.base_url, system.unit_ids, today=today()
    )
    async with _as(system, "lanhdaovu") as viewer:
        regime = next(r for r in (await viewer.get("/v1/report-regimes")).json() if r["code"] == code)
        assert (regime["kind"], regime["frequency"]) == ("periodic", "month")
    async with _as(system, ABOVE) as api:
        listed = await api.get(f"/v1/report-regimes/{regime['id']}/periods")
        assert listed.status_code == 200, listed.text
        current, older = listed.json()
        states = {r["state"] for r in (await _assignments(system, current["id"], ABOVE)).values()}
        late = await api.get(
            f"/v1/report-periods/{older['id']}/completeness", params={"unit_id": system.unit_ids["HQHN"]}
        )
    assert {"not_started", "draft", "submitted", "returned", "approved"} <= states
    # Two months ago: every report of Hà Nội's subtree is overdue but the one its issuer unlocked and
    # Nội Bài sent late.
    assert older["deadline"] < today().isoformat() < current["deadline"]
    overdue = {r["unit_id"] for r in late.json()["overdue"]}
    assert system.unit_ids["HQHN-NB"] not in overdue
    assert {system.unit_ids[c] for c in ("HQHN", "HQHN-BHN", "HQHN-GT", "HQHN-DT")} <= overdue
    assert (late.json()["total"]["submitted"], late.json()["total"]["on_time"]) == (1, 0)
