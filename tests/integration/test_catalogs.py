"""Catalogs of places and posts, read and used by date (R-PER-6, issue 8): the provinces before
and after the reorganisation of 1 July 2025, province codes in a record checked against the map
of the entry's date, leadership posts on appointments, the statutory group of every value; and
every change of a catalog made through the API published on the personnel stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import nats
import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from qlcb.personnel.v1 import events_pb2
from qlcb_common.events import streams, subjects
from qlcb_common.events.contracts import PERSONNEL_EVENTS, accept
from qlcb_common.events.envelope import unpack
from qlcb_personnel.catalogs.service import SEEDED_BY, data_files
from tests.support import System, api_client, eventually, person_body, unique_code

DECISION = {"number": "25/QĐ-HQHN", "date": "2024-03-01", "body": "Cục Hải quan TP Hà Nội"}
DETAILS = {"birthplace": "Nam Trực, Nam Định", "home_town": "Nam Định", "ethnicity": "01", "religion": "KHONG"}
RESIDENCE = {"permanent_residence": "Nam Định", "current_residence": "Ba Đình, Hà Nội"}


async def _person(api: httpx.AsyncClient, system: System, name: str) -> str:
    created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], name, born="1986-02-11"))
    assert created.status_code == 201, created.text
    person_id: str = created.json()["id"]
    return person_id


def _appointment(since: str, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"kind": "BO_NHIEM", "post": "Phó Chi cục trưởng", "term_months": 60}
    base["unit_name"] = "Chi cục Hải quan Nội Bài"
    return {"values": base | values, "valid_from": since, "decision": DECISION}


async def test_provinces_answer_as_of_a_date_with_their_group_and_the_new_province(system: System) -> None:
    async with api_client(system.gateway_url, system.token("canbo.noibai")) as anyone:
        before = (await anyone.get("/v1/catalogs/provinces", params={"as_of": "2025-06-30"})).json()
        after = (await anyone.get("/v1/catalogs/provinces", params={"as_of": "2025-07-01"})).json()
        kinds = (await anyone.get("/v1/catalogs/training_kinds")).json()
        posts = (await anyone.get("/v1/catalogs/posts", params={"as_of": "2024-01-01"})).json()
        regional = [
            {v["code"]: v for v in (await anyone.get("/v1/catalogs/posts", params={"as_of": day})).json()}
            for day in ("2025-12-31", "2026-01-01")
        ]
    assert len(before) == 63
    assert len(after) == 34
    assert [v["stat_group"] for v in after].count("THANH_PHO") == 6
    nam_dinh = {v["code"]: v for v in before}["36"]
    assert (nam_dinh["label"], nam_dinh["stat_group"], nam_dinh["valid_to"]) == ("Tỉnh Nam Định", "TINH", "2025-06-30")
    assert nam_dinh["attributes"]["merged_into"] == "37"
    assert {v["code"]: v for v in after}["37"]["attributes"]["merged_from"] == ["35", "36", "37"]
    assert "2025" in nam_dinh["legal_basis"]
    assert {v["code"]: v["stat_group"] for v in kinds}["CM"] == "CHUYEN_MON", "BM01's column group"
    chief = {v["code"]: v for v in posts}["CHI_CUC_TRUONG"]["attributes"]
    assert chief["allowance_coefficient"] is None, "not in the material"
    assert chief["allowance_coefficient_verified"] is False
    assert {v["code"]: v for v in posts}["TONG_CUC_TRUONG"]["attributes"]["allowance_coefficient"] == "1.25"
    # A regional branch's head of the Cục Hải quan: ND 07/2026's figure from the day it applies.
    before, after = (days["CHI_CUC_TRUONG_KV"] for days in regional)
    assert (before["attributes"]["allowance_coefficient"], before["valid_to"]) == (None, "2025-12-31")
    assert (after["attributes"]["allowance_coefficient"], after["valid_from"]) == ("0.60", "2026-01-01")
    assert "07/2026" in after["legal_basis"]


async def test_a_province_code_holds_on_the_dates_it_was_valid(system: System) -> None:
    """Nam Định (36) went into Ninh Bình (37) on 1 July 2025: an entry of 2024 keeps 36, one of
    2026 must say 37 and is told why 36 is refused."""
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Trần Văn Thành")
        base = f"/v1/persons/{person}"
        old = DETAILS | {"birthplace_province": "36", "home_town_province": "36"}
        in_2024 = await api.post(f"{base}/personal_details", json={"values": old, "valid_from": "2024-01-01"})
        in_2026 = await api.post(f"{base}/personal_details", json={"values": old, "valid_from": "2026-01-01"})
        renamed = DETAILS | {"birthplace_province": "37", "home_town_province": "37"}
        new = await api.post(f"{base}/personal_details", json={"values": renamed, "valid_from": "2026-01-01"})
        lived = await api.post(
            f"{base}/residences",
            json={"values": RESIDENCE | {"permanent_residence_province": "36", "current_residence_province": "01"}}
            | {"valid_from": "2024-01-01"},
        )
        appointment = _appointment("2024-03-01", post_code="pho_chi_cuc_truong")
        appointed = await api.post(f"{base}/appointments", json=appointment)
        whole = (await api.get(f"{base}/record", params={"as_of": "2024-06-01"})).json()["sections"]
        now = (await api.get(f"{base}/record", params={"as_of": "2026-06-01"})).json()["sections"]
    assert in_2024.status_code == 201, in_2024.text
    assert in_2026.status_code == 422
    refused = {item["loc"][-1]: item["msg"] for item in in_2026.json()["detail"]}
    assert refused.keys() == {"values.birthplace_province", "values.home_town_province"}
    assert "'36' không có trong danh mục provinces ngày 2026-01-01" in refused["values.birthplace_province"]
    assert new.status_code == 201, new.text
    assert lived.status_code == 201, lived.text
    assert appointed.status_code == 201, appointed.text
    assert [d["values"]["birthplace_province"] for d in whole["personal_details"]] == ["36"]
    assert [(d["values"]["birthplace_province"], d["valid_to"]) for d in now["personal_details"]] == [
        ("36", "2025-12-31"),
        ("37", None),
    ], "the entry of 2024 keeps its old code, closed by the one of 2026"
    assert whole["residences"][0]["values"]["permanent_residence_province"] == "36"
    assert whole["appointments"][0]["values"]["post_code"] == "PHO_CHI_CUC_TRUONG"


@pytest.mark.parametrize(
    ("section", "body", "field", "reason"),
    [
        (
            "personal_details",
            {"values": DETAILS | {"birthplace_province": "99"}, "valid_from": "2024-01-01"},
            "values.birthplace_province",
            "mã '99' không có trong danh mục provinces ngày 2024-01-01",
        ),
        (
            "personal_details",
            {"values": DETAILS | {"home_town_province": "36"}, "valid_from": "2026-01-01"},
            "values.home_town_province",
            "mã '36' không có trong danh mục provinces ngày 2026-01-01",
        ),
        (
            "residences",
            {"values": RESIDENCE | {"current_residence_province": "77"}, "valid_from": "2025-07-01"},
            "values.current_residence_province",
            "mã '77' không có trong danh mục provinces ngày 2025-07-01",
        ),
        (
            "appointments",
            _appointment("2024-03-01", post_code="CHUA_CO"),
            "values.post_code",
            "mã 'CHUA_CO' không có trong danh mục posts ngày 2024-03-01",
        ),
    ],
)
async def test_a_code_not_in_the_catalog_on_the_entrys_date_is_refused_naming_the_field(
    system: System, section: str, body: dict[str, Any], field: str, reason: str
) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Lê Văn Mã")
        before = (await api.get(f"/v1/persons/{person}/record")).json()["sections"]
        refused = await api.post(f"/v1/persons/{person}/{section}", json=body)
        after = (await api.get(f"/v1/persons/{person}/record")).json()["sections"]
    assert refused.status_code == 422, refused.text
    faults = {item["loc"][-1]: item["msg"] for item in refused.json()["detail"]}
    assert field in faults, faults
    assert reason in faults[field]
    assert after == before, "nothing written"


@asynccontextmanager
async def _ops(system: System) -> AsyncIterator[Client]:
    user, password = system.infra.nats.credentials("ops")
    nc = await nats.connect(system.infra.nats.url, user=user, password=password, allow_reconnect=False)
    try:
        yield nc
    finally:
        await nc.close()


async def _last_sequence(system: System) -> int:
    async with _ops(system) as nc:
        return int((await nc.jetstream().stream_info(streams.PERSONNEL.name)).state.last_seq)


async def _catalog_events(system: System, after: int = 0) -> list[tuple[str, events_pb2.CatalogValueChanged]]:
    """The catalog events on personnel's stream after sequence `after`, each with its envelope's
    actor, every one checked against its contract as a consumer checks it."""
    found: list[tuple[str, events_pb2.CatalogValueChanged]] = []
    async with _ops(system) as nc:
        js = nc.jetstream()
        sequence = after + 1
        while True:
            try:
                message = await js.get_msg(
                    streams.PERSONNEL.name, seq=sequence, subject=subjects.PERSONNEL_CATALOG_CHANGED, next=True
                )
            except NotFoundError:
                return found
            assert message.data is not None
            envelope = accept(subjects.PERSONNEL_CATALOG_CHANGED, message.data, PERSONNEL_EVENTS)
            found.append((envelope.actor, unpack(envelope, events_pb2.CatalogValueChanged)))
            sequence = int(message.seq or sequence) + 1


async def test_every_catalog_change_through_the_api_is_published_and_seeding_publishes_nothing(
    system: System,
) -> None:
    """Sector HR adds a post, gives it a new version from July (closing the first) and ends it:
    four events, in that order, each saying who; a refused change publishes nothing."""
    code, refused_code = unique_code("CV"), unique_code("CV")
    sector_hr = system.token("vutccb")
    who = jwt.decode(sector_hr, options={"verify_signature": False})["sub"]
    post = {
        "label": "Trưởng ban thí điểm",
        "valid_from": "2026-01-01",
        "legal_basis": "QĐ 12/QĐ-CHQ",
        "stat_group": "LANH_DAO",
        "attributes": {"allowance_coefficient": "0.30", "allowance_coefficient_verified": True},
    }
    start = await _last_sequence(system)
    async with api_client(system.gateway_url, sector_hr) as api:
        added = await api.put(f"/v1/catalogs/posts/{code}", json=post)
        renamed = await api.put(
            f"/v1/catalogs/posts/{code}", json=post | {"label": "Trưởng ban", "valid_from": "2026-07-01"}
        )
        ended = await api.post(f"/v1/catalogs/posts/{code}/end", json={"valid_to": "2026-12-31"})
        refused = await api.put(
            f"/v1/catalogs/posts/{refused_code}", json=post | {"attributes": {"allowance_coefficient": "nhiều"}}
        )
    assert (added.status_code, renamed.status_code, ended.status_code) == (200, 200, 200), renamed.text
    assert refused.status_code == 422
    assert [d["loc"][-1] for d in refused.json()["detail"]] == ["attributes.allowance_coefficient"]

    def ours(events: list[tuple[str, events_pb2.CatalogValueChanged]]) -> list[tuple[str, str, str, str]]:
        return [
            (e.change, e.value.label, e.value.valid_from, e.value.valid_to)
            for _, e in events
            if e.value.catalog == "posts" and e.value.code == code
        ]

    events = await eventually(
        lambda: _catalog_events(system, start),
        lambda found: len(ours(found)) == 4,
        timeout=30,
        what="the four catalog events on the stream",
    )
    assert ours(events) == [
        ("added", "Trưởng ban thí điểm", "2026-01-01", ""),
        ("closed", "Trưởng ban thí điểm", "2026-01-01", "2026-06-30"),
        ("added", "Trưởng ban", "2026-07-01", ""),
        ("ended", "Trưởng ban", "2026-07-01", "2026-12-31"),
    ]
    mine = [(actor, e) for actor, e in events if e.value.code == code]
    assert {(actor, e.changed_by) for actor, e in mine} == {(who, who)}
    assert {(e.value.stat_group, e.value.legal_basis) for _, e in mine} == {("LANH_DAO", "QĐ 12/QĐ-CHQ")}
    assert '"allowance_coefficient": "0.30"' in mine[0][1].value.attributes_json
    assert not [e for _, e in events if e.value.code == refused_code], "a refused change publishes nothing"

    every = await _catalog_events(system)
    seeded = sum(len(doc["values"]) for doc in data_files())
    assert all(actor != SEEDED_BY and e.changed_by != SEEDED_BY for actor, e in every)
    assert len(every) < seeded, "the seed of the data files published nothing"
