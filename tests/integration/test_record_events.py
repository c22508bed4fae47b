"""Every change of a record travels as an event (issue 8.5), so that identity and reports follow:
an entry recorded, corrected and retracted gives three `record.changed` events on personnel's
stream, in that order, each naming the person, the section, the entry and its version, with the
version's values, dates and decision, and the coded values' statistical groups."""

from __future__ import annotations

import json

import nats
from nats.js.api import DeliverPolicy

from qlcb.personnel.v1 import events_pb2
from qlcb_common.events import streams, subjects
from qlcb_common.events.envelope import parse, unpack
from tests.support import System, api_client, person_body

WAIT_SECONDS = 30.0


async def test_an_entry_recorded_corrected_and_retracted_is_told_three_times_with_its_section_and_version(
    system: System,
) -> None:
    user, password = system.infra.nats.credentials("ops")
    nc = await nats.connect(system.infra.nats.url, user=user, password=password, allow_reconnect=False)
    try:
        following = await nc.jetstream().subscribe(
            subjects.PERSONNEL_RECORD_CHANGED,
            stream=streams.PERSONNEL.name,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )
        async with api_client(system.gateway_url, system.token("qthanoi")) as api:
            created = await api.post(
                "/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Quách Văn Sự", born="1984-02-02")
            )
            assert created.status_code == 201, created.text
            person = created.json()["id"]
            salary = f"/v1/persons/{person}/salary"
            decision = {"number": "21/QĐ-HQHN", "date": "2019-12-20"}
            values = {"rank_code": "01.003", "step": 3, "coefficient": "3.00"}
            added = await api.post(salary, json={"values": values, "valid_from": "2020-01-01", "decision": decision})
            assert added.status_code == 201, added.text
            entry = added.json()["entry_id"]
            fixed = {"values": values, "valid_from": "2020-02-01"}  # the start was wrong
            corrected = await api.put(
                f"{salary}/{entry}", json=fixed | {"decision": decision}, headers={"If-Match": '"1"'}
            )
            assert corrected.status_code == 200, corrected.text
            retracted = await api.delete(f"{salary}/{entry}", headers={"If-Match": '"2"'})
            assert retracted.status_code == 200, retracted.text

        told: list[events_pb2.RecordEntryChanged] = []
        while len(told) < 3:
            message = await following.next_msg(timeout=WAIT_SECONDS)
            changed = unpack(parse(message.data), events_pb2.RecordEntryChanged)
            if changed.person_id == person:
                told.append(changed)
        await following.unsubscribe()
    finally:
        await nc.close()

    assert [(c.entry.section, c.entry.entry_id, c.entry.version, c.entry.change) for c in told] == [
        ("salary", entry, 1, "recorded"),
        ("salary", entry, 2, "corrected"),
        ("salary", entry, 3, "retracted"),
    ]
    recorded, corrected_event, _ = told
    assert (recorded.entry.valid_from, corrected_event.entry.valid_from) == ("2020-01-01", "2020-02-01")
    assert json.loads(recorded.entry.values_json)["rank_code"] == "01.003"
    assert (recorded.entry.decision.number, recorded.entry.decision.date) == ("21/QĐ-HQHN", "2019-12-20")
    assert recorded.personal_id == created.json()["personal_id"]
    [rank] = [c for c in recorded.coded if c.catalog == "ranks"]
    assert (rank.code, rank.stat_group) == ("01.003", "CV")
