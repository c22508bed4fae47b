"""Staffing quotas (issue 9 point 7, R-ORG-3, 003 Điều 8.4): biên chế per unit per year, allocated
down the tree (a child never above what its parent has left, a parent never below what it gave),
every change a dated history row; quota against the people in service in any subtree on any day;
the units over their quota. Set by the sector tiers, read within the caller's scope.

The sector's root holds a large quota for 2026 (set here, once, as the sector HR tier would); each
test makes its own units below it, allocates from there, and reads its own units only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import httpx
import jwt
import nats
import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from qlcb.personnel.v1 import events_pb2, quota_pb2, quota_pb2_grpc
from qlcb_common.events import streams, subjects
from qlcb_common.events.contracts import PERSONNEL_EVENTS, accept
from qlcb_common.events.envelope import unpack
from tests.support import System, api_client, eventually, person_body, unique_code

pytestmark = pytest.mark.integration

ADMIN, HR, LOCAL_ADMIN, VIEWER, SELF = "quantri", "vutccb", "qthanoi", "lanhdaovu", "canbo.noibai"
YEAR = 2026
ROOT_QUOTA = 900_000


def _decided(day: str, number: str = "12/QĐ-TCHQ") -> dict[str, str]:
    return {"effective_date": day, "decision": number}


async def _root_quota(api: httpx.AsyncClient, system: System) -> None:
    """The sector's quota for the year (the same decision again records nothing)."""
    body = {"quota": ROOT_QUOTA} | _decided("2026-01-01", "1/QĐ-BTC")
    answer = await api.put(f"/v1/units/{system.root_unit_id}/quotas/{YEAR}", json=body)
    assert answer.status_code == 200, answer.text


async def _unit(api: httpx.AsyncClient, parent_id: str, prefix: str = "BC") -> dict[str, Any]:
    body = {"code": unique_code(prefix), "name": "Đội kiểm thử biên chế", "kind": "sub_unit", "parent_id": parent_id}
    created = await api.post("/v1/units", json=body | _decided("2020-01-01", "3/QĐ-TCHQ"))
    assert created.status_code == 201, created.text
    unit: dict[str, Any] = created.json()
    return unit


async def _people(api: httpx.AsyncClient, unit_id: str, count: int) -> list[str]:
    ids = []
    for n in range(count):
        created = await api.post("/v1/persons", json=person_body(unit_id, f"Nguyễn Văn Biên {n}"))
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


async def _set(
    api: httpx.AsyncClient, unit_id: str, quota: Any, day: str = "2026-02-01", *, year: Any = YEAR, number: str = ""
) -> httpx.Response:
    body = {"quota": quota} | _decided(day, number or "12/QĐ-TCHQ")
    return await api.put(f"/v1/units/{unit_id}/quotas/{year}", json=body)


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _report(api: httpx.AsyncClient, unit_id: str, as_of: str, **params: str) -> dict[str, Any]:
    return await _ok(await api.get(f"/v1/units/{unit_id}/quotas/{YEAR}", params={"as_of": as_of} | params))


async def _history(api: httpx.AsyncClient, unit_id: str) -> list[dict[str, Any]]:
    answer = await api.get(f"/v1/units/{unit_id}/quotas/{YEAR}/history")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def _lines(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["code"]: line for line in report["items"]}


async def _retire(api: httpx.AsyncClient, person_id: str, day: str) -> None:
    body = {"status": "retired"} | _decided(day, "30/QĐ-TCHQ")
    answer = await api.post(f"/v1/persons/{person_id}/status", json=body)
    assert answer.status_code == 200, answer.text


