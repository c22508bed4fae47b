"""An HQ unit (Cục Điều tra chống buôn lậu) records the moves within the unit of its people who lead
none of it (the domain's tier table). A placement of a person holding a leadership post is refused to
that tier, one entry, a batch, a decision or an import alike, with nothing written; the unit's administration
above records it, and once the post is left the HQ unit may again. Nor does the HQ unit place anyone in
a leadership post by a placement: that is an appointment, the administration's to record; and whoever
such a placement made a leader, it moves no more."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest

from qlcb_common.days import vietnam_today
from tests.support import System, api_client, person_body, unique_code

pytestmark = pytest.mark.integration

HQ_UNIT = "cucdtcbl"
DECISION = {"number": "15/QĐ-TCHQ", "date": "2024-02-20", "body": "Tổng cục Hải quan"}
MOVE = {"unit_name": "Phòng Điều tra số 2", "post": "Điều tra viên"}


async def _person(api: httpx.AsyncClient, system: System, name: str) -> tuple[str, str]:
    """The new person's id and personal id."""
    created = await api.post("/v1/persons", json=person_body(system.unit_ids["CDTCBL"], name, born="1978-05-02"))
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["personal_id"]


async def _imported(api: httpx.AsyncClient, personal_id: str, move: dict[str, str] = MOVE) -> httpx.Response:
    """The placements import of one row moving that person, in the columns of its own template."""
    template = await api.get("/v1/imports/templates/placements", params={"format": "csv"})
    assert template.status_code == 200, template.text
    header = next(csv.reader(io.StringIO(template.content.decode("utf-8-sig"))))
    given = {"Số định danh cá nhân": personal_id, "Từ ngày": "2026-01-05"}
    given |= {"Cơ quan, đơn vị": move["unit_name"], "Chức danh, chức vụ": move["post"]}
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, [given.get(column, "") for column in header]])
    return await api.post(
        "/v1/imports/placements",
        params={"dry_run": "false"},
        content=("\ufeff" + buffer.getvalue()).encode(),
        headers={"Content-Type": "text/csv"},
    )


def _appointment(since: str) -> dict[str, Any]:
    values = {"kind": "BO_NHIEM", "post": "Phó Cục trưởng", "post_code": "PHO_CUC_TRUONG", "term_months": 60}
    return {"values": values | {"unit_name": "Cục Điều tra chống buôn lậu"}, "valid_from": since, "decision": DECISION}


async def _placements(api: httpx.AsyncClient, person_id: str) -> list[dict[str, Any]]:
    listed = await api.get(f"/v1/persons/{person_id}/placements")
    assert listed.status_code == 200, listed.text
    found: list[dict[str, Any]] = listed.json()
    return found


