"""Honorary titles of the State (danh hiệu vinh dự nhà nước, Luật Thi đua, khen thưởng 2022 Điều 59;
issue 8.1): conferred by a decision naming one or many people, held in their own section with the
decision, printed as item 19 of the resume above any emulation title, and gone again with the
decision's cancellation. An unknown title, the same title twice and a writer without the rewards
section (directly or through a decision) are refused, with nothing written."""

from __future__ import annotations

from typing import Any

from tests.integration.test_decisions import _decision, _person
from tests.support import System, api_client, unique_code

CONFERRED = "2023-11-20"


async def _item_19(api: Any, person: str, **params: str) -> str:
    resume = await api.get(f"/v1/persons/{person}/resume", params={"format": "json", **params})
    assert resume.status_code == 200, resume.text
    text: str = next(item["text"] for item in resume.json()["items"] if item["number"] == "19")
    return text


async def test_a_title_conferred_by_decision_stands_in_the_record_and_heads_item_19(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        teacher = await _person(api, system, "Đoàn Thị Giảng")
        doctor = await _person(api, system, "Lưu Văn Thuốc")
        emulation = {"values": {"form": "CSTD_TQ"}, "valid_from": "2024-04-01"}
        emulation |= {"decision": {"number": "88/QĐ-TTg", "date": "2024-03-25"}}
        assert (await api.post(f"/v1/persons/{teacher}/rewards", json=emulation)).status_code == 201
        assert await _item_19(api, teacher) == "Chiến sĩ thi đua toàn quốc, năm 2024"

        items = [
            {"person_id": teacher, "values": {"title": "NGUT"}},
            {"person_id": doctor, "values": {"title": "TTUT", "note": "Đợt phong tặng lần thứ 14"}},
        ]
        created = await api.post("/v1/decisions", json=_decision("honorary_title", CONFERRED, items))
        assert created.status_code == 201, created.text
        decision = created.json()
        assert decision["state"] == "applied"

        held = (await api.get(f"/v1/persons/{teacher}/honorary_titles")).json()
        assert [(e["values"]["title"], e["valid_from"], e["decision"]["number"]) for e in held] == [
            ("NGUT", CONFERRED, decision["number"])
        ]
        whole = (await api.get(f"/v1/persons/{doctor}/record")).json()["sections"]["honorary_titles"]
        assert [e["values"]["title"] for e in whole] == ["TTUT"]
        assert await _item_19(api, teacher) == "Nhà giáo ưu tú, năm 2023", "a title of the State outranks CSTĐ"
        assert await _item_19(api, doctor) == "Thầy thuốc ưu tú, năm 2023"
        before = (
            await api.get(f"/v1/persons/{teacher}/resume", params={"format": "json", "as_of": "2023-11-19"})
        ).json()
        assert next(i["text"] for i in before["items"] if i["number"] == "19") == "", "not yet conferred that day"

        cancel = {"reason": "Ban hành nhầm", "cancel_number": f"{unique_code('H')[-6:]}/QĐ-HQHN"}
        cancelled = await api.post(f"/v1/decisions/{decision['id']}/cancel", json=cancel, headers={"If-Match": '"1"'})
        assert cancelled.status_code == 200, cancelled.text
        assert (await api.get(f"/v1/persons/{doctor}/honorary_titles")).json() == []
        assert await _item_19(api, teacher) == "Chiến sĩ thi đua toàn quốc, năm 2024"


async def test_an_unknown_title_the_same_title_twice_and_a_writer_without_the_section_are_refused(
    system: System,
) -> None:
    entry = {"values": {"title": "NGUT"}, "valid_from": CONFERRED}
    entry |= {"decision": {"number": "1650/QĐ-CTN", "date": "2023-11-15", "body": "Chủ tịch nước"}}
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Đoàn Văn Danh")
        url = f"/v1/persons/{person}/honorary_titles"

        unknown = await api.post(url, json=entry | {"values": {"title": "GS"}})
        assert unknown.status_code == 422, unknown.text
        assert "values.title" in {".".join(map(str, i["loc"][1:])) for i in unknown.json()["detail"]}
        assert (await api.get(url)).json() == []

        first = await api.post(url, json=entry)
        assert first.status_code == 201, first.text
        again = await api.post(url, json=entry | {"valid_from": "2024-11-20"})
        assert again.status_code == 409, again.text
        assert first.json()["entry_id"] in again.text, "the refusal names the entry already holding the title"

        higher = await api.post(url, json=entry | {"values": {"title": "NGND"}, "valid_from": "2025-11-20"})
        assert higher.status_code == 201, "a higher title later is a second entry"

    async with api_client(system.gateway_url, system.token("nhansu1.hanoi")) as officer:
        refused = await officer.post(url, json=entry | {"values": {"title": "NSUT"}})
        assert refused.status_code == 403, refused.text
        # Nor through a decision: a decision writes each person's section with the section's rights.
        conferring = _decision("honorary_title", CONFERRED, [{"person_id": person, "values": {"title": "NSUT"}}])
        by_decision = await officer.post("/v1/decisions", json=conferring)
        assert by_decision.status_code == 403, by_decision.text
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        assert sorted(e["values"]["title"] for e in (await api.get(url)).json()) == ["NGND", "NGUT"]
