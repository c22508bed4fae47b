"""Decisions as documents (issue 8.4, R-PER-3): one decision names many people and writes each
one's entry with its number, date, body and signer; a future one waits for its day and the
service applies it then, all or nothing; a cancellation reverses exactly what it wrote, reopening
what it closed and giving back the statuses it changed. Raise decisions keep the salary rules: a
regular raise once the step's months are served, an early one at most 12 months before, and an
early raise moves the next regular raise."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import nats
import pytest

from qlcb.personnel.v1 import events_pb2 as personnel_events
from qlcb_common.db import Database
from qlcb_common.events import streams, subjects
from qlcb_common.events.envelope import parse, unpack
from qlcb_personnel.db_models import make_delegations, make_outbox
from qlcb_personnel.decision_documents import applier
from tests.support import System, api_client, eventually, person_body, unique_code

SIGNED = {"body": "Cục Hải quan TP Hà Nội", "signer": "Nguyễn Văn Ký", "signer_post": "Cục trưởng"}


def _today_in_vietnam() -> date:
    return datetime.now(timezone(timedelta(hours=7))).date()


def _decision(kind: str, effective: str, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return (
        {
            "kind": kind,
            "number": f"{unique_code('Q')[-6:]}/QĐ-HQHN",
            "decision_date": "2025-02-20",
            "effective_date": effective,
            "summary": f"Quyết định {kind}",
            "items": items,
        }
        | SIGNED
        | extra
    )


async def _person(api: httpx.AsyncClient, system: System, name: str, unit: str = "HQHN-NB") -> str:
    created = await api.post("/v1/persons", json=person_body(system.unit_ids[unit], name, born="1985-03-10"))
    assert created.status_code == 201, created.text
    person_id: str = created.json()["id"]
    return person_id


async def _placed(api: httpx.AsyncClient, person: str) -> None:
    placed = await api.post(
        f"/v1/persons/{person}/placements",
        json={"values": {"unit_name": "Chi cục Hải quan Nội Bài", "post": "Công chức"}, "valid_from": "2015-01-01"},
    )
    assert placed.status_code == 201, placed.text


async def _last_decision_event(system: System) -> personnel_events.DecisionChanged:
    user, password = system.infra.nats.credentials("ops")
    nc = await nats.connect(system.infra.nats.url, user=user, password=password, allow_reconnect=False)
    try:
        message = await nc.jetstream().get_last_msg(streams.PERSONNEL.name, subjects.PERSONNEL_DECISION_CHANGED)
    finally:
        await nc.close()
    assert message.data is not None
    return unpack(parse(message.data), personnel_events.DecisionChanged)


async def test_a_decision_for_many_people_applies_and_its_cancellation_reverses_it(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        people = [await _person(api, system, f"Trần Văn Điều {i}") for i in range(3)]
        for person in people:
            await _placed(api, person)
        body = _decision(
            "placement",
            "2025-03-01",
            [{"person_id": p, "values": {"unit_name": "Đội Kiểm soát Hải quan", "post": "Đội phó"}} for p in people],
        )
        created = await api.post("/v1/decisions", json=body)
        assert created.status_code == 201, created.text
        decision = created.json()
        assert (decision["state"], decision["people_total"], created.headers["ETag"]) == ("applied", 3, '"1"')
        assert all(item["entry_id"] for item in decision["items"])

        for person in people:
            placements = (await api.get(f"/v1/persons/{person}/placements")).json()
            assert [(e["valid_from"], e["valid_to"], e["values"]["post"]) for e in placements] == [
                ("2015-01-01", "2025-02-28", "Công chức"),
                ("2025-03-01", None, "Đội phó"),
            ]
            assert placements[1]["decision"] | {"date": placements[1]["decision"]["date"]} == {
                "number": body["number"],
                "date": "2025-02-20",
                **SIGNED,
            }
        listed = (await api.get(f"/v1/persons/{people[0]}/decisions")).json()
        assert [d["id"] for d in listed["items"]] == [decision["id"]]
        assert listed["next_page_token"] is None
        event = await eventually(
            lambda: _last_decision_event(system),
            lambda e: e.decision.id == decision["id"],
            timeout=30,
            what="the decision's event on the stream",
        )
        assert len(event.decision.items) == 3

        # An entry a decision made goes with the decision, not alone.
        lone = await api.delete(
            f"/v1/persons/{people[0]}/placements/{decision['items'][0]['entry_id']}", headers={"If-Match": '"1"'}
        )
        assert lone.status_code == 409, lone.text

        cancel = {"reason": "Ban hành nhầm đối tượng", "cancel_number": f"{unique_code('H')[-6:]}/QĐ-HQHN"}
        url = f"/v1/decisions/{decision['id']}/cancel"
        assert (await api.post(url, json=cancel)).status_code == 428
        racing = await asyncio.gather(
            api.post(url, json=cancel, headers={"If-Match": '"1"'}),
            api.post(url, json=cancel, headers={"If-Match": '"1"'}),
        )
        assert sorted(r.status_code for r in racing) == [200, 412], [r.text for r in racing]
        cancelled = next(r for r in racing if r.status_code == 200).json()
        assert cancelled["decision"]["state"] == "cancelled"
        assert sorted(e["change"] for e in cancelled["reversed"]) == ["retracted"] * 3

        for person in people:
            placements = (await api.get(f"/v1/persons/{person}/placements")).json()
            assert [(e["valid_from"], e["valid_to"], e["change"]) for e in placements] == [
                ("2015-01-01", None, "reopened")
            ], "the period it closed is open again"
        again = await api.post(url, json=cancel, headers={"If-Match": '"2"'})
        assert again.status_code == 409, again.text


def _raise(kind: str, person: str, effective: str, step: int, coefficient: str) -> dict[str, Any]:
    values = {"rank_code": "08.051", "step": step, "coefficient": coefficient}
    return _decision(kind, effective, [{"person_id": person, "values": values}])


async def test_raises_keep_the_salary_rules_and_an_early_raise_moves_the_next_one(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Phạm Thị Nâng")
        first = await api.post(
            f"/v1/persons/{person}/salary",
            json={
                "values": {"rank_code": "08.051", "step": 1, "coefficient": "2.34"},
                "valid_from": "2020-01-01",
                "decision": {"number": "1/QĐ-HQHN"},
            },
        )
        assert first.status_code == 201, first.text

        refused = {
            "too soon": (_raise("regular_raise", person, "2022-06-01", 2, "2.67"), "items[0].effective_date"),
            "skips a step": (_raise("regular_raise", person, "2023-01-01", 3, "3.00"), "items[0].values.step"),
            "over 12 months early": (_raise("early_raise", person, "2021-12-01", 2, "2.67"), "items[0].effective_date"),
            "early once due": (_raise("early_raise", person, "2023-02-01", 2, "2.67"), "items[0].effective_date"),
            "over frame below the last step": (
                _raise("over_frame", person, "2023-01-01", 1, "2.34"),
                "items[0].values.step",
            ),
        }
        for what, (body, field) in refused.items():
            answer = await api.post("/v1/decisions", json=body)
            assert answer.status_code == 422, (what, answer.text)
            assert field in _fields(answer), (what, answer.json())

        early = await api.post("/v1/decisions", json=_raise("early_raise", person, "2022-01-01", 2, "2.67"))
        assert early.status_code == 201, early.text
        record = (await api.get(f"/v1/persons/{person}/record")).json()
        assert record["next_regular_raise"] == "2025-01-01", "36 months from the early raise, not from 2023"
        assert (
            await api.post("/v1/decisions", json=_raise("regular_raise", person, "2024-06-01", 3, "3.00"))
        ).status_code == 422
        regular = await api.post("/v1/decisions", json=_raise("regular_raise", person, "2025-01-01", 3, "3.00"))
        assert regular.status_code == 201, regular.text
        salary = (await api.get(f"/v1/persons/{person}/salary")).json()
        assert [(e["values"]["step"], e["valid_from"], e["valid_to"]) for e in salary] == [
            (1, "2020-01-01", "2021-12-31"),
            (2, "2022-01-01", "2024-12-31"),
            (3, "2025-01-01", None),
        ]


def _fields(answer: httpx.Response) -> set[str]:
    detail = answer.json()["detail"]
    return {".".join(map(str, item["loc"][1:])) for item in detail}


async def test_a_future_decision_waits_for_its_day_and_applies_all_or_nothing(system: System) -> None:
    day = _today_in_vietnam() + timedelta(days=10)
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        rewarded, moved = await _person(api, system, "Vũ Thị Thưởng"), await _person(api, system, "Đỗ Văn Chờ")
        await _placed(api, moved)
        reward = await api.post(
            "/v1/decisions",
            json=_decision("reward", day.isoformat(), [{"person_id": rewarded, "values": {"form": "GIAY_KHEN"}}]),
        )
        placement = await api.post(
            "/v1/decisions",
            json=_decision(
                "placement",
                day.isoformat(),
                [{"person_id": moved, "values": {"unit_name": "Chi cục Hải quan Bắc Hà Nội", "post": "Công chức"}}],
            ),
        )
        assert (reward.status_code, placement.status_code) == (201, 201), (reward.text, placement.text)
        assert (reward.json()["state"], placement.json()["state"]) == ("pending", "pending")
        assert (await api.get(f"/v1/persons/{rewarded}/rewards")).json() == [], "not before its day"

        # Meanwhile the second person's placement from a later date is recorded: on the day, the
        # decision's period would overlap it, so that decision fails whole and writes nothing.
        later = await api.post(
            f"/v1/persons/{moved}/placements",
            json={
                "values": {"unit_name": "Cục Hải quan TP Hà Nội", "post": "Chuyên viên"},
                "valid_from": (day + timedelta(days=5)).isoformat(),
            },
        )
        assert later.status_code == 201, later.text
        before = (await api.get(f"/v1/persons/{moved}/placements")).json()

        assert system.infra.postgres is not None
        db = Database(system.infra.postgres.dsn("personnel"))
        try:
            outcome = await applier.apply_due(db, make_outbox(), make_delegations(), day)
        finally:
            await db.engine.dispose()
        assert outcome["applied"] >= 1
        assert outcome["failed"] >= 1

        rewards = (await api.get(f"/v1/persons/{rewarded}/rewards")).json()
        assert [(e["valid_from"], e["values"]["form"]) for e in rewards] == [(day.isoformat(), "GIAY_KHEN")]
        applied = (await api.get(f"/v1/decisions/{reward.json()['id']}")).json()
        assert applied["state"] == "applied"
        failed = (await api.get(f"/v1/decisions/{placement.json()['id']}")).json()
        assert failed["state"] == "failed"
        assert "items[0]" in failed["failure"]
        assert (await api.get(f"/v1/persons/{moved}/placements")).json() == before, "nothing half-written"


async def _headcount(api: httpx.AsyncClient, unit_id: str) -> int:
    response = await api.get(f"/v1/units/{unit_id}/headcount")
    return int(response.json()["headcount"]) if response.status_code == 200 else -1


async def test_a_status_decision_and_its_cancellation_move_the_headcount(system: System) -> None:
    async with api_client(system.gateway_url, system.token("quantri")) as sector:
        established = await sector.post(
            "/v1/units",
            json={
                "code": unique_code("DOI"),
                "name": "Đội Nghiệp vụ thử quyết định",
                "kind": "sub_unit",
                "parent_id": system.unit_ids["HQHN-NB"],
            },
        )
        assert established.status_code == 201, established.text
        unit = established.json()["id"]
        people = []
        for i in range(2):
            created = await sector.post("/v1/persons", json=person_body(unit, f"Lý Văn Hưu {i}", born="1965-03-10"))
            assert created.status_code == 201, created.text
            people.append(created.json()["id"])

        async def counted(expected: int, what: str) -> None:
            await eventually(lambda: _headcount(sector, unit), lambda n: n == expected, timeout=30, what=what)

        await counted(2, "both counted")
        retire = await sector.post(
            "/v1/decisions",
            json=_decision("retirement", "2025-04-01", [{"person_id": p} for p in people]),
        )
        assert retire.status_code == 201, retire.text
        for person in people:
            assert (await sector.get(f"/v1/persons/{person}")).json()["status"] == "retired"
        await counted(0, "both retired")
        cancelled = await sector.post(
            f"/v1/decisions/{retire.json()['id']}/cancel",
            json={"reason": "Chưa đủ điều kiện nghỉ hưu"},
            headers={"If-Match": retire.headers["ETag"]},
        )
        assert cancelled.status_code == 200, cancelled.text
        for person in people:
            assert (await sector.get(f"/v1/persons/{person}")).json()["status"] == "active"
        await counted(2, "both back")


def _bad(people: dict[str, str]) -> dict[str, tuple[str, dict[str, Any], int, str]]:
    """what → (account, body, status, field or message start)."""
    ours, other = people["ours"], people["second"]
    reward = [{"person_id": ours, "values": {"form": "GIAY_KHEN"}}]
    return {
        "no people": ("qthanoi", _decision("reward", "2025-03-01", []), 422, "items"),
        "unknown catalog code": (
            "qthanoi",
            _decision("reward", "2025-03-01", [*reward, {"person_id": other, "values": {"form": "KHONG_CO"}}]),
            422,
            "items[1].values.form",
        ),
        "before birth": ("qthanoi", _decision("reward", "1980-01-01", reward), 422, "items[0].effective_date"),
        "a person twice": (
            "qthanoi",
            _decision("reward", "2025-03-01", [*reward, {"person_id": ours, "values": {"form": "LDTT"}}]),
            422,
            "items[1].person_id",
        ),
        "summary over its limit": (
            "qthanoi",
            _decision("reward", "2025-03-01", reward, summary="Đ" * 501),
            422,
            "summary",
        ),
        "a section the tier does not hold": ("nhansu1.hanoi", _decision("reward", "2025-03-01", reward), 403, ""),
        "a person outside the caller's reach": (
            "thutruong.hcm",
            _decision("reward", "2025-03-01", reward),
            404,
            "items[0].person_id",
        ),
    }


@pytest.mark.parametrize(
    "what",
    [
        "no people",
        "unknown catalog code",
        "before birth",
        "a person twice",
        "summary over its limit",
        "a section the tier does not hold",
        "a person outside the caller's reach",
    ],
)
async def test_bad_decisions_are_refused_naming_the_field_and_nothing_is_written(system: System, what: str) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as admin:
        people = {
            "ours": await _person(admin, system, "Mai Thị Sai"),
            "second": await _person(admin, system, "Mai Văn Sai"),
        }
        account, body, status, field = _bad(people)[what]
        async with api_client(system.gateway_url, system.token(account)) as api:
            refused = await api.post("/v1/decisions", json=body)
        assert refused.status_code == status, refused.text
        if status == 422:
            assert any(name == field or name.endswith(f".{field}") for name in _fields(refused)), refused.text
        elif field:
            assert refused.json()["detail"]["message"].startswith(f"{field}:"), refused.text
        for person in people.values():
            assert (await admin.get(f"/v1/persons/{person}/rewards")).json() == [], "nothing written"
            assert (await admin.get(f"/v1/persons/{person}/decisions")).json()["items"] == []


async def test_a_units_decisions_come_a_page_at_a_time_newest_first_and_a_bad_page_is_named(system: System) -> None:
    async with api_client(system.gateway_url, system.token("quantri")) as admin:
        created = await admin.post(
            "/v1/units",
            json={
                "code": unique_code("QDP"),
                "name": "Đội phân trang quyết định",
                "kind": "sub_unit",
                "parent_id": system.unit_ids["HQHN"],
            },
        )
        assert created.status_code == 201, created.text
        unit = created.json()["id"]
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        hired = await api.post("/v1/persons", json=person_body(unit, "Đinh Văn Trang", born="1985-03-10"))
        assert hired.status_code == 201, hired.text
        person = hired.json()["id"]
        days = [f"2025-0{month}-01" for month in (3, 4, 5, 6, 7)]
        made = []
        for day in days:
            answer = await api.post(
                "/v1/decisions", json=_decision("reward", day, [{"person_id": person, "values": {"form": "GIAY_KHEN"}}])
            )
            assert answer.status_code == 201, answer.text
            made.append(answer.json()["id"])
        pages: list[list[str]] = []
        token = ""
        for _ in range(4):
            params = {"page_size": "2"} | ({"page_token": token} if token else {})
            page = (await api.get(f"/v1/persons/{person}/decisions", params=params)).json()
            pages.append([d["id"] for d in page["items"]])
            token = page["next_page_token"] or ""
            if not token:
                break
        faults = [
            await api.get(f"/v1/persons/{person}/decisions", params={name: value})
            for name, value in (("page_token", "khong-phai-ma"), ("page_size", "0"), ("page_size", "201"))
        ]
        whole = (await api.get(f"/v1/units/{unit}/decisions", params={"page_size": "200"})).json()
    newest_first = list(reversed(made))
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:]], "each once, newest first"
    assert [d["id"] for d in whole["items"]] == newest_first
    for (name, _value), refused in zip((("page_token", ""), ("page_size", ""), ("page_size", "")), faults, strict=True):
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["query", name]


async def test_the_same_decision_entered_twice_is_refused(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Tô Văn Trùng")
        body = _decision("reward", "2025-03-01", [{"person_id": person, "values": {"form": "LDTT"}}])
        assert (await api.post("/v1/decisions", json=body)).status_code == 201
        twice = await api.post("/v1/decisions", json=body)
        assert twice.status_code == 409, twice.text
        assert twice.json()["detail"]["message"].startswith("number:")
        assert len((await api.get(f"/v1/persons/{person}/rewards")).json()) == 1