async def test_an_hq_unit_moves_its_staff_but_not_a_leader_until_the_post_is_left(system: System) -> None:
    async with (
        api_client(system.gateway_url, system.token("quantri")) as admin,
        api_client(system.gateway_url, system.token(HQ_UNIT)) as unit,
    ):
        officer, _ = await _person(admin, system, "Trương Văn Điều")
        leader, leader_id_number = await _person(admin, system, "Hoàng Thị Lãnh")
        appointed = await admin.post(f"/v1/persons/{leader}/appointments", json=_appointment("2024-03-01"))
        assert appointed.status_code == 201, appointed.text

        moved = await unit.post(f"/v1/persons/{officer}/placements", json={"values": MOVE, "valid_from": "2026-01-05"})
        assert moved.status_code == 201, moved.text

        one = await unit.post(f"/v1/persons/{leader}/placements", json={"values": MOVE, "valid_from": "2026-01-05"})
        assert one.status_code == 403, one.text
        reason = one.json()["detail"]["message"]
        assert "không giữ chức vụ lãnh đạo" in reason
        assert "Hoàng Thị Lãnh đang giữ chức vụ Phó Cục trưởng (bổ nhiệm từ 01/03/2024)" in reason
        batch = {"entries": [{"section": "placements", "values": MOVE, "valid_from": "2026-01-05"}]}
        assert (await unit.post(f"/v1/persons/{leader}/record", json=batch)).status_code == 403
        decision = {
            "kind": "placement",
            "number": f"{unique_code('Q')[-6:]}/QĐ-ĐTCBL",
            "decision_date": "2026-01-02",
            "effective_date": "2026-01-05",
            "summary": "Điều động trong Cục",
            "body": "Cục Điều tra chống buôn lậu",
            "signer": "Nguyễn Văn Ký",
            "signer_post": "Cục trưởng",
            "items": [{"person_id": p, "values": MOVE} for p in (officer, leader)],
        }
        refused = await unit.post("/v1/decisions", json=decision)
        assert refused.status_code == 403, refused.text
        assert "items[1].person_id" in refused.json()["detail"]["message"]
        imported = await _imported(unit, leader_id_number)
        assert imported.status_code == 422, imported.text
        assert ["không giữ chức vụ lãnh đạo" in fault["msg"] for fault in imported.json()["detail"]] == [True]
        assert await _placements(admin, leader) == [], "nothing written"
        assert len(await _placements(admin, officer)) == 1, "the decision wrote nothing for the officer either"

        # The administration above records it.
        above = await admin.post(f"/v1/persons/{leader}/placements", json={"values": MOVE, "valid_from": "2026-01-05"})
        assert above.status_code == 201, above.text

        # Once the post is left, the HQ unit records the moves again.
        [held] = (await admin.get(f"/v1/persons/{leader}/appointments")).json()
        ended = await admin.put(
            f"/v1/persons/{leader}/appointments/{held['entry_id']}",
            json=_appointment("2024-03-01") | {"valid_to": "2025-12-31"},
            headers={"If-Match": f'"{held["version"]}"'},
        )
        assert ended.status_code == 200, ended.text
        later = await unit.post(f"/v1/persons/{leader}/placements", json={"values": MOVE, "valid_from": "2026-06-01"})
        assert later.status_code == 201, later.text


async def test_an_hq_unit_does_not_place_anyone_in_a_leadership_post(system: System) -> None:
    head = {"unit_name": "Phòng Điều tra số 2", "post": "Phó  trưởng phòng"}
    async with (
        api_client(system.gateway_url, system.token("quantri")) as admin,
        api_client(system.gateway_url, system.token(HQ_UNIT)) as unit,
    ):
        officer, personal_id = await _person(admin, system, "Đinh Văn Phòng")
        placed = await unit.post(f"/v1/persons/{officer}/placements", json={"values": MOVE, "valid_from": "2026-01-05"})
        assert placed.status_code == 201, placed.text

        one = await unit.post(f"/v1/persons/{officer}/placements", json={"values": head, "valid_from": "2026-02-01"})
        assert one.status_code == 403, one.text
        assert "“Phó trưởng phòng” là chức vụ lãnh đạo" in one.json()["detail"]["message"]
        batch = {"entries": [{"section": "placements", "values": head, "valid_from": "2026-02-01"}]}
        batched = await unit.post(f"/v1/persons/{officer}/record", json=batch)
        assert batched.status_code == 403, batched.text
        assert batched.json()["detail"]["message"].startswith("entries[0]: ")
        corrected = await unit.put(
            f"/v1/persons/{officer}/placements/{placed.json()['entry_id']}",
            json={"values": MOVE | {"post": "Đội trưởng"}, "valid_from": "2026-01-05"},
            headers={"If-Match": '"1"'},
        )
        assert corrected.status_code == 403, corrected.text
        decision = {
            "kind": "placement",
            "number": f"{unique_code('Q')[-6:]}/QĐ-ĐTCBL",
            "decision_date": "2026-01-30",
            "effective_date": "2026-02-01",
            "summary": "Điều động trong Cục",
            "body": "Cục Điều tra chống buôn lậu",
            "signer": "Nguyễn Văn Ký",
            "signer_post": "Cục trưởng",
            "items": [{"person_id": officer, "values": head}],
        }
        refused = await unit.post("/v1/decisions", json=decision)
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"]["message"].startswith("items[0].person_id: ")
        imported = await _imported(unit, personal_id, head)
        assert imported.status_code == 422, imported.text
        [fault] = imported.json()["detail"]
        assert fault["loc"][-1] == "Chức danh, chức vụ", fault
        assert "là chức vụ lãnh đạo" in fault["msg"], fault
        assert [p["values"]["post"] for p in await _placements(admin, officer)] == ["Điều tra viên"], "nothing written"

        # The administration above records it.
        above = await admin.post(f"/v1/persons/{officer}/placements", json={"values": head, "valid_from": "2026-02-01"})
        assert above.status_code == 201, above.text

        # Leading by that placement, with no appointment on record, the officer is no longer the unit's to move.
        back = await unit.post(f"/v1/persons/{officer}/placements", json={"values": MOVE, "valid_from": "2026-06-01"})
        assert back.status_code == 403, back.text
        assert (
            "Đinh Văn Phòng đang giữ chức vụ Phó trưởng phòng (theo quá trình công tác từ 01/02/2026)"
            in back.json()["detail"]["message"]
        )


