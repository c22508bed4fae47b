"""Decisions that change the unit tree (R-ORG-2), followed everywhere: a rename, a move, a
merger and a split in personnel, with the tree readable as of a date; Keycloak's groups, the
tokens' unit claim, purpose accounts and the headcounts follow them (R-ACC-8)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import nats
from keycloak.exceptions import KeycloakGetError

from qlcb.personnel.v1 import events_pb2 as personnel_events
from qlcb_common.events import streams, subjects
from qlcb_common.events.envelope import parse, unpack
from qlcb_devstack.accounts import Account, ensure_user, password_token
from tests.support import System, eventually, person_body, unique_code


def _decided(day: str, number: str) -> dict[str, str]:
    return {"effective_date": day, "decision": number}


async def _unit(api: httpx.AsyncClient, code: str, name: str, kind: str, parent_id: str) -> dict[str, Any]:
    created = await api.post(
        "/v1/units",
        json={"code": code, "name": name, "kind": kind, "parent_id": parent_id} | _decided("2026-11-01", "1/QĐ-TCHQ"),
    )
    assert created.status_code == 201, created.text
    unit: dict[str, Any] = created.json()
    return unit


async def _person(api: httpx.AsyncClient, unit_id: str, full_name: str) -> str:
    created = await api.post("/v1/persons", json=person_body(unit_id, full_name))
    assert created.status_code == 201, created.text
    person_id: str = created.json()["id"]
    return person_id


def _group(system: System, path: str) -> dict[str, Any] | None:
    """The group at `path`, or None while Keycloak answers that there is none (404); any other
    error fails the test rather than reading as "not there yet"."""
    admin = system.infra.keycloak_admin()
    try:
        group = admin.get_group_by_path(path)
    except KeycloakGetError as missing:
        if missing.response_code == 404:
            return None
        raise
    assert isinstance(group, dict), group
    found: dict[str, Any] = admin.get_group(group["id"])
    return found


async def _headcount(api: httpx.AsyncClient, unit_id: str) -> int | None:
    """None while reports has not yet heard of the unit."""
    response = await api.get(f"/v1/units/{unit_id}/headcount")
    return int(response.json()["headcount"]) if response.status_code == 200 else None


async def test_rename_move_merge_and_split_are_followed_everywhere(system: System) -> None:
    code = unique_code("RG")
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with (
        httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=60) as api,
        httpx.AsyncClient(base_url=system.services.identity_url, headers=headers, timeout=60) as identity,
    ):
        north = await _unit(
            api, f"{code}-B", "Cục Hải quan tỉnh Bắc Ninh", "provincial_department", system.root_unit_id
        )
        south = await _unit(
            api, f"{code}-N", "Cục Hải quan tỉnh Nam Định", "provincial_department", system.root_unit_id
        )
        first = await _unit(api, f"{code}-B1", "Chi cục Hải quan Yên Phong", "sub_unit", north["id"])
        second = await _unit(api, f"{code}-B2", "Chi cục Hải quan Quế Võ", "sub_unit", north["id"])
        staff_first = [await _person(api, first["id"], f"Cán bộ Yên Phong {i}") for i in range(2)]
        staff_second = [await _person(api, second["id"], "Cán bộ Quế Võ")]
        await eventually(lambda: asyncio.to_thread(_group, system, second["path"]), bool, timeout=60, what="the groups")

        # Rename: the code and path stay, the name follows into the group.
        bad = await api.post(f"/v1/units/{first['id']}/rename", json={"name": " "} | _decided("2026-12-01", "5/QĐ"))
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["body", "name"]
        renamed = await api.post(
            f"/v1/units/{first['id']}/rename",
            json={"name": "Chi cục Hải quan Yên Phong - Bắc Ninh"} | _decided("2026-12-01", "5/QĐ-TCHQ"),
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["path"] == first["path"]
        await eventually(
            lambda: asyncio.to_thread(_group, system, first["path"]),
            lambda g: g is not None and g["attributes"].get("ten_don_vi") == ["Chi cục Hải quan Yên Phong - Bắc Ninh"],
            timeout=30,
            what="the group's name attribute",
        )

        # Move: the sub-unit goes to the other province; its group, paths and tokens follow.
        cycle = await api.post(
            f"/v1/units/{north['id']}/move", json={"new_parent_id": second["id"]} | _decided("2026-12-01", "6/QĐ")
        )
        assert cycle.status_code == 422
        assert cycle.json()["detail"][0]["loc"] == ["body", "new_parent_id"]
        officer = Account(unique_code("cb").lower(), "Cán bộ Quế Võ 2026", "local-officer", second["path"], "Lý Văn Võ")
        ensure_user(system.infra.keycloak_admin(), officer)
        moved = await api.post(
            f"/v1/units/{second['id']}/move", json={"new_parent_id": south["id"]} | _decided("2026-12-10", "7/QĐ-TCHQ")
        )
        assert moved.status_code == 200, moved.text
        new_path = f"{south['path']}/{second['code']}"
        assert moved.json()["path"] == new_path
        await eventually(
            lambda: asyncio.to_thread(_group, system, new_path), bool, timeout=30, what="the group under its new parent"
        )
        assert await asyncio.to_thread(_group, system, second["path"]) is None
        token = password_token(system.infra.keycloak.base_url, officer.username, officer.password)
        async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as plain:
            me = (await plain.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
        assert me["unit_path"] == new_path
        await eventually(
            lambda: api.get(f"/v1/units/{south['id']}/headcount", params={"include_subtree": "true"}),
            lambda r: r.json()["headcount"] == 1,
            timeout=30,
            what="the moved unit's staff counted under its new parent",
        )

        # A unit with staff cannot simply be dissolved.
        refused = await api.post(f"/v1/units/{first['id']}/dissolve", json=_decided("2027-01-01", "8/QĐ"))
        assert refused.status_code == 409
        assert "2 cán bộ" in refused.json()["detail"]["message"]

        # Merger: Yên Phong into Quế Võ; its purpose account is disabled, its staff move.
        await identity.put("/v1/quotas", json={"unit_path": first["path"], "kind": "user", "limit": 5})
        purpose = await identity.post(
            "/v1/purpose-accounts", json={"unit_path": first["path"], "purpose": "Nhân sự 1", "tier": "local-officer"}
        )
        assert purpose.status_code == 201, purpose.text
        inside = await api.post(
            "/v1/unit-mergers",
            json={"source_unit_ids": [south["id"]], "target_unit_id": second["id"]} | _decided("2027-01-01", "9/QĐ"),
        )
        assert inside.status_code == 422, "a unit cannot merge into one of its own sub-units"
        merged = await api.post(
            "/v1/unit-mergers",
            json={"source_unit_ids": [first["id"]], "target_unit_id": second["id"]} | _decided("2027-01-01", "10/QĐ"),
        )
        assert merged.status_code == 200, merged.text
        assert merged.json()["persons_moved"] == 2
        assert merged.json()["sources"][0]["dissolved_on"] == "2027-01-01"
        await eventually(
            lambda: _headcount(api, second["id"]), lambda n: n == 3, timeout=30, what="the merged headcount"
        )
        assert await _headcount(api, first["id"]) == 0
        admin = system.infra.keycloak_admin()
        username = purpose.json()["account"]["username"]

        def purpose_enabled() -> bool:
            user_id = admin.get_user_id(username)
            return bool(user_id and admin.get_user(user_id)["enabled"])

        await eventually(
            lambda: asyncio.to_thread(purpose_enabled), lambda on: not on, timeout=30, what="the purpose account off"
        )
        late = await api.post("/v1/persons", json=person_body(first["id"], "Người đến muộn"))
        assert late.status_code == 422
        assert late.json()["detail"][0]["loc"] == ["body", "unit_id"]

        # Split: Quế Võ into two; every active person must be assigned.
        everyone = staff_first + staff_second
        split: dict[str, Any] = {
            "successors": [
                {"code": f"{code}-X", "name": "Chi cục Hải quan Quế Võ 1", "kind": "sub_unit"},
                {"code": f"{code}-Y", "name": "Chi cục Hải quan Quế Võ 2", "kind": "sub_unit"},
            ],
            "persons": [{"id": pid, "successor_code": f"{code}-X"} for pid in everyone[:2]],
        } | _decided("2027-02-01", "11/QĐ-TCHQ")
        partial = await api.post(f"/v1/units/{second['id']}/split", json=split)
        assert partial.status_code == 422
        assert [v["loc"] for v in partial.json()["detail"]] == [["body", "persons"]]
        split["persons"].append({"id": everyone[2], "successor_code": f"{code}-Y"})
        done = await api.post(f"/v1/units/{second['id']}/split", json=split)
        assert done.status_code == 200, done.text
        successors = {u["code"]: u for u in done.json()["successors"]}
        assert {u["path"] for u in successors.values()} == {f"{south['path']}/{code}-X", f"{south['path']}/{code}-Y"}
        for unit, expected in ((successors[f"{code}-X"], 2), (successors[f"{code}-Y"], 1)):
            await eventually(
                lambda u=unit: _headcount(api, u["id"]),  # type: ignore[misc]
                lambda n, e=expected: n == e,  # type: ignore[misc]
                timeout=30,
                what=f"the headcount of {unit['code']}",
            )
            await eventually(
                lambda u=unit: asyncio.to_thread(_group, system, u["path"]),  # type: ignore[misc]
                bool,
                timeout=30,
                what=f"the group of {unit['code']}",
            )

        # The tree as of a date, and each unit's history.
        async def names_as_of(day: str) -> dict[str, str]:
            listing = (await api.get("/v1/units", params={"as_of": day})).json()
            return {u["code"]: u["name"] for u in listing if u["code"].startswith(code)}

        assert await names_as_of("2026-12-05") == {
            f"{code}-B": "Cục Hải quan tỉnh Bắc Ninh",
            f"{code}-N": "Cục Hải quan tỉnh Nam Định",
            f"{code}-B1": "Chi cục Hải quan Yên Phong - Bắc Ninh",
            f"{code}-B2": "Chi cục Hải quan Quế Võ",
        }
        assert set(await names_as_of("2027-02-01")) == {f"{code}-B", f"{code}-N", f"{code}-X", f"{code}-Y"}
        history = (await api.get(f"/v1/units/{second['id']}/history")).json()
        assert [(h["change"], h["effective_date"], h["decision"]) for h in history] == [
            ("established", "2026-11-01", "1/QĐ-TCHQ"),
            ("moved", "2026-12-10", "7/QĐ-TCHQ"),
            ("dissolved", "2027-02-01", "11/QĐ-TCHQ"),
        ]
        backdated = await api.post(
            f"/v1/units/{north['id']}/rename", json={"name": "Bắc Ninh"} | _decided("2026-10-01", "12/QĐ")
        )
        assert backdated.status_code == 422
        assert backdated.json()["detail"][0]["loc"] == ["body", "effective_date"]


async def test_only_a_unit_writer_changes_the_tree(system: System) -> None:
    body = {"name": "Chi cục Hải quan Nội Bài mới"} | _decided("2026-12-01", "13/QĐ")
    for username in ("qthanoi", "lanhdaovu", "canbo.noibai"):
        async with httpx.AsyncClient(
            base_url=system.gateway_url, headers={"Authorization": f"Bearer {system.token(username)}"}, timeout=30
        ) as api:
            response = await api.post(f"/v1/units/{system.unit_ids['HQHN-NB']}/rename", json=body)
        assert response.status_code == 403, f"{username}: {response.text}"


async def _personnel_stream(system: System, after: int | None = None) -> tuple[int, list[tuple[int, str]]]:
    """The last sequence of personnel's stream and the sequences and subjects after `after`, in order,
    but for the audit chain's heads, which the sealer publishes on its own schedule (ADR 0050)."""
    user, password = system.infra.nats.credentials("ops")
    nc = await nats.connect(system.infra.nats.url, user=user, password=password, allow_reconnect=False)
    try:
        js = nc.jetstream()
        last = int((await js.stream_info(streams.PERSONNEL.name)).state.last_seq)
        if after is None:
            return last, []
        read = [
            (seq, str((await js.get_msg(streams.PERSONNEL.name, seq)).subject)) for seq in range(after + 1, last + 1)
        ]
        return last, [(seq, subject) for seq, subject in read if subject != subjects.PERSONNEL_AUDIT_SEALED]
    finally:
        await nc.close()