async def test_quotas_go_down_the_tree_and_are_read_against_the_staff_of_any_day(system: System) -> None:
    """A parent given 10 gives 6 and 4 to its two sub-units; its line shows what it was given, what
    it gave, what is left, who is in service in it and below it that day, and the difference. A
    retirement counts from its date; a raise, then its correction, from theirs."""
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        await _root_quota(api, system)
        parent = await _unit(api, system.root_unit_id)
        a, b = await _unit(api, parent["id"]), await _unit(api, parent["id"])
        a1 = await _unit(api, a["id"])
        first = await _ok(await _set(api, parent["id"], 10, "2026-01-01"))
        assert (first["change"], first["previous_quota"], first["quota"]) == ("assigned", None, 10)
        await _ok(await _set(api, a["id"], 6))
        await _ok(await _set(api, b["id"], 4))
        await _people(api, parent["id"], 1)
        await _people(api, a["id"], 3)
        await _people(api, a1["id"], 1)
        leaving, _ = await _people(api, b["id"], 2)
        await _retire(api, leaving, "2026-06-01")

        report = await _report(api, parent["id"], "2026-07-01", include_subtree="true")
        assert (report["as_of"], report["year"]) == ("2026-07-01", YEAR)
        in_tree_order = sorted((parent, a, a1, b), key=lambda u: str(u["path"]))
        assert [line["code"] for line in report["items"]] == [u["code"] for u in in_tree_order]
        lines = _lines(report)
        top = lines[parent["code"]]
        assert (top["quota"], top["allocated"], top["remaining"]) == (10, 10, 0)
        assert (top["headcount"], top["own_headcount"], top["difference"], top["state"]) == (6, 1, -4, "within")
        assert (lines[a["code"]]["quota"], lines[a["code"]]["headcount"], lines[a["code"]]["allocated"]) == (6, 4, 0)
        assert (lines[b["code"]]["headcount"], lines[b["code"]]["difference"]) == (1, -3)
        assert (lines[a1["code"]]["quota"], lines[a1["code"]]["state"], lines[a1["code"]]["headcount"]) == (
            None,
            "no_quota",
            1,
        )
        assert report["total"] == {
            "quota": 10,
            "headcount": 6,
            "difference": -4,
            "units_over": 0,
            "units_without_quota": 1,
        }
        # Before the retirement took effect, and before the sub-units were given theirs.
        may = _lines(await _report(api, parent["id"], "2026-05-31", include_subtree="true"))
        assert may[b["code"]]["headcount"] == 2
        january = _lines(await _report(api, parent["id"], "2026-01-15", include_subtree="true"))
        assert (january[parent["code"]]["allocated"], january[a["code"]]["quota"]) == (0, None)
        # Without the subtree: the unit's own line, its figures still covering everything below it.
        alone = await _report(api, parent["id"], "2026-07-01")
        assert [line["code"] for line in alone["items"]] == [parent["code"]]
        assert alone["items"][0]["headcount"] == 6

        raised = await _ok(await _set(api, parent["id"], 12, "2026-07-01", number="40/QĐ-TCHQ"))
        assert (raised["change"], raised["previous_quota"]) == ("changed", 10)
        corrected = await _ok(await _set(api, parent["id"], 11, "2026-07-01", number="41/QĐ-TCHQ"))
        assert (corrected["change"], corrected["previous_quota"]) == ("corrected", 12)
        again = await _ok(await _set(api, parent["id"], 11, "2026-07-01", number="41/QĐ-TCHQ"))
        assert again == corrected, "the same decision sent again records nothing"
        assert (await _report(api, parent["id"], "2026-06-30"))["items"][0]["quota"] == 10
        assert (await _report(api, parent["id"], "2026-07-01"))["items"][0]["quota"] == 11
        history = await _history(api, parent["id"])
        assert [(h["change"], h["quota"], h["decision"]) for h in history] == [
            ("assigned", 10, "12/QĐ-TCHQ"),
            ("changed", 12, "40/QĐ-TCHQ"),
            ("corrected", 11, "41/QĐ-TCHQ"),
        ]
        assert {h["recorded_by"] for h in history} == {_subject(system.token(ADMIN))}


def _subject(token: str) -> str:
    subject: str = jwt.decode(token, options={"verify_signature": False})["sub"]
    return subject


