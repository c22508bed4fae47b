"""Deadlines for entering data (issue 9 point 6, R-PER-4) on the real servers: every new entry of a
record is judged against the sector's rule as it is entered (the suite's personnel runs the default,
Customs' 3 working days on the Vietnamese calendar, QĐ 240/QĐ-TCHQ Điều 8.1.b), and
`GET /v1/units/{unit_id}/late-entries` tells per unit and period how many were entered, how many
late, the rate, and which, inside the caller's scope; personnel's /metrics counts them.

The entries are entered now, so the deadlines around holidays are those of past events: the Friday
before Quốc khánh 2026 (31 August, 1 and 2 September off: due Monday 7 September) and the Friday
before Tết 2026 (16 to 20 February off: due Wednesday 25 February), written here from the
government's notices. Each test makes its own units and people, and reads only them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import jwt
import pytest

from tests.support import System, api_client, metric_value, person_body, unique_code

pytestmark = pytest.mark.integration

ADMIN = "quantri"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
DECISION = {"number": "15/QĐ-HQHN", "date": "2026-01-05", "body": "Cục Hải quan TP Hà Nội"}
BEFORE_QUOC_KHANH, DUE_AFTER_QUOC_KHANH = date(2026, 8, 28), date(2026, 9, 7)
BEFORE_TET, DUE_AFTER_TET = date(2026, 2, 13), date(2026, 2, 25)
METRIC = "qlcb_personnel_entries_recorded_total"


def _today() -> date:
    return datetime.now(VIETNAM).date()


def _subject(system: System, login: str) -> str:
    claims: dict[str, Any] = jwt.decode(system.token(login), options={"verify_signature": False})
    return str(claims["sub"])


async def _unit(api: httpx.AsyncClient, parent_id: str, name: str) -> str:
    body = {"code": unique_code("HT"), "name": name, "kind": "sub_unit", "parent_id": parent_id}
    created = await api.post("/v1/units", json=body | {"effective_date": "2020-01-01", "decision": "3/QĐ-HT"})
    assert created.status_code == 201, created.text
    unit_id: str = created.json()["id"]
    return unit_id


async def _person(api: httpx.AsyncClient, unit_id: str, name: str, entries: list[dict[str, Any]]) -> str:
    created = await api.post("/v1/persons", json=person_body(unit_id, name))
    assert created.status_code == 201, created.text
    person_id: str = created.json()["id"]
    if entries:
        recorded = await api.post(f"/v1/persons/{person_id}/record", json={"entries": entries})
        assert recorded.status_code == 201, recorded.text
    return person_id


def _recruitment(day: date) -> dict[str, Any]:
    """An item of a whole record's entries (`POST /v1/persons/{id}/record`)."""
    return {
        "section": "recruitment",
        "values": {"body": "Cục Hải quan TP Hà Nội"},
        "valid_from": day.isoformat(),
        "decision": DECISION | {"date": day.isoformat()},
    }


def _placement(day: date, post: str = "Công chức") -> dict[str, Any]:
    """The body of one placement (`POST /v1/persons/{id}/placements`)."""
    return {"values": {"unit_name": "Đội Nghiệp vụ", "post": post}, "valid_from": day.isoformat()}


def _item(section: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"section": section, **body}


def _family() -> dict[str, Any]:
    values = {"side": "BAN_THAN", "relation": "Bố", "full_name": "Trần Văn Cha", "birth_year": 1955}
    return {"section": "family", "values": values}


