"""The sector HR (Vụ Tổ chức cán bộ) writes "records resulting from its own decisions for any unit"
(the domain's tier table, 001 Điều 6.1.b), and a Cục Hải quan tỉnh keeps its own staff's records (001
Điều 6.2). In Hà Nội's records the sector HR writes what a decision of Tổng cục Hải quan decided, and
nothing else: another body's decision or none is refused, one entry, a batch, a correction, a
retraction, a decision and an import alike, with nothing written. In a department of the General
Department it writes every entry, and Hà Nội's admin writes its own records as before."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests.support import System, api_client, person_body, unique_code

pytestmark = pytest.mark.integration

SECTOR = {"number": "31/QĐ-TCHQ", "date": "2025-01-10", "body": "Tổng cục Hải quan"}
LOCAL = {"number": "12/QĐ-HQHN", "date": "2025-01-10", "body": "Cục Hải quan thành phố Hà Nội"}
FATHER = {"side": "BAN_THAN", "relation": "Bố", "full_name": "Ngô Văn Cha", "birth_year": 1950}
MOVE = {"unit_name": "Chi cục Hải quan Nội Bài", "post": "Kiểm tra viên"}
KEEPER = "Hồ sơ cán bộ thuộc Cục Hải quan thành phố Hà Nội do đơn vị đó cập nhật"


def _reward(decision: dict[str, str], day: str = "2025-01-15") -> dict[str, Any]:
    return {
        "values": {"form": "LDTT", "reason": "Hoàn thành xuất sắc nhiệm vụ"},
        "valid_from": day,
        "decision": decision,
    }


async def _person(api: httpx.AsyncClient, unit_id: str, name: str) -> tuple[str, str]:
    """The new person's id and personal id."""
    created = await api.post("/v1/persons", json=person_body(unit_id, name, born="1980-03-04"))
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["personal_id"]


async def _listed(api: httpx.AsyncClient, person_id: str, section: str) -> list[dict[str, Any]]:
    listed = await api.get(f"/v1/persons/{person_id}/{section}")
    assert listed.status_code == 200, listed.text
    found: list[dict[str, Any]] = listed.json()
    return found


def _refusal(answer: httpx.Response) -> str:
    assert answer.status_code == 403, answer.text
    message: str = answer.json()["detail"]["message"]
    return message


async def _imported(api: httpx.AsyncClient, personal_id: str, decision: dict[str, str]) -> httpx.Response:
    """The rewards import of one row for that person, in the columns of its own template."""
    template = await api.get("/v1/imports/templates/rewards", params={"format": "csv"})
    assert template.status_code == 200, template.text
    header = next(csv.reader(io.StringIO(template.content.decode("utf-8-sig"))))
    given = {"Số định danh cá nhân": personal_id, "Ngày": "2025-03-01", "Hình thức khen thưởng": "LDTT"}
    given |= {"Số quyết định": decision["number"], "Cơ quan quyết định": decision["body"]}
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, [given.get(column, "") for column in header]])
    return await api.post(
        "/v1/imports/rewards",
        params={"dry_run": "false"},
        content=("\ufeff" + buffer.getvalue()).encode(),
        headers={"Content-Type": "text/csv"},
    )


def _decision(body: str, person_id: str) -> dict[str, Any]:
    return {
        "kind": "reward",
        "number": f"{unique_code('')[-6:]}/QĐ-KT",
        "decision_date": "2025-04-01",
        "effective_date": "2025-04-02",
        "summary": "Khen thưởng",
        "body": body,
        "signer": "Nguyễn Văn Ký",
        "signer_post": "Thủ trưởng",
        "items": [{"person_id": person_id, "values": {"form": "LDTT"}}],
    }