async def test_a_child_never_gets_more_than_its_parent_has_left(system: System) -> None:
    """The refusal names the unit, its parent's quota, what the parent gave the others and what is
    left; a parent is not lowered below what it gave; an allocation dated before its parent's raise
    exceeds it on its own date. Nothing is written on a refusal."""
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        await _root_quota(api, system)
        parent = await _unit(api, system.root_unit_id)
        a, b = await _unit(api, parent["id"]), await _unit(api, parent["id"])
        await _ok(await _set(api, parent["id"], 10, "2026-01-01"))
        await _ok(await _set(api, a["id"], 7))

        refused = await _set(api, b["id"], 4)
        assert refused.status_code == 409, refused.text
        message = refused.json()["detail"]["message"]
        for part in (b["code"], parent["code"], "được giao 10", "đã phân bổ cho các đơn vị khác 7", "còn lại 3"):
            assert part in message, message
        assert await _history(api, b["id"]) == []
        await _ok(await _set(api, b["id"], 3))

        lowered = await _set(api, parent["id"], 9, "2026-03-01")
        assert lowered.status_code == 409, lowered.text
        assert "đã phân bổ cho các đơn vị trực thuộc 10" in lowered.json()["detail"]["message"]
        assert len(await _history(api, parent["id"])) == 1

        # Raised from June: an allocation from March still finds 10, one from June finds 20.
        await _ok(await _set(api, parent["id"], 20, "2026-06-01"))
        early = await _set(api, b["id"], 10, "2026-03-01")
        assert early.status_code == 409, early.text
        assert "ngày 2026-03-01" in early.json()["detail"]["message"]
        await _ok(await _set(api, b["id"], 10, "2026-06-01"))

        # A unit whose parent was given nothing has nothing to receive.
        bare = await _unit(api, system.root_unit_id)
        child = await _unit(api, bare["id"])
        nothing = await _set(api, child["id"], 1)
        assert nothing.status_code == 409, nothing.text
        assert "chưa được giao biên chế năm 2026" in nothing.json()["detail"]["message"]
        await _ok(await _set(api, child["id"], 0))


