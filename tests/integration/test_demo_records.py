"""The demo generator's records are what personnel accepts (issue 8.6): for each section it fills,
a generated person holding it is recorded whole through the API, every entry as generated, and the
whole record then holds each of them. The suite's own seeding records only a dozen people, most of
whom hold none of the rarer sections."""

from __future__ import annotations

from qlcb_common.record_sections import SECTIONS
from qlcb_devstack import demo, records
from tests.support import System, api_client, person_body

NOT_GENERATED = {"honorary_titles"}
"""Sections the demo leaves empty: no customs officer of the demo holds a title of the State."""


async def test_a_generated_person_holding_each_section_is_recorded_as_generated(system: System) -> None:
    chosen: dict[str, demo.DemoPerson] = {}
    for person in demo.personnel(2000):
        for section in {e.section for e in records.sections(person)}:
            chosen.setdefault(section, person)
    assert set(chosen) == {s.name for s in SECTIONS} - NOT_GENERATED

    async with api_client(system.gateway_url, system.token("quantri")) as api:
        for person in {p.personal_id: p for p in chosen.values()}.values():
            # A fresh personal id and staff number: the suite's seeding may hold this very person.
            body = person_body(system.unit_ids[person.unit_code], person.full_name, sex=person.sex)
            created = await api.post("/v1/persons", json=body | {"date_of_birth": person.date_of_birth.isoformat()})
            assert created.status_code == 201, created.text
            person_id = created.json()["id"]
            entries = [{"section": e.section, **e.body} for e in records.sections(person)]
            recorded = await api.post(f"/v1/persons/{person_id}/record", json={"entries": entries})
            assert recorded.status_code == 201, (person.full_name, recorded.text)
            whole = (await api.get(f"/v1/persons/{person_id}/record", params={"as_of": "2026-07-01"})).json()
            held = {(section, e["valid_from"]) for section, found in whole["sections"].items() for e in found}
            current = {
                (e.section, e.body.get("valid_from"))
                for e in records.sections(person)
                if e.body.get("valid_to") is None or e.body["valid_to"] >= "2026-07-01"
            }
            assert current <= held, (person.full_name, current - held)