async def _created_at(system: System, person_id: str) -> int | None:
    """The stream sequence of the person's creation if it is the last creation published."""
    user, password = system.infra.nats.credentials("ops")
    nc = await nats.connect(system.infra.nats.url, user=user, password=password, allow_reconnect=False)
    try:
        message = await nc.jetstream().get_last_msg(streams.PERSONNEL.name, subjects.PERSONNEL_PERSON_CREATED)
    finally:
        await nc.close()
    assert message.data is not None
    created = unpack(parse(message.data), personnel_events.PersonCreated)
    return int(message.seq) if created.person.id == person_id and message.seq is not None else None


async def test_a_merger_and_a_split_publish_their_events_in_the_stated_order(system: System) -> None:
    """The order docs/architecture.md states, read from the stream itself: a merger moves the
    source's sub-units, transfers its staff, dissolves it, then sums up; a split establishes the
    successors, moves sub-units and staff, dissolves the unit, then sums up."""
    code = unique_code("OR")
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=60) as api:
        province = await _unit(
            api, f"{code}-P", "Cục Hải quan tỉnh Thử Thứ Tự", "provincial_department", system.root_unit_id
        )
        source = await _unit(api, f"{code}-S", "Chi cục Hải quan Nguồn", "sub_unit", province["id"])
        target = await _unit(api, f"{code}-T", "Chi cục Hải quan Đích", "sub_unit", province["id"])
        team = await _unit(api, f"{code}-S1", "Đội Nghiệp vụ Nguồn", "sub_unit", source["id"])
        staff = [await _person(api, source["id"], f"Cán bộ Nguồn {i}") for i in range(2)]

        async def published_up_to(summary: str, after: int) -> tuple[list[str], int]:
            """The subjects published after sequence `after` up to `summary`, and `summary`'s sequence."""
            _, found = await eventually(
                lambda: _personnel_stream(system, after),
                lambda read: summary in [subject for _, subject in read[1]],
                timeout=30,
                what=f"{summary} on the stream",
            )
            end = next(seq for seq, subject in found if subject == summary)
            return [subject for seq, subject in found if seq <= end], end

        # Events are published in commit order: once the last person's creation is on the stream,
        # everything before the merger is, and what follows it is the merger's.
        before_merge = await eventually(
            lambda: _created_at(system, staff[-1]), lambda seq: seq is not None, timeout=30, what="the setup"
        )
        assert before_merge is not None
        merged = await api.post(
            "/v1/unit-mergers",
            json={"source_unit_ids": [source["id"]], "target_unit_id": target["id"]} | _decided("2027-01-01", "21/QĐ"),
        )
        assert merged.status_code == 200, merged.text
        merger, before_split = await published_up_to(subjects.PERSONNEL_UNIT_MERGED, before_merge)
        assert merger == [
            subjects.PERSONNEL_UNIT_MOVED,  # the team, now under the target
            *[subjects.PERSONNEL_PERSON_TRANSFERRED] * len(staff),
            subjects.PERSONNEL_UNIT_DISSOLVED,
            subjects.PERSONNEL_UNIT_MERGED,
        ]

        split = {
            "successors": [
                {"code": f"{code}-X", "name": "Chi cục Hải quan Đích 1", "kind": "sub_unit"},
                {"code": f"{code}-Y", "name": "Chi cục Hải quan Đích 2", "kind": "sub_unit"},
            ],
            "persons": [{"id": pid, "successor_code": f"{code}-X"} for pid in staff],
            "sub_units": [{"id": team["id"], "successor_code": f"{code}-Y"}],
        } | _decided("2027-02-01", "22/QĐ")
        done = await api.post(f"/v1/units/{target['id']}/split", json=split)
        assert done.status_code == 200, done.text
        splitting, _ = await published_up_to(subjects.PERSONNEL_UNIT_SPLIT, before_split)
        assert splitting == [
            subjects.PERSONNEL_UNIT_ESTABLISHED,
            subjects.PERSONNEL_UNIT_ESTABLISHED,
            subjects.PERSONNEL_UNIT_MOVED,
            *[subjects.PERSONNEL_PERSON_TRANSFERRED] * len(staff),
            subjects.PERSONNEL_UNIT_DISSOLVED,
            subjects.PERSONNEL_UNIT_SPLIT,
        ]