async def _report(api: httpx.AsyncClient, unit_id: str, **params: Any) -> dict[str, Any]:
    query = {"from": (_today() - timedelta(days=30)).isoformat(), "to": (_today() + timedelta(days=1)).isoformat()}
    query |= {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
    response = await api.get(f"/v1/units/{unit_id}/late-entries", params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _counts(body: dict[str, Any]) -> dict[str | None, tuple[int, int, float]]:
    rows = {u["unit_id"]: (u["entries"], u["late"], round(u["late_rate"], 3)) for u in body["units"]}
    total = body["total"]
    return rows | {None: (total["entries"], total["late"], round(total["late_rate"], 3))}


async def _metrics(system: System) -> dict[tuple[str, str], float]:
    wanted = [("recruitment", "late"), ("placements", "on_time"), ("placements", "history"), ("family", "history")]
    return {
        (section, timeliness): await metric_value(
            system, "personnel", METRIC, {"section": section, "timeliness": timeliness}
        )
        for section, timeliness in wanted
    }


async def test_late_entries_per_unit_around_holidays_with_their_rate_and_metric(system: System) -> None:
    today = _today()
    before = await _metrics(system)
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        team = await _unit(api, system.unit_ids["HQHN"], "Đội Kiểm tra thời hạn")
        division = await _unit(api, team, "Tổ Kiểm tra thời hạn")
        # Taken in today: two recruitment decisions entered long after their 3 working days (around
        # Quốc khánh and Tết), a placement of today (on time), one of 60 days ago, before the record
        # existed (history, not late), a family relation (undated: no deadline).
        first = await _person(
            api,
            team,
            "Phạm Văn Hạn",
            [
                _recruitment(BEFORE_TET),
                _recruitment(BEFORE_QUOC_KHANH),
                _item("placements", _placement(today - timedelta(days=60))),
                _item("placements", _placement(today, "Đội phó")),
                _family(),
            ],
        )
        # A recruitment 45 days ago (late, however the days fall), and a placement of today.
        second = await _person(api, division, "Lê Thị Đúng", [_recruitment(today - timedelta(days=45))])
        on_time = await api.post(f"/v1/persons/{second}/placements", json=_placement(today))
        assert on_time.status_code == 201, on_time.text

        whole = await _report(api, team, include_subtree=True)
        assert whole["rule"] == "customs"
        assert {(x["kind"], x["days"], x["counting"]) for x in whole["limits"]} == {
            ("new_record", 3, "working_days"),
            ("update", 3, "working_days"),
        }
        assert _counts(whole) == {team: (3, 2, 0.667), division: (2, 1, 0.5), None: (5, 3, 0.6)}
        assert [u["unit_id"] for u in whole["units"]] == [team, division], "tree order"
        late = whole["late_entries"]
        assert len(late) == 3
        assert all(e["entered_by"] == _subject(system, ADMIN) for e in late)
        mine = sorted((e for e in late if e["person_id"] == first), key=lambda e: e["event_date"])
        assert [(e["person_name"], e["section"], e["kind"], e["event_date"], e["deadline"]) for e in mine] == [
            ("Phạm Văn Hạn", "recruitment", "new_record", BEFORE_TET.isoformat(), DUE_AFTER_TET.isoformat()),
            (
                "Phạm Văn Hạn",
                "recruitment",
                "new_record",
                BEFORE_QUOC_KHANH.isoformat(),
                DUE_AFTER_QUOC_KHANH.isoformat(),
            ),
        ]
        for entry in late:
            entered_on = datetime.fromisoformat(entry["entered_at"]).astimezone(VIETNAM).date()
            assert entry["days_late"] == (entered_on - date.fromisoformat(entry["deadline"])).days > 0
        (theirs,) = (e for e in late if e["person_id"] == second)
        assert (theirs["unit_id"], theirs["event_date"]) == (division, (today - timedelta(days=45)).isoformat())

        # The unit alone, and a page at a time, oldest entered first.
        assert _counts(await _report(api, team)) == {team: (3, 2, 0.667), None: (3, 2, 0.667)}
        page = await _report(api, team, include_subtree=True, page_size=2)
        assert len(page["late_entries"]) == 2
        assert page["next_page_token"]
        rest = await _report(api, team, include_subtree=True, page_size=2, page_token=page["next_page_token"])
        assert rest["next_page_token"] is None
        paged = [e["entry_id"] for e in page["late_entries"] + rest["late_entries"]]
        assert sorted(paged) == sorted(e["entry_id"] for e in late)
        assert len(set(paged)) == 3
        # A period before any of it: nothing.
        empty = await _report(api, team, include_subtree=True, **{"from": "2025-01-01", "to": "2025-12-31"})
        assert _counts(empty) == {None: (0, 0, 0.0)}
        assert empty["late_entries"] == []

    after = await _metrics(system)
    moved = {key: after[key] - before[key] for key in after}
    assert moved == {
        ("recruitment", "late"): 3,
        ("placements", "on_time"): 2,
        ("placements", "history"): 1,
        ("family", "history"): 1,
    }


async def test_a_decision_entered_late_and_a_correction_and_a_retraction(system: System) -> None:
    today = _today()
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        team = await _unit(api, system.unit_ids["HQHN"], "Đội Quyết định muộn")
        person = await _person(api, team, "Vũ Văn Sửa", [])
        # A recruitment decision that took effect on the Friday before Quốc khánh, entered today: its
        # entry is applied at once and is late from 7 September.
        decided = await api.post(
            "/v1/decisions",
            json={
                "kind": "recruitment",
                "number": f"{unique_code('Q')[-6:]}/QĐ-HQHN",
                "decision_date": BEFORE_QUOC_KHANH.isoformat(),
                "effective_date": BEFORE_QUOC_KHANH.isoformat(),
                "summary": "Tuyển dụng công chức",
                "body": "Cục Hải quan TP Hà Nội",
                "signer": "Nguyễn Văn Ký",
                "signer_post": "Cục trưởng",
                "items": [{"person_id": person, "values": {"body": "Cục Hải quan TP Hà Nội"}}],
            },
        )
        assert decided.status_code == 201, decided.text
        assert decided.json()["state"] == "applied"
        # A placement of today (on time), then corrected to a day of last week: a correction is not a
        # new entry, and the entry is judged again with its corrected date: before the record was
        # created (today), so history, no longer measured.
        placed = await api.post(f"/v1/persons/{person}/placements", json=_placement(today))
        assert placed.status_code == 201, placed.text
        entry = placed.json()["entry_id"]
        report = await _report(api, team)
        assert _counts(report) == {team: (2, 1, 0.5), None: (2, 1, 0.5)}
        (late,) = report["late_entries"]
        assert (late["section"], late["event_date"], late["deadline"]) == (
            "recruitment",
            BEFORE_QUOC_KHANH.isoformat(),
            DUE_AFTER_QUOC_KHANH.isoformat(),
        )
        assert late["entered_by"] == _subject(system, ADMIN)

        corrected = await api.put(
            f"/v1/persons/{person}/placements/{entry}",
            json=_placement(today - timedelta(days=7)),
            headers={"If-Match": '"1"'},
        )
        assert corrected.status_code == 200, corrected.text
        assert _counts(await _report(api, team)) == {team: (1, 1, 1.0), None: (1, 1, 1.0)}

        # A concurrent post of today, then retracted as a mistake: it leaves the measure.
        mistaken = await api.post(f"/v1/persons/{person}/concurrent_posts", json=_concurrent(today))
        assert mistaken.status_code == 201, mistaken.text
        assert _counts(await _report(api, team)) == {team: (2, 1, 0.5), None: (2, 1, 0.5)}
        retracted = await api.delete(
            f"/v1/persons/{person}/concurrent_posts/{mistaken.json()['entry_id']}", headers={"If-Match": '"1"'}
        )
        assert retracted.status_code == 200, retracted.text
        assert _counts(await _report(api, team)) == {team: (1, 1, 1.0), None: (1, 1, 1.0)}


def _concurrent(day: date) -> dict[str, Any]:
    return {
        "values": {"unit_name": "Đội Nghiệp vụ", "post": "Tổ trưởng"},
        "valid_from": day.isoformat(),
        "decision": DECISION | {"date": day.isoformat()},
    }


async def test_each_reader_counts_the_sections_it_reads_in_its_scope(system: System) -> None:
    today = _today()
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        team = await _unit(api, system.unit_ids["HQHN"], "Đội Phạm vi thời hạn")
        person = await _person(api, team, "Đỗ Văn Phạm", [_recruitment(today - timedelta(days=45))])
        # An asset declaration of today: a section Hà Nội's officer was not granted.
        declared = await api.post(
            f"/v1/persons/{person}/asset_declarations",
            json={
                "values": {"year": today.year, "receiving_body": "Cục Hải quan TP Hà Nội"},
                "valid_from": today.isoformat(),
            },
        )
        assert declared.status_code == 201, declared.text
        assert _counts(await _report(api, team)) == {team: (2, 1, 0.5), None: (2, 1, 0.5)}

    async with api_client(system.gateway_url, system.token("qthanoi")) as admin_of_hanoi:
        assert _counts(await _report(admin_of_hanoi, team)) == {team: (2, 1, 0.5), None: (2, 1, 0.5)}
    async with api_client(system.gateway_url, system.token("nhansu1.hanoi")) as officer:
        # Granted identity and work history: the recruitment counts, the asset declaration does not.
        report = await _report(officer, team)
        assert _counts(report) == {team: (1, 1, 1.0), None: (1, 1, 1.0)}
        assert [e["section"] for e in report["late_entries"]] == ["recruitment"]
    period = {"from": today.isoformat(), "to": today.isoformat()}
    async with api_client(system.gateway_url, system.token("thutruong.hcm")) as leader_elsewhere:
        refused = await leader_elsewhere.get(f"/v1/units/{team}/late-entries", params=period)
        assert refused.status_code == 403, refused.text
    async with api_client(system.gateway_url, system.token("canbo.noibai")) as civil_servant:
        refused = await civil_servant.get(f"/v1/units/{team}/late-entries", params=period)
        assert refused.status_code == 403, refused.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-06-02", "to": "2026-06-01"}, "to"),  # ends before it starts
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),  # 367 days
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),  # no such day
        ({"from": "01/06/2026", "to": "2026-06-30"}, "from"),  # not ISO 8601
        ({"to": "2026-06-30"}, "from"),  # missing
        ({"from": "2026-06-01", "to": "2026-06-30", "page_size": "0"}, "page_size"),
        ({"from": "2026-06-01", "to": "2026-06-30", "page_size": "501"}, "page_size"),
        ({"from": "2026-06-01", "to": "2026-06-30", "page_token": "not-a-token"}, "page_token"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(system: System, params: dict[str, str], field: str) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        response = await api.get(f"/v1/units/{system.unit_ids['HQHN']}/late-entries", params=params)
    assert response.status_code == 422, response.text
    assert [fault["loc"][-1] for fault in response.json()["detail"]] == [field]


async def test_a_year_is_the_longest_period_and_an_unknown_unit_is_not_found(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        for period in ({"from": "2024-01-01", "to": "2024-12-31"}, {"from": "2025-01-01", "to": "2026-01-01"}):
            year = await api.get(f"/v1/units/{system.unit_ids['HQHN']}/late-entries", params=period)
            assert year.status_code == 200, f"366 days: {year.text}"
        unknown = await api.get(
            "/v1/units/no-such-unit/late-entries", params={"from": "2026-01-01", "to": "2026-01-31"}
        )
        assert unknown.status_code == 404, unknown.text


async def test_status_changes_and_transfers_are_measured_as_updates_and_what_did_not_happen_leaves(
    system: System,
) -> None:
    """R-PER-4: "updates within their deadline" covers a retirement, a resignation or a transfer as
    much as a record section. A status change entered a month after it took effect is late; one
    entered on its day is on time; a decision's status change counts from the decision's entry, and
    leaves the measure when the decision is cancelled; a transfer withdrawn leaves it too."""
    today = _today()
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        team = await _unit(api, system.unit_ids["HQHN"], "Đội Biến động muộn")
        retiree, leaver, mistaken = [
            await _person(api, team, name, []) for name in ("Hà Văn Hưu", "Lê Thị Nghỉ", "Tạ Văn Nhầm")
        ]
        # Records kept here for two months already: their changes are updates, not history taken in.
        connection = await asyncpg.connect(system.postgres_dsn("personnel"))
        try:
            await connection.execute(
                "UPDATE persons SET created_at = created_at - interval '60 days' WHERE id = ANY($1::text[])",
                [retiree, mistaken],
            )
        finally:
            await connection.close()
        late_day = today - timedelta(days=30)
        changes = {
            retiree: {"status": "retired", "effective_date": late_day.isoformat(), "decision": "31/QĐ-HQHN"},
            leaver: {"status": "resigned", "effective_date": today.isoformat(), "decision": "32/QĐ-HQHN"},
        }
        for person, change in changes.items():
            recorded = await api.post(f"/v1/persons/{person}/status", json=change)
            assert recorded.status_code == 200, recorded.text
        report = await _report(api, team)
        assert _counts(report) == {team: (2, 1, 0.5), None: (2, 1, 0.5)}
        (late,) = report["late_entries"]
        assert (late["section"], late["person_id"], late["event_date"]) == ("status", retiree, late_day.isoformat())

        decided = await api.post(
            "/v1/decisions",
            json={
                "kind": "resignation",
                "number": f"{unique_code('Q')[-6:]}/QĐ-HQHN",
                "decision_date": late_day.isoformat(),
                "effective_date": late_day.isoformat(),
                "summary": "Thôi việc theo nguyện vọng",
                "body": "Cục Hải quan TP Hà Nội",
                "signer": "Nguyễn Văn Ký",
                "signer_post": "Cục trưởng",
                "items": [{"person_id": mistaken}],
            },
        )
        assert decided.status_code == 201, decided.text
        assert _counts(await _report(api, team)) == {team: (3, 2, 0.667), None: (3, 2, 0.667)}
        cancelled = await api.post(
            f"/v1/decisions/{decided.json()['id']}/cancel",
            json={"reason": "Nhầm người"},
            headers={"If-Match": decided.headers["ETag"]},
        )
        assert cancelled.status_code == 200, cancelled.text
        assert _counts(await _report(api, team)) == {team: (2, 1, 0.5), None: (2, 1, 0.5)}

        # A transfer to another unit is a movement too, measured when the sending unit enters it; one
        # withdrawn never happened and leaves the measure.
        other = await _unit(api, system.unit_ids["HQHN"], "Đội Nhận điều động")
        move = {"person_id": mistaken, "to_unit_id": other, "effective_date": late_day.isoformat(), "decision": "33/QĐ"}
        sent = await api.post("/v1/transfers", json=move)
        assert sent.status_code == 201, sent.text
        report = await _report(api, team)
        assert _counts(report) == {team: (3, 2, 0.667), None: (3, 2, 0.667)}
        assert {(e["section"], e["person_id"]) for e in report["late_entries"]} == {
            ("status", retiree),
            ("transfer", mistaken),
        }
        withdrawn = await api.post(f"/v1/transfers/{sent.json()['id']}/withdraw", json={"reason": "Gửi nhầm"})
        assert withdrawn.status_code == 200, withdrawn.text
        assert _counts(await _report(api, team)) == {team: (2, 1, 0.5), None: (2, 1, 0.5)}