async def test_the_sector_hr_writes_into_a_provincial_departments_records_only_what_the_sector_decided(
    system: System,
) -> None:
    async with (
        api_client(system.gateway_url, system.token("qthanoi")) as hanoi,
        api_client(system.gateway_url, system.token("vutccb")) as sector,
    ):
        person, personal_id = await _person(hanoi, system.unit_ids["HQHN-NB"], "Ngô Thị Hà")
        local = await hanoi.post(f"/v1/persons/{person}/rewards", json=_reward(LOCAL, "2024-06-01"))
        assert local.status_code == 201, local.text
        own_family = await hanoi.post(f"/v1/persons/{person}/family", json={"values": FATHER})
        assert own_family.status_code == 201, own_family.text

        # What the sector decided, it records.
        decided = await sector.post(f"/v1/persons/{person}/rewards", json=_reward(SECTOR))
        assert decided.status_code == 201, decided.text

        # Another body's decision, or none, it does not.
        another = _refusal(await sector.post(f"/v1/persons/{person}/rewards", json=_reward(LOCAL, "2025-02-01")))
        assert another.startswith(KEEPER), another
        assert "cơ quan ban hành là Tổng cục Hải quan" in another
        family = {"values": FATHER | {"relation": "Mẹ", "full_name": "Đỗ Thị Mẹ", "birth_year": 1952}}
        assert KEEPER in _refusal(await sector.post(f"/v1/persons/{person}/family", json=family))
        # A placement may cite no decision; written by the sector HR here, it must cite one by number.
        unnumbered = {"values": MOVE, "valid_from": "2025-02-02", "decision": {"body": "Tổng cục Hải quan"}}
        assert KEEPER in _refusal(await sector.post(f"/v1/persons/{person}/placements", json=unnumbered))
        batch = {"entries": [{"section": "rewards", **_reward(SECTOR, "2025-05-01")}, {"section": "family", **family}]}
        assert _refusal(await sector.post(f"/v1/persons/{person}/record", json=batch)).startswith("entries[1]: ")

        # Nor does it correct or withdraw what Hà Nội decided.
        theirs = local.json()
        corrected = await sector.put(
            f"/v1/persons/{person}/rewards/{theirs['entry_id']}",
            json=_reward(SECTOR, "2024-06-01"),
            headers={"If-Match": f'"{theirs["version"]}"'},
        )
        assert _refusal(corrected).startswith(f"Mục {theirs['entry_id']}: {KEEPER}")
        withdrawn = await sector.delete(
            f"/v1/persons/{person}/rewards/{theirs['entry_id']}", headers={"If-Match": f'"{theirs["version"]}"'}
        )
        assert KEEPER in _refusal(withdrawn)

        # Its own it corrects, the body written in other letters; turning it into another's is refused.
        mine = decided.json()
        rewritten = _reward(SECTOR | {"body": "  tổng cục   HẢI QUAN "})
        rewritten["values"]["reason"] = "Hoàn thành xuất sắc nhiệm vụ năm 2024"
        fixed = await sector.put(
            f"/v1/persons/{person}/rewards/{mine['entry_id']}", json=rewritten, headers={"If-Match": '"1"'}
        )
        assert fixed.status_code == 200, fixed.text
        stolen = await sector.put(
            f"/v1/persons/{person}/rewards/{mine['entry_id']}", json=_reward(LOCAL), headers={"If-Match": '"2"'}
        )
        assert KEEPER in _refusal(stolen)

        # A decision of Hà Nội's names the person: refused, naming the item; the sector's is recorded.
        refused = _refusal(await sector.post("/v1/decisions", json=_decision(LOCAL["body"], person)))
        assert refused.startswith(f"items[0].person_id: {KEEPER}"), refused
        issued = await sector.post("/v1/decisions", json=_decision("Tổng cục Hải quan", person))
        assert issued.status_code == 201, issued.text

        # An import row citing Hà Nội's decision is a fault on its issuing body's column.
        imported = await _imported(sector, personal_id, LOCAL)
        assert imported.status_code == 422, imported.text
        [fault] = imported.json()["detail"]
        assert fault["loc"][-1] == "Cơ quan quyết định", fault
        assert KEEPER in fault["msg"], fault

        rewards = await _listed(hanoi, person, "rewards")
        assert sorted((r["valid_from"], r["decision"]["body"]) for r in rewards) == [
            ("2024-06-01", "Cục Hải quan thành phố Hà Nội"),
            ("2025-01-15", "tổng cục HẢI QUAN"),
            ("2025-04-02", "Tổng cục Hải quan"),
        ], "nothing refused was written"
        assert [f["values"]["full_name"] for f in await _listed(hanoi, person, "family")] == ["Ngô Văn Cha"]
        assert await _listed(hanoi, person, "placements") == []


async def test_the_sector_hr_writes_every_entry_of_a_general_department_units_records(system: System) -> None:
    async with (
        api_client(system.gateway_url, system.token("quantri")) as admin,
        api_client(system.gateway_url, system.token("vutccb")) as sector,
    ):
        person, _ = await _person(admin, system.unit_ids["VPC"], "Lê Văn Pháp")
        family = await sector.post(f"/v1/persons/{person}/family", json={"values": FATHER})
        assert family.status_code == 201, family.text
        reward = await sector.post(f"/v1/persons/{person}/rewards", json=_reward(LOCAL | {"body": "Vụ Pháp chế"}))
        assert reward.status_code == 201, reward.text