async def test_an_hq_unit_neither_ends_nor_brings_back_a_leaders_placement(system: System) -> None:
    """A placement the HQ unit adds may not close a leader's placement that starts later; retracting
    the administration's placement, or cancelling its decision, may not reopen the leader's one it
    closed. Refused, nothing written."""
    ahead = vietnam_today() + timedelta(days=30)
    head = {"unit_name": "Phòng Điều tra số 2", "post": "Trưởng phòng"}
    async with (
        api_client(system.gateway_url, system.token("quantri")) as admin,
        api_client(system.gateway_url, system.token(HQ_UNIT)) as unit,
    ):
        future, _ = await _person(admin, system, "Mạc Văn Sắp")
        named = await admin.post(
            f"/v1/persons/{future}/placements", json={"values": head, "valid_from": ahead.isoformat()}
        )
        assert named.status_code == 201, named.text
        later = (ahead + timedelta(days=30)).isoformat()
        closing = await unit.post(f"/v1/persons/{future}/placements", json={"values": MOVE, "valid_from": later})
        assert closing.status_code == 403, closing.text
        assert f"Mục {named.json()['entry_id']}: " in closing.json()["detail"]["message"]
        assert [(p["values"]["post"], p["valid_to"]) for p in await _placements(admin, future)] == [
            ("Trưởng phòng", None)
        ]

        former, _ = await _person(admin, system, "Lưu Văn Cựu")
        led = await admin.post(f"/v1/persons/{former}/placements", json={"values": head, "valid_from": "2020-01-01"})
        assert led.status_code == 201, led.text
        moved = await admin.post(f"/v1/persons/{former}/placements", json={"values": MOVE, "valid_from": "2023-01-01"})
        assert moved.status_code == 201, moved.text
        withdrawn = await unit.delete(
            f"/v1/persons/{former}/placements/{moved.json()['entry_id']}", headers={"If-Match": '"1"'}
        )
        assert withdrawn.status_code == 403, withdrawn.text
        assert "“Trưởng phòng” là chức vụ lãnh đạo" in withdrawn.json()["detail"]["message"]

        decided, _ = await _person(admin, system, "Tạ Văn Quyết")
        led = await admin.post(f"/v1/persons/{decided}/placements", json={"values": head, "valid_from": "2020-01-01"})
        assert led.status_code == 201, led.text
        decision = {
            "kind": "placement",
            "number": f"{unique_code('Q')[-6:]}/QĐ-TCHQ",
            "decision_date": "2022-12-20",
            "effective_date": "2023-01-01",
            "summary": "Điều động",
            "body": "Tổng cục Hải quan",
            "signer": "Nguyễn Văn Ký",
            "signer_post": "Tổng cục trưởng",
            "items": [{"person_id": decided, "values": MOVE}],
        }
        made = await admin.post("/v1/decisions", json=decision)
        assert made.status_code == 201, made.text
        cancelled = await unit.post(
            f"/v1/decisions/{made.json()['id']}/cancel",
            json={"reason": "Ban hành nhầm"},
            headers={"If-Match": f'"{made.json()["version"]}"'},
        )
        assert cancelled.status_code == 403, cancelled.text
        assert cancelled.json()["detail"]["message"].startswith("items[0]: Mục ")

        for person in (former, decided):
            held = sorted(
                (p["valid_from"], p["values"]["post"], p["valid_to"]) for p in await _placements(admin, person)
            )
            assert [post for _, post, _ in held] == ["Trưởng phòng", "Điều tra viên"], "nothing written"
            assert held[0][2] == "2022-12-31", "the leader's placement stays closed"