async def test_a_dissolved_unit_gives_its_quota_back_and_takes_no_more(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        await _root_quota(api, system)
        parent = await _unit(api, system.root_unit_id)
        a, b = await _unit(api, parent["id"]), await _unit(api, parent["id"])
        await _ok(await _set(api, parent["id"], 10, "2026-01-01"))
        await _ok(await _set(api, a["id"], 6))
        dissolved = await api.post(f"/v1/units/{a['id']}/dissolve", json=_decided("2026-05-01", "50/QĐ-TCHQ"))
        assert dissolved.status_code == 200, dissolved.text
        assert (await _set(api, b["id"], 8, "2026-04-01")).status_code == 409
        await _ok(await _set(api, b["id"], 8, "2026-05-01"))
        assert (await _set(api, a["id"], 1, "2026-06-01")).status_code == 409
        june = await _report(api, parent["id"], "2026-06-01", include_subtree="true")
        assert [line["code"] for line in june["items"]] == [parent["code"], b["code"]]
        assert june["items"][0]["allocated"] == 8
        gone = await _report(api, a["id"], "2026-06-01")
        assert [line["code"] for line in gone["items"]] == [a["code"]]


async def test_two_admins_allocating_at_once_never_exceed_the_parent(system: System) -> None:
    """The system admin and the sector HR tier each give 6 of a parent's 10 to a different sub-unit,
    at the same moment: one is refused, every time."""
    async with (
        api_client(system.gateway_url, system.token(ADMIN)) as admin,
        api_client(system.gateway_url, system.token(HR)) as hr,
    ):
        await _root_quota(admin, system)
        for _ in range(6):
            parent = await _unit(admin, system.root_unit_id)
            a, b = await _unit(admin, parent["id"]), await _unit(admin, parent["id"])
            await _ok(await _set(admin, parent["id"], 10, "2026-01-01"))
            answers = await asyncio.gather(_set(admin, a["id"], 6), _set(hr, b["id"], 6))
            assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
            top = (await _report(admin, parent["id"], "2026-12-31"))["items"][0]
            assert (top["quota"], top["allocated"], top["remaining"]) == (10, 6, 4)


async def test_units_over_their_quota_and_units_with_staff_and_no_quota_are_listed(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        await _root_quota(api, system)
        parent = await _unit(api, system.root_unit_id)
        over, within, unquoted = [await _unit(api, parent["id"]) for _ in range(3)]
        await _ok(await _set(api, parent["id"], 10, "2026-01-01"))
        await _ok(await _set(api, over["id"], 2))
        await _ok(await _set(api, within["id"], 5))
        leaving, *_ = await _people(api, over["id"], 3)
        await _people(api, within["id"], 2)
        await _people(api, unquoted["id"], 1)
        await _retire(api, leaving, "2026-09-01")

        async def listed(as_of: str) -> dict[str, dict[str, Any]]:
            answer = await _ok(await api.get(f"/v1/quotas/{YEAR}/over", params={"as_of": as_of}))
            assert answer["as_of"] == as_of
            mine = {over["code"], within["code"], unquoted["code"], parent["code"]}
            return {line["code"]: line for line in answer["items"] if line["code"] in mine}

        august = await listed("2026-08-31")
        assert set(august) == {over["code"], unquoted["code"]}
        assert (august[over["code"]]["state"], august[over["code"]]["difference"]) == ("over", 1)
        assert (august[unquoted["code"]]["state"], august[unquoted["code"]]["quota"]) == ("no_quota", None)
        assert set(await listed("2026-09-01")) == {unquoted["code"]}


async def test_who_sets_and_who_reads_follows_the_tier_table(system: System) -> None:
    """Only the sector tiers set quotas (the root's too); a local admin reads its subtree's and no
    other, and its listing of units over their quota holds its subtree alone; a civil servant reads
    none."""
    hanoi, noi_bai = system.unit_ids["HQHN"], system.unit_ids["HQHN-NB"]
    async with (
        api_client(system.gateway_url, system.token(LOCAL_ADMIN)) as local,
        api_client(system.gateway_url, system.token(VIEWER)) as viewer,
        api_client(system.gateway_url, system.token(HR)) as hr,
        api_client(system.gateway_url, system.token(SELF)) as clerk,
    ):
        for api, unit_id in ((local, noi_bai), (local, system.unit_ids["HQHCM"]), (viewer, noi_bai)):
            refused = await _set(api, unit_id, 0)
            assert refused.status_code == 403, refused.text
        assert (await _set(local, system.root_unit_id, 5, year=2031)).status_code == 403
        root = await _ok(await _set(hr, system.root_unit_id, 5000, "2031-01-01", year=2031))
        assert root["quota"] == 5000

        assert (await local.get(f"/v1/units/{system.root_unit_id}/quotas/{YEAR}")).status_code == 403
        assert (await local.get(f"/v1/units/{system.unit_ids['HQHCM']}/quotas/{YEAR}/history")).status_code == 403
        report = await _ok(await local.get(f"/v1/units/{hanoi}/quotas/{YEAR}", params={"include_subtree": "true"}))
        assert report["items"][0]["unit_id"] == hanoi
        assert all(line["path"].startswith("/TCHQ/HQHN") for line in report["items"])
        assert len(report["items"]) > 1
        over = await _ok(await local.get(f"/v1/quotas/{YEAR}/over"))
        assert over["items"], "Hà Nội's units have staff and no quota"
        assert all(line["path"].startswith("/TCHQ/HQHN") for line in over["items"])
        assert (await clerk.get(f"/v1/quotas/{YEAR}/over")).status_code == 403
        assert (await clerk.get(f"/v1/units/{noi_bai}/quotas/{YEAR}")).status_code == 403


async def test_bad_input_is_refused_naming_the_field_and_writes_nothing(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        await _root_quota(api, system)
        unit = await _unit(api, system.root_unit_id)
        await _ok(await _set(api, unit["id"], 5, "2026-03-01"))

        async def refused(response: httpx.Response, where: list[str]) -> None:
            assert response.status_code == 422, response.text
            assert where in [fault["loc"] for fault in response.json()["detail"]], response.text

        await refused(await _set(api, unit["id"], -1), ["body", "quota"])
        await refused(await _set(api, unit["id"], 1_000_001), ["body", "quota"])
        await refused(await _set(api, unit["id"], "mười"), ["body", "quota"])
        await refused(await _set(api, unit["id"], 2.5), ["body", "quota"])
        await refused(await _set(api, unit["id"], 5, year=1989), ["path", "year"])
        await refused(await _set(api, unit["id"], 5, year=2101), ["path", "year"])
        await refused(await _set(api, unit["id"], 5, year="năm"), ["path", "year"])
        await refused(await _set(api, unit["id"], 5, "2026-02-30"), ["body", "effective_date"])
        await refused(await _set(api, unit["id"], 5, "2024-12-31"), ["body", "effective_date"])
        before_last = await _set(api, unit["id"], 4, "2026-02-28")
        await refused(before_last, ["body", "effective_date"])
        assert "2026-03-01" in before_last.text
        undecided = {"quota": 5, "effective_date": "2026-04-01"}
        no_decision = await api.put(f"/v1/units/{unit['id']}/quotas/{YEAR}", json=undecided)
        await refused(no_decision, ["body", "decision"])
        await refused(
            await api.get(f"/v1/units/{unit['id']}/quotas/{YEAR}", params={"as_of": "2026-13-01"}), ["query", "as_of"]
        )
        await refused(await api.get(f"/v1/quotas/{YEAR}/over", params={"as_of": "1/3/2026"}), ["query", "as_of"])

        unknown = str(uuid.uuid4())
        assert (await _set(api, unknown, 5)).status_code == 404
        assert (await api.get(f"/v1/units/{unknown}/quotas/{YEAR}")).status_code == 404
        assert (await api.get(f"/v1/units/{unknown}/quotas/{YEAR}/history")).status_code == 404
        assert [h["quota"] for h in await _history(api, unit["id"])] == [5], "nothing written"

    # Personnel checks what it is sent itself, whoever calls it.
    metadata = (("authorization", f"Bearer {system.token(ADMIN)}"),)
    async with grpc.aio.insecure_channel(system.services.grpc_target("personnel")) as channel:
        stub = quota_pb2_grpc.UnitQuotaServiceStub(channel)

        def asked(**fields: Any) -> quota_pb2.SetUnitQuotaRequest:
            valid = {"unit_id": unit["id"], "year": YEAR, "quota": 1, "effective_date": "2026-05-01"}
            return quota_pb2.SetUnitQuotaRequest(**(valid | {"decision": "1/QĐ"} | fields))

        for request, field in (
            (asked(year=0), "year"),
            (asked(quota=-3), "quota"),
            (asked(effective_date="01/05/2026"), "effective_date"),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await stub.SetUnitQuota(request, metadata=metadata, timeout=10)
            assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            assert field in (error.value.details() or ""), error.value.details()
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetQuotaReport(
                quota_pb2.GetQuotaReportRequest(unit_id=unit["id"], year=YEAR, as_of="2026-02-31"),
                metadata=metadata,
                timeout=10,
            )
        assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "as_of" in (error.value.details() or "")
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        assert [h["quota"] for h in await _history(api, unit["id"])] == [5], "nothing written"


@asynccontextmanager
async def _ops(system: System) -> AsyncIterator[Client]:
    user, password = system.infra.nats.credentials("ops")
    nc = await nats.connect(system.infra.nats.url, user=user, password=password, allow_reconnect=False)
    try:
        yield nc
    finally:
        await nc.close()


async def test_each_quota_set_is_published_for_the_reports(system: System) -> None:
    """`qlcb.personnel.unit.quota_set` carries the unit and the change, as its contract accepts it;
    a refused change publishes nothing."""
    async with _ops(system) as nc:
        after = int((await nc.jetstream().stream_info(streams.PERSONNEL.name)).state.last_seq)
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        await _root_quota(api, system)
        unit = await _unit(api, system.root_unit_id)
        child = await _unit(api, unit["id"])
        await _ok(await _set(api, unit["id"], 3, "2026-01-01"))
        assert (await _set(api, child["id"], 4)).status_code == 409
        await _ok(await _set(api, unit["id"], 2, "2026-08-01", number="77/QĐ-TCHQ"))

    async def published() -> list[events_pb2.UnitQuotaSet]:
        found: list[events_pb2.UnitQuotaSet] = []
        async with _ops(system) as nc:
            sequence = after + 1
            while True:
                try:
                    message = await nc.jetstream().get_msg(
                        streams.PERSONNEL.name, seq=sequence, subject=subjects.PERSONNEL_UNIT_QUOTA_SET, next=True
                    )
                except NotFoundError:
                    return found
                assert message.data is not None
                envelope = accept(subjects.PERSONNEL_UNIT_QUOTA_SET, message.data, PERSONNEL_EVENTS)
                event = unpack(envelope, events_pb2.UnitQuotaSet)
                if event.unit.id in (unit["id"], child["id"]):
                    found.append(event)
                sequence = int(message.seq or sequence) + 1

    events = await eventually(published, lambda found: len(found) >= 2, timeout=10, what="both quota events published")
    assert [(e.unit.code, e.change.quota, e.change.change, e.change.previous_quota) for e in events] == [
        (unit["code"], 3, "assigned", 0),
        (unit["code"], 2, "changed", 3),
    ]
    assert not events[0].change.HasField("previous_quota")
    assert (events[1].change.decision, events[1].change.effective_date) == ("77/QĐ-TCHQ", "2026-08-01")
