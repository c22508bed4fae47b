"""The running services against the authorization table written from the regulation
(`tests/authz_oracle.py`, issue 17.1): every REST operation of the gateway, called by every tier's
demo login (a real Keycloak login) on each target the table names, answers as the table says:
done, refused (403), or refused as if the record did not exist (404). Nothing here asks the policy
code what to expect."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import grpc
import httpx
import pytest

from qlcb.reports.v1 import reports_pb2, reports_pb2_grpc
from qlcb_common.record_sections import SECTIONS, Kind, RecordSection, Timing
from qlcb_devstack import demo
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_gateway.app import create_app
from qlcb_reports.regimes.periods import today as vietnam_today
from tests import authz_oracle
from tests.authz_oracle import LOGINS, RESUME_PARTS, TARGETS, WRITTEN_AS
from tests.support import System, api_client, eventually, unique_code

ADMIN = "quantri"
ELSEWHERE = "VPTC"  # the other end of the transfers a probe needs: a unit no login's targets name
DECIDED = {"effective_date": "2026-12-20", "decision": "20/QĐ-MT"}
EARLY, RETRACTED, LATE = date(2026, 7, 15), date(2026, 8, 15), date(2026, 9, 15)
"""The days of the admin's entries the probes read and correct, of those they retract, and of the
login's own. After the demo's histories end (1 July 2026), so that on the self login's own record
they follow what the demo wrote there and never overlap it."""
YEARS = {EARLY: 2016, RETRACTED: 2017, LATE: 2018}
"""The year an evaluation or asset declaration of each is for: one entry per year, a year already
past on its day (an evaluation of a year to come is refused), and one the demo's records leave free
(their evaluations begin in 2020, their declarations in 2019)."""
TITLES = {EARLY: 0, RETRACTED: 1, LATE: 2}
"""Which honorary title each is (the catalog's first, second or third): one entry per title."""

Prober = Callable[["Probe"], Awaitable[httpx.Response]]


@dataclass
class Probe:
    """One call of one login on one target, with what the admin prepared for it."""

    system: System
    api: httpx.AsyncClient  # as the login
    admin: httpx.AsyncClient  # as the system admin
    catalogs: dict[str, list[dict[str, Any]]]
    login: str
    target: str
    unit_code: str | None  # the target's unit (None for "any")
    regimes_made: asyncio.Lock  # one login's probes share it: each regime is made once
    prepared: dict[str, Any] = field(default_factory=dict)

    @property
    def unit_id(self) -> str:
        assert self.unit_code is not None
        return self.system.unit_ids[self.unit_code]


def _succeeded(response: httpx.Response) -> bool:
    return 200 <= response.status_code < 300


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    row: str  # the table's operation
    call: Prober
    granted: Callable[[httpx.Response], bool] = _succeeded
    """What an allowed call answers: success, unless the probe cannot let the call take effect."""


OPERATIONS: list[Operation] = []


def operation(
    method: str, path: str, row: str, granted: Callable[[httpx.Response], bool] = _succeeded
) -> Callable[[Prober], Prober]:
    def register(call: Prober) -> Prober:
        OPERATIONS.append(Operation(method, path, row, call, granted))
        return call

    return register


async def _created(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    answer = await response
    assert answer.status_code in (200, 201), answer.text
    body: dict[str, Any] = answer.json()
    return body


def _code() -> str:
    return unique_code("MT")


# ---- what the admin prepares ------------------------------------------------------------------


async def _new_unit(probe: Probe, parent_id: str | None = None) -> dict[str, Any]:
    body = {
        "code": _code(),
        "name": "Đội kiểm thử phân quyền",
        "kind": "sub_unit",
        "parent_id": parent_id or probe.unit_id,
    }
    return await _created(probe.admin.post("/v1/units", json=body))


async def _new_person(probe: Probe, unit_id: str | None = None) -> str:
    body = {
        "personal_id": f"{uuid.uuid4().int % 10**12:012d}",
        "staff_number": unique_code("P"),
        "full_name": "Kiều Văn Phân Quyền",
        "date_of_birth": "1985-04-05",
        "sex": "male",
        "unit_id": unit_id or probe.unit_id,
    }
    person_id: str = (await _created(probe.admin.post("/v1/persons", json=body)))["id"]
    return person_id


async def _the_person(probe: Probe) -> str:
    """Whose record the probe acts on: the self login's own for "me", else someone new there."""
    if probe.target == "me":
        async with api_client(probe.system.gateway_url, probe.system.token(ADMIN)) as admin:
            found = await admin.get(f"/v1/units/{probe.unit_id}/persons", params={"page_size": "500"})
        me = demo.self_person().personal_id
        person_id: str = next(p["id"] for p in found.json()["items"] if p["personal_id"] == me)
        return person_id
    return await _new_person(probe)


def _value(probe: Probe, section: RecordSection, name: str, kind: Kind, catalog: str | None, day: date) -> Any:
    """A value a careful clerk would enter, valid on `day`."""
    special: dict[str, Any] = {
        "rank_code": "08.051",
        "step": 1 if day == EARLY else 2,
        "coefficient": "2.34" if day == EARLY else "2.67",
        "year": YEARS[day],
        "birth_year": 1960,
        "term_months": 60,
    }
    if name in special:
        return special[name]
    if section.name == "honorary_titles" and name == "title":
        return probe.catalogs["honorary_titles"][TITLES[day]]["code"]
    if section.name == "trainings" and name == "level":
        return next(v["code"] for v in probe.catalogs["training_levels"] if v["attributes"].get("kind"))
    if section.name == "trainings" and name == "kind":
        return next(v["attributes"]["kind"] for v in probe.catalogs["training_levels"] if v["attributes"].get("kind"))
    if kind is Kind.CODE:
        assert catalog is not None
        return probe.catalogs[catalog][0]["code"]
    if kind is Kind.INTEGER:
        return 1
    if kind is Kind.DECIMAL:
        return "1.00"
    if kind is Kind.DATE:
        return day.isoformat()
    return "Kiểm thử phân quyền"


def _entry(probe: Probe, section: RecordSection, day: date) -> dict[str, Any]:
    values = {f.name: _value(probe, section, f.name, f.kind, f.catalog, day) for f in section.fields if f.required}
    body: dict[str, Any] = {"values": values}
    if section.timing is not Timing.FACTS:
        body["valid_from"] = day.isoformat()
    # Every entry cites a decision of the sector's head: one the sector HR may record in any unit
    # (whether it records others in a unit keeping its own records is finer: test_sector_hr_writes).
    body["decision"] = {"number": "7/QĐ-MT", "date": day.isoformat(), "body": "Tổng cục Hải quan"}
    return body


async def _seeded(probe: Probe) -> dict[str, Any]:
    """The person the reads and corrections act on, and one entry of every section the admin wrote
    there (version 1 each: nothing else writes to this record's sections)."""
    if "seeded" not in probe.prepared:
        person = await _the_person(probe)
        entries = [{"section": s.name} | _entry(probe, s, EARLY) | _ended(s) for s in SECTIONS]
        written = await _created(probe.admin.post(f"/v1/persons/{person}/record", json={"entries": entries}))
        probe.prepared["seeded"] = {"person": person} | {e["section"]: e["entry_id"] for e in written["entries"]}
    seeded: dict[str, Any] = probe.prepared["seeded"]
    return seeded


def _ended(section: RecordSection) -> dict[str, str]:
    """The seeded appointment has ended: the person leads nothing today, so that an HQ unit may move
    them within the unit as its tier allows (a leader's placement is refused: test_hq_unit_moves)."""
    return {"valid_to": RETRACTED.isoformat()} if section.name == "appointments" else {}


async def _another(probe: Probe, purpose: str) -> str:
    """A person of the target for one purpose (the login's additions, the admin's entries the login
    retracts), so that no probe moves the version of an entry another probe names."""
    if purpose not in probe.prepared:
        probe.prepared[purpose] = await _the_person(probe)
    person: str = probe.prepared[purpose]
    return person


async def _prepare(probe: Probe) -> None:
    await _seeded(probe)
    for purpose in ("additions", "retractions"):
        await _another(probe, purpose)


def _decision(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": kind,
        "number": f"{unique_code('')[-6:]}/QĐ-MT",
        "decision_date": "2024-12-20",
        "effective_date": "2025-01-01",
        "summary": f"Quyết định {kind}",
        "body": "Tổng cục Hải quan",
        "signer": "Nguyễn Văn Ký",
        "signer_post": "Tổng cục trưởng",
        "items": items,
    }


# ---- the operations ---------------------------------------------------------------------------


@operation("GET", "/v1/unit-directory", "unit.directory")
async def _unit_directory(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/unit-directory", params={"q": "HQ"})


@operation("GET", "/v1/units/{unit_id}", "unit.read")
async def _get_unit(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/units/{p.unit_id}")


@operation("GET", "/v1/units/{unit_id}/history", "unit.read")
async def _unit_history(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/units/{p.unit_id}/history")


@operation("GET", "/v1/units/{unit_id}/decisions", "unit.read")
async def _unit_decisions(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/units/{p.unit_id}/decisions")


@operation("POST", "/v1/units", "unit.create")
async def _create_unit(p: Probe) -> httpx.Response:
    body = {"code": _code(), "name": "Đội kiểm thử phân quyền", "kind": "sub_unit", "parent_id": p.unit_id}
    return await p.api.post("/v1/units", json=body)


@operation("POST", "/v1/units/{unit_id}/rename", "unit.reorganise")
async def _rename_unit(p: Probe) -> httpx.Response:
    unit = await _new_unit(p)
    return await p.api.post(f"/v1/units/{unit['id']}/rename", json={"name": "Đội kiểm thử (đổi tên)"} | DECIDED)


@operation("POST", "/v1/units/{unit_id}/move", "unit.reorganise")
async def _move_unit(p: Probe) -> httpx.Response:
    unit, new_parent = await _new_unit(p), await _new_unit(p)
    return await p.api.post(f"/v1/units/{unit['id']}/move", json={"new_parent_id": new_parent["id"]} | DECIDED)


@operation("POST", "/v1/units/{unit_id}/dissolve", "unit.reorganise")
async def _dissolve_unit(p: Probe) -> httpx.Response:
    unit = await _new_unit(p)
    return await p.api.post(f"/v1/units/{unit['id']}/dissolve", json=DECIDED)


@operation("POST", "/v1/units/{unit_id}/split", "unit.reorganise")
async def _split_unit(p: Probe) -> httpx.Response:
    unit = await _new_unit(p)
    successors = [{"code": _code(), "name": f"Đội kiểm thử {n}", "kind": "sub_unit"} for n in (1, 2)]
    return await p.api.post(f"/v1/units/{unit['id']}/split", json={"successors": successors} | DECIDED)


@operation("POST", "/v1/unit-mergers", "unit.reorganise")
async def _merge_units(p: Probe) -> httpx.Response:
    source, target = await _new_unit(p), await _new_unit(p)
    body = {"source_unit_ids": [source["id"]], "target_unit_id": target["id"]} | DECIDED
    return await p.api.post("/v1/unit-mergers", json=body)


@operation("PUT", "/v1/units/{unit_id}/quotas/{year}", "unit.quota")
async def _set_quota(p: Probe) -> httpx.Response:
    unit = await _new_unit(p)
    return await p.api.put(f"/v1/units/{unit['id']}/quotas/2026", json={"quota": 0} | DECIDED)


@operation("GET", "/v1/units/{unit_id}/quotas/{year}", "unit.read")
async def _quota_report(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/units/{p.unit_id}/quotas/2026", params={"include_subtree": "true"})


@operation("GET", "/v1/units/{unit_id}/quotas/{year}/history", "unit.read")
async def _quota_history(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/units/{p.unit_id}/quotas/2026/history")


@operation("GET", "/v1/quotas/{year}/over", "unit.quota.over")
async def _units_over_quota(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/quotas/2026/over")


@operation("POST", "/v1/persons", "person.create")
async def _create_person(p: Probe) -> httpx.Response:
    body = {
        "personal_id": f"{uuid.uuid4().int % 10**12:012d}",
        "staff_number": unique_code("P"),
        "full_name": "Kiều Văn Ma Trận",
        "date_of_birth": "1991-02-03",
        "sex": "male",
        "unit_id": p.unit_id,
    }
    return await p.api.post("/v1/persons", json=body)


def _import_answer(response: httpx.Response) -> httpx.Response:
    """An import refused for its one row's record: as if that record did not exist (404) or as a
    refusal (403), the way the report words it; any other answer as it comes."""
    if response.status_code != 422:
        return response
    reasons = [f["msg"] for f in response.json()["detail"] if len(f["loc"]) > 1 and f["loc"][1] == 2]
    if reasons and all(r.startswith("Không có hồ sơ") for r in reasons):
        return httpx.Response(404, text=f"row 2: {reasons}")
    if reasons and all(r.startswith("Không có quyền") for r in reasons):
        return httpx.Response(403, text=f"row 2: {reasons}")
    return response


def _csv_file(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


@operation("GET", "/v1/imports/templates/{kind}", "import.template")
async def _import_template(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/imports/templates/placements", params={"format": "csv"})


@operation("POST", "/v1/imports/{kind}", "import.persons")
async def _import_persons(p: Probe) -> httpx.Response:
    header = ["Số định danh cá nhân", "Số hiệu cán bộ", "Họ và tên", "Ngày sinh", "Giới tính", "Mã đơn vị"]
    row = [f"{uuid.uuid4().int % 10**12:012d}", unique_code("P"), "Kiều Văn Nhập", "1990-02-03", "Nam", p.unit_code]
    answer = await p.api.post(
        "/v1/imports/persons", content=_csv_file([header, [str(v) for v in row]]), headers={"Content-Type": "text/csv"}
    )
    return _import_answer(answer)


@operation("POST", "/v1/imports/{kind}", "import.work_history")
async def _import_placements(p: Probe) -> httpx.Response:
    person = (await p.admin.get(f"/v1/persons/{await _the_person(p)}")).json()
    header = ["Số định danh cá nhân", "Từ ngày", "Cơ quan, đơn vị", "Chức danh, chức vụ"]
    header += ["Số quyết định", "Cơ quan quyết định"]
    row = [
        person["personal_id"],
        LATE.isoformat(),
        "Kiểm thử phân quyền",
        "Chuyên viên",
        "8/QĐ-MT",
        "Tổng cục Hải quan",
    ]
    answer = await p.api.post(
        "/v1/imports/placements", content=_csv_file([header, row]), headers={"Content-Type": "text/csv"}
    )
    return _import_answer(answer)


@operation("GET", "/v1/persons/{person_id}", "person.read")
async def _read_person(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/persons/{(await _seeded(p))['person']}")


@operation("GET", "/v1/persons/export", "person.export")
async def _export_persons(p: Probe) -> httpx.Response:
    """The target unit's staff as CSV: done if the file holds the probe's person, as if it did not
    exist (404) if it does not; a refusal as it comes."""
    person = (await p.admin.get(f"/v1/persons/{(await _seeded(p))['person']}")).json()
    params = {"format": "csv", "unit_id": person["unit_id"], "personal_id": person["personal_id"]}
    exported = await p.api.get("/v1/persons/export", params=params)
    if exported.status_code != 200:
        return exported
    held = person["personal_id"] in {row[4] for row in csv.reader(io.StringIO(exported.text.lstrip("\ufeff")))}
    return exported if held else httpx.Response(404, text="the export does not hold the person")


@operation("GET", "/v1/persons/{person_id}/record", "person.read")
async def _whole_record(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/persons/{(await _seeded(p))['person']}/record")


@operation("GET", "/v1/persons/{person_id}/resume", "person.read")
async def _resume(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/persons/{(await _seeded(p))['person']}/resume", params={"format": "json"})


@operation("GET", "/v1/units/{unit_id}/resumes", "unit.resumes")
async def _unit_resumes(p: Probe) -> httpx.Response:
    """The target unit's people, the probe's person among them, as one PDF."""
    await _seeded(p)
    return await p.api.get(f"/v1/units/{p.unit_id}/resumes")


@operation("GET", "/v1/persons/{person_id}/decisions", "person.read")
async def _person_decisions(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/persons/{(await _seeded(p))['person']}/decisions")


@operation("POST", "/v1/persons/{person_id}/record", "record.work_history.write")
async def _record_batch(p: Probe) -> httpx.Response:
    placements = next(s for s in SECTIONS if s.name == "placements")
    entry = {"section": "placements"} | _entry(p, placements, EARLY)
    return await p.api.post(f"/v1/persons/{await _the_person(p)}/record", json={"entries": [entry]})


@operation("POST", "/v1/persons/{person_id}/status", "person.status")
async def _change_status(p: Probe) -> httpx.Response:
    person = await _new_person(p)
    return await p.api.post(f"/v1/persons/{person}/status", json={"status": "resigned"} | DECIDED)


@operation("POST", "/v1/decisions", "record.rewards_discipline.write")
async def _reward_decision(p: Probe) -> httpx.Response:
    person = (await _seeded(p))["person"]
    body = _decision("reward", [{"person_id": person, "values": {"form": p.catalogs["reward_forms"][0]["code"]}}])
    return await p.api.post("/v1/decisions", json=body)


@operation("POST", "/v1/decisions", "person.status")
async def _resignation_decision(p: Probe) -> httpx.Response:
    person = await _new_person(p)
    return await p.api.post("/v1/decisions", json=_decision("resignation", [{"person_id": person}]))


async def _admins_reward_decision(p: Probe) -> dict[str, Any]:
    person = (await _seeded(p))["person"]
    body = _decision("reward", [{"person_id": person, "values": {"form": p.catalogs["reward_forms"][0]["code"]}}])
    return await _created(p.admin.post("/v1/decisions", json=body))


@operation("GET", "/v1/decisions/{decision_id}", "decision.read")
async def _read_decision(p: Probe) -> httpx.Response:
    decision = await _admins_reward_decision(p)
    return await p.api.get(f"/v1/decisions/{decision['id']}")


@operation("POST", "/v1/decisions/{decision_id}/cancel", "decision.cancel")
async def _cancel_decision(p: Probe) -> httpx.Response:
    decision = await _admins_reward_decision(p)
    return await p.api.post(
        f"/v1/decisions/{decision['id']}/cancel", json={"reason": "Ban hành nhầm"}, headers={"If-Match": '"1"'}
    )


async def _admins_transfer(p: Probe, from_unit: str, to_unit: str) -> dict[str, Any]:
    person = await _new_person(p, from_unit)
    body = {"person_id": person, "to_unit_id": to_unit} | DECIDED
    return await _created(p.admin.post("/v1/transfers", json=body))


@operation("POST", "/v1/transfers", "transfer.send")
async def _send_transfer(p: Probe) -> httpx.Response:
    person = await _new_person(p)
    body = {"person_id": person, "to_unit_id": p.system.unit_ids[ELSEWHERE]} | DECIDED
    return await p.api.post("/v1/transfers", json=body)


@operation("POST", "/v1/transfers/{transfer_id}/withdraw", "transfer.withdraw")
async def _withdraw_transfer(p: Probe) -> httpx.Response:
    transfer = await _admins_transfer(p, p.unit_id, p.system.unit_ids[ELSEWHERE])
    return await p.api.post(f"/v1/transfers/{transfer['id']}/withdraw", json={"reason": "Gửi nhầm"})


@operation("POST", "/v1/transfers/{transfer_id}/accept", "transfer.receive")
async def _accept_transfer(p: Probe) -> httpx.Response:
    transfer = await _admins_transfer(p, p.system.unit_ids[ELSEWHERE], p.unit_id)
    return await p.api.post(f"/v1/transfers/{transfer['id']}/accept")


@operation("POST", "/v1/transfers/{transfer_id}/decline", "transfer.receive")
async def _decline_transfer(p: Probe) -> httpx.Response:
    transfer = await _admins_transfer(p, p.system.unit_ids[ELSEWHERE], p.unit_id)
    return await p.api.post(f"/v1/transfers/{transfer['id']}/decline", json={"reason": "Chưa có chỉ tiêu"})


@operation("GET", "/v1/units/{unit_id}/transfers", "transfer.list")
async def _unit_transfers(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/units/{p.unit_id}/transfers")


@operation("GET", "/v1/units/{unit_id}/headcount", "reports.read")
async def _headcount(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/units/{p.unit_id}/headcount")


@operation("GET", "/v1/statistics/{form}", "reports.read")
async def _statistics_form(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/statistics/BM01", params={"unit": p.unit_id})


@operation("GET", "/v1/statistics/{form}/people", "reports.read")
async def _statistics_people(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/statistics/BM01/people", params={"unit": p.unit_id, "row": "total", "column": "women"})


@operation("GET", "/v1/statistics/{form}/export", "reports.read")
async def _statistics_export(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/statistics/BM01/export", params={"unit": p.unit_id, "format": "csv"})


@operation("GET", "/v1/statistics/generations", "statistics.rebuild")
async def _statistics_generations(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/statistics/generations")


@operation(
    "POST", "/v1/statistics/rebuild", "statistics.rebuild", lambda r: r.status_code == 202 or r.status_code == 409
)
async def _statistics_rebuild(p: Probe) -> httpx.Response:
    """Allowed, a rebuild starts, or is refused as under way (409) when another test started one."""
    return await p.api.post("/v1/statistics/rebuild")


@operation("GET", "/v1/units/{unit_id}/late-entries", "late_entries.read")
async def _late_entries(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/units/{p.unit_id}/late-entries", params={"from": "2026-01-01", "to": "2026-12-31"})


# ---- the report workflow: every report the probes act on is the admin's making ------------------

REPORT_INDICATORS = [{"code": "so_luong", "label": "Số lượng", "kind": "number", "required": True, "integer": True}]
REPORTED = {"so_luong": 12}


REGIMES: dict[tuple[str, int], dict[str, Any]] = {}
"""The thematic regimes the probes read and open their periods in, one per issuer and unit level,
kept for the module: making a regime signs its template, the dearest call a probe made of reports.
Each probe opens a period of its own, so no probe sees another's reports."""


async def _report_regime(p: Probe, issuer_code: str, level: int) -> dict[str, Any]:
    async with p.regimes_made:
        if (issuer_code, level) not in REGIMES:
            REGIMES[issuer_code, level] = await _new_regime(p, issuer_code, level)
        return REGIMES[issuer_code, level]


def _period_key() -> str:
    return unique_code("MT-")


async def _new_regime(p: Probe, issuer_code: str, level: int) -> dict[str, Any]:
    body = {
        "code": unique_code("MT-"),
        "name": "Báo cáo kiểm thử phân quyền",
        "kind": "thematic",
        "legal_basis": "Quyết định 239/QĐ-UBND",
        "issuer_unit_id": p.system.unit_ids[issuer_code],
        "unit_levels": [level],
        "deadline_days": 0,
        "indicators": REPORT_INDICATORS,
    }
    return await _created(p.admin.post("/v1/report-regimes", json=body))


async def _report(
    p: Probe, state: str = "not_started", *, code: str | None = None, late: bool = False
) -> dict[str, Any]:
    """A report of the target's unit (or `code`'s) in `state`, in a period of its own of the thematic
    regime issued by the unit directly above, for the units of its level there."""
    path = UNIT_PATHS[code or p.unit_code or ""]
    parts = path.strip("/").split("/")
    regime = await _report_regime(p, parts[-2], len(parts))
    due = date(2026, 2, 5) if late else vietnam_today() + timedelta(days=365)
    dates = {"starts_on": "2026-01-01", "ends_on": "2026-01-31", "deadline": due.isoformat()}
    period = await _created(
        p.admin.post(f"/v1/report-regimes/{regime['id']}/periods", json={"period": _period_key()} | dates)
    )
    unit_id = p.system.unit_ids[parts[-1]]
    listed = await _created(
        p.admin.get(f"/v1/report-periods/{period['period']['id']}/assignments", params={"unit_id": unit_id})
    )
    report: dict[str, Any] = next(a for a in listed["items"] if a["unit_id"] == unit_id)
    await _report_state(p, report, state)
    return report


async def _report_state(p: Probe, report: dict[str, Any], state: str) -> None:
    """Takes the report from not_started to `state` (draft, submitted or approved). The second system
    admin, never a probed login, writes and sends it, so that any probed login may approve it (the
    sender may not), and the admin approves it."""
    steps = {"draft": 1, "submitted": 2, "approved": 3}.get(state, 0)
    async with api_client(p.system.gateway_url, p.system.token("quantri2")) as sender:
        if steps >= 1:
            await _created(sender.put(f"/v1/report-assignments/{report['id']}/values", json={"values": REPORTED}))
        if steps >= 2:
            await _created(sender.post(f"/v1/report-assignments/{report['id']}/submit", json={}))
    if steps >= 3:
        await _created(p.admin.post(f"/v1/report-assignments/{report['id']}/approve", json={}))


async def _read_report(p: Probe) -> dict[str, Any]:
    if "report" not in p.prepared:
        p.prepared["report"] = await _report(p)
    report: dict[str, Any] = p.prepared["report"]
    return report


async def _sub_unit_known(p: Probe) -> str:
    """A new unit under the target, once reports knows it."""
    unit_id: str = (await _new_unit(p))["id"]

    async def known() -> int:
        return (await p.admin.get(f"/v1/units/{unit_id}/headcount")).status_code

    await eventually(known, lambda status: status == 200, timeout=60, what="reports to know the new unit")
    return unit_id


@operation("GET", "/v1/report-regimes", "report_regime.read")
async def _list_regimes(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/report-regimes")


@operation("GET", "/v1/report-regimes/{regime_id}", "report_regime.read")
async def _get_regime(p: Probe) -> httpx.Response:
    regime = await _report_regime(p, "HQHN", 3)
    return await p.api.get(f"/v1/report-regimes/{regime['id']}")


@operation("GET", "/v1/report-regimes/{regime_id}/periods", "report_regime.read")
async def _list_periods(p: Probe) -> httpx.Response:
    regime = await _report_regime(p, "HQHN", 3)
    return await p.api.get(f"/v1/report-regimes/{regime['id']}/periods")


@operation("POST", "/v1/report-regimes", "report_regime.write")
async def _create_regime(p: Probe) -> httpx.Response:
    body = {
        "code": unique_code("MT-"),
        "name": "Báo cáo kiểm thử phân quyền",
        "kind": "periodic",
        "frequency": "year",
        "legal_basis": "Thông tư 11/2012/TT-BNV",
        "issuer_unit_id": p.system.unit_ids["TCHQ"],
        "deadline_days": 14,
        "deadline_counting": "calendar_days",
        "indicators": REPORT_INDICATORS,
        "opens_periods": False,
    }
    return await p.api.post("/v1/report-regimes", json=body)


@operation("POST", "/v1/report-regimes/{regime_id}/versions", "report_regime.write")
async def _add_template_version(p: Probe) -> httpx.Response:
    regime = await _report_regime(p, "HQHN", 3)
    body = {"outline": "Phiên bản 2", "indicators": REPORT_INDICATORS}
    return await p.api.post(f"/v1/report-regimes/{regime['id']}/versions", json=body)


@operation("POST", "/v1/report-regimes/{regime_id}/periods", "report_regime.write")
async def _open_period(p: Probe) -> httpx.Response:
    regime = await _report_regime(p, "HQHN", 3)
    dates = {"starts_on": "2026-01-01", "ends_on": "2026-01-31", "deadline": "2026-02-05"}
    return await p.api.post(f"/v1/report-regimes/{regime['id']}/periods", json={"period": _period_key()} | dates)


@operation("POST", "/v1/report-assignments/{assignment_id}/lock-exception", "report_regime.write")
async def _lock_exception(p: Probe) -> httpx.Response:
    report = await _report(p, code="HQHN-NB", late=True)
    body = {"until": vietnam_today().isoformat(), "reason": "Gửi bằng văn bản khi hệ thống gián đoạn"}
    return await p.api.post(f"/v1/report-assignments/{report['id']}/lock-exception", json=body)


@operation("GET", "/v1/report-periods/{period_id}/assignments", "report.read")
async def _list_reports(p: Probe) -> httpx.Response:
    report = await _read_report(p)
    return await p.api.get(f"/v1/report-periods/{report['period_id']}/assignments", params={"unit_id": p.unit_id})


@operation("GET", "/v1/report-periods/{period_id}/completeness", "report.read")
async def _report_completeness(p: Probe) -> httpx.Response:
    report = await _read_report(p)
    return await p.api.get(f"/v1/report-periods/{report['period_id']}/completeness", params={"unit_id": p.unit_id})


@operation("GET", "/v1/report-assignments/{assignment_id}", "report.read")
async def _get_report(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/report-assignments/{(await _read_report(p))['id']}")


@operation("GET", "/v1/report-assignments/{assignment_id}/export", "report.read")
async def _export_report(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/report-assignments/{(await _read_report(p))['id']}/export", params={"format": "csv"})


@operation("GET", "/v1/report-periods/{period_id}/rollup", "report.read")
async def _export_rollup(p: Probe) -> httpx.Response:
    report = await _read_report(p)
    return await p.api.get(
        f"/v1/report-periods/{report['period_id']}/rollup", params={"unit_id": p.unit_id, "format": "csv"}
    )


@operation("GET", "/v1/report-periods/{period_id}/chart", "report.read")
async def _report_chart(p: Probe) -> httpx.Response:
    report = await _read_report(p)
    return await p.api.get(
        f"/v1/report-periods/{report['period_id']}/chart", params={"unit_id": p.unit_id, "format": "json"}
    )


@operation("PUT", "/v1/report-assignments/{assignment_id}/values", "report.send")
async def _save_report(p: Probe) -> httpx.Response:
    report = await _report(p)
    return await p.api.put(f"/v1/report-assignments/{report['id']}/values", json={"values": REPORTED})


@operation("POST", "/v1/report-assignments/{assignment_id}/submit", "report.send")
async def _submit_report(p: Probe) -> httpx.Response:
    report = await _report(p, "draft")
    return await p.api.post(f"/v1/report-assignments/{report['id']}/submit", json={})


@operation("POST", "/v1/report-assignments/{assignment_id}/recall", "report.send")
async def _recall_report(p: Probe) -> httpx.Response:
    report = await _report(p, "submitted")
    return await p.api.post(f"/v1/report-assignments/{report['id']}/recall", json={})


@operation("POST", "/v1/report-assignments/{assignment_id}/sub-assignments", "report.send")
async def _sub_assign_report(p: Probe) -> httpx.Response:
    report, below = await _report(p), await _sub_unit_known(p)
    return await p.api.post(f"/v1/report-assignments/{report['id']}/sub-assignments", json={"unit_ids": [below]})


@operation("POST", "/v1/report-assignments/{assignment_id}/consolidate", "report.send")
async def _consolidate_report(p: Probe) -> httpx.Response:
    report, below = await _report(p), await _sub_unit_known(p)
    given = await p.admin.post(f"/v1/report-assignments/{report['id']}/sub-assignments", json={"unit_ids": [below]})
    assert given.status_code == 201, given.text
    await _report_state(p, given.json()[0], "approved")
    return await p.api.post(f"/v1/report-assignments/{report['id']}/consolidate")


@operation("POST", "/v1/report-assignments/{assignment_id}/approve", "report.approve")
async def _approve_report(p: Probe) -> httpx.Response:
    report = await _report(p, "submitted")
    return await p.api.post(f"/v1/report-assignments/{report['id']}/approve", json={})


@operation("POST", "/v1/report-assignments/{assignment_id}/return", "report.approve")
async def _return_report(p: Probe) -> httpx.Response:
    report = await _report(p, "submitted")
    return await p.api.post(f"/v1/report-assignments/{report['id']}/return", json={"reason": "Thiếu số liệu"})


@operation("POST", "/v1/report-assignments/{assignment_id}/reopen", "report.approve")
async def _reopen_report(p: Probe) -> httpx.Response:
    report = await _report(p, "approved")
    return await p.api.post(f"/v1/report-assignments/{report['id']}/reopen", json={"reason": "Cần đính chính"})


@operation("GET", "/v1/report-rollup/deliveries", "report_rollup.read")
async def _rollup_deliveries(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/report-rollup/deliveries", params={"limit": "10"})


@operation("POST", "/v1/report-rollup/deliveries/{delivery_id}/retry", "report_rollup.operate")
async def _retry_rollup(p: Probe) -> httpx.Response:
    """A delivery pending (the suite's reports has no national endpoint): sent again at once."""
    report = await _report(p, "approved", code="HQHN-NB")
    listed = await _created(p.admin.get("/v1/report-rollup/deliveries", params={"period_id": report["period_id"]}))
    return await p.api.post(f"/v1/report-rollup/deliveries/{listed['items'][0]['id']}/retry")


@operation("POST", "/v1/report-assignments/{assignment_id}/sent-outside", "report_rollup.operate")
async def _sent_outside(p: Probe) -> httpx.Response:
    report = await _report(p, code="HQHN-NB")
    body = {"sent_on": vietnam_today().isoformat(), "channel": "Văn bản điện tử", "reference": "12/BC-HQHN"}
    return await p.api.post(f"/v1/report-assignments/{report['id']}/sent-outside", json=body)


async def _signed_report(p: Probe) -> dict[str, Any]:
    if "signed_report" not in p.prepared:
        p.prepared["signed_report"] = await _report(p, "submitted")
    report: dict[str, Any] = p.prepared["signed_report"]
    return report


@operation("GET", "/v1/report-assignments/{assignment_id}/signed-document", "report.read")
async def _signed_report_pdf(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/report-assignments/{(await _signed_report(p))['id']}/signed-document")


@operation("GET", "/v1/report-assignments/{assignment_id}/signed-document/verification", "report.read")
async def _verify_signed_report(p: Probe) -> httpx.Response:
    report = await _signed_report(p)
    return await p.api.get(f"/v1/report-assignments/{report['id']}/signed-document/verification")


@operation("POST", "/v1/report-assignments/{assignment_id}/signed-document/verification", "report.read")
async def _verify_signed_copy(p: Probe) -> httpx.Response:
    path = f"/v1/report-assignments/{(await _signed_report(p))['id']}/signed-document"
    copy = await p.admin.get(path)
    assert copy.status_code == 200, copy.text
    return await p.api.post(f"{path}/verification", content=copy.content, headers={"content-type": "application/pdf"})


@operation("GET", "/v1/report-regimes/{regime_id}/versions/{version}/signed-document", "report_regime.read")
async def _signed_template(p: Probe) -> httpx.Response:
    regime = await _report_regime(p, "HQHN", 3)
    return await p.api.get(f"/v1/report-regimes/{regime['id']}/versions/1/signed-document")


@operation(
    "GET", "/v1/report-regimes/{regime_id}/versions/{version}/signed-document/verification", "report_regime.read"
)
async def _verify_signed_template(p: Probe) -> httpx.Response:
    regime = await _report_regime(p, "HQHN", 3)
    return await p.api.get(f"/v1/report-regimes/{regime['id']}/versions/1/signed-document/verification")


@operation("GET", "/v1/report-signing/units/{unit_id}/certificates", "reports.read")
async def _unit_certificates(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/report-signing/units/{p.unit_id}/certificates")


@operation("GET", "/v1/report-signing/units/{unit_id}/key-changes", "reports.read")
async def _unit_key_changes(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/report-signing/units/{p.unit_id}/key-changes")


@operation("POST", "/v1/report-signing/units/{unit_id}/rotate", "signing_key.manage")
async def _rotate_unit_key(p: Probe) -> httpx.Response:
    return await p.api.post(f"/v1/report-signing/units/{p.unit_id}/rotate")


@operation("POST", "/v1/report-signing/units/{unit_id}/revoke", "signing_key.manage")
async def _revoke_unit_key(p: Probe) -> httpx.Response:
    await _created(p.admin.post(f"/v1/report-signing/units/{p.unit_id}/rotate"))
    return await p.api.post(f"/v1/report-signing/units/{p.unit_id}/revoke", json={"reason": "Kiểm thử phân quyền"})


@operation("GET", "/v1/report-signing/revocation-list", "report_regime.read")
async def _revocation_list(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/report-signing/revocation-list")


@operation("GET", "/v1/report-signing/authority", "report_regime.read")
async def _signing_authority(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/report-signing/authority")


@operation("GET", "/v1/units/{unit_id}/retirements-due", "unit.read")
async def _retirements_due(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/units/{p.unit_id}/retirements-due", params={"from": "2027-01-01"})


@operation("GET", "/v1/units/{unit_id}/terms-ending", "unit.read")
async def _terms_ending(p: Probe) -> httpx.Response:
    return await p.api.get(f"/v1/units/{p.unit_id}/terms-ending", params={"from": "2027-01-01"})


@operation("GET", "/v1/catalogs/{catalog}", "catalog.read")
async def _read_catalog(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/catalogs/ranks")


@operation("GET", "/v1/statistics", "catalog.read")
async def _statistics_forms(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/statistics")


@operation("GET", "/v1/decision-kinds", "catalog.read")
async def _decision_kinds(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/decision-kinds")


_NEW_FORM = {"label": "Hình thức kiểm thử", "valid_from": "2026-01-01", "legal_basis": "Kiểm thử phân quyền"}


@operation("PUT", "/v1/catalogs/{catalog}/{code}", "catalog.write")
async def _put_catalog_value(p: Probe) -> httpx.Response:
    return await p.api.put(f"/v1/catalogs/reward_forms/{_code()}", json=_NEW_FORM)


@operation("POST", "/v1/catalogs/{catalog}/{code}/end", "catalog.write")
async def _end_catalog_value(p: Probe) -> httpx.Response:
    code = _code()
    await _created(p.admin.put(f"/v1/catalogs/reward_forms/{code}", json=_NEW_FORM))
    return await p.api.post(f"/v1/catalogs/reward_forms/{code}/end", json={"valid_to": "2026-12-31"})


@operation("GET", "/v1/backups", "backup.operate")
async def _list_backups(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/backups")


@operation("POST", "/v1/backups", "backup.operate")
async def _create_backup(p: Probe) -> httpx.Response:
    return await p.api.post("/v1/backups", json={"store": "reports"})


@operation("GET", "/v1/backup-sets", "backup.operate")
async def _list_backup_sets(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/backup-sets")


@operation("POST", "/v1/backup-sets", "backup.operate")
async def _create_backup_set(p: Probe) -> httpx.Response:
    return await p.api.post("/v1/backup-sets", json={"stores": ["reports"]})


@operation("POST", "/v1/backup-sets/prune", "backup.operate")
async def _prune_backup_sets(p: Probe) -> httpx.Response:
    return await p.api.post("/v1/backup-sets/prune")


async def _requested_restore(p: Probe, *, by_second_admin: bool = False) -> dict[str, Any]:
    """A restore of reports' part, asked by the admin (or by the second system admin, so that the
    admin's own login may confirm it)."""
    backup = await _created(p.admin.post("/v1/backups", json={"store": "reports"}))
    body = {"set_id": backup["set_id"], "target_suffix": f"oracle_{uuid.uuid4().hex[:12]}", "reason": "Kiểm tra"}
    if not by_second_admin:
        return await _created(p.admin.post("/v1/restores", json=body))
    async with api_client(p.system.gateway_url, p.system.token("quantri2")) as second:
        return await _created(second.post("/v1/restores", json=body))


@operation("POST", "/v1/restores", "backup.operate")
async def _request_restore(p: Probe) -> httpx.Response:
    backup = await _created(p.admin.post("/v1/backups", json={"store": "reports"}))
    body = {"set_id": backup["set_id"], "target_suffix": f"oracle_{uuid.uuid4().hex[:12]}", "reason": "Kiểm tra"}
    return await p.api.post("/v1/restores", json=body)


@operation("GET", "/v1/restores", "backup.operate")
async def _list_restores(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/restores")


@operation("POST", "/v1/restores/{restore_id}/confirm", "backup.operate")
async def _confirm_restore(p: Probe) -> httpx.Response:
    restore = await _requested_restore(p, by_second_admin=True)
    return await p.api.post(f"/v1/restores/{restore['id']}/confirm")


@operation("POST", "/v1/restores/{restore_id}/cancel", "backup.operate")
async def _cancel_restore(p: Probe) -> httpx.Response:
    restore = await _requested_restore(p)
    return await p.api.post(f"/v1/restores/{restore['id']}/cancel")


def _switch_refused_for_its_flag(response: httpx.Response) -> bool:
    """A probe must not replace the suite's live data: the admin's switch goes as far as the
    explicit flag, which the probe leaves false."""
    return response.status_code == 422 and "replace_live" in response.text


@operation("POST", "/v1/restores/{restore_id}/switch", "backup.operate", granted=_switch_refused_for_its_flag)
async def _switch_restore(p: Probe) -> httpx.Response:
    restore = await _requested_restore(p)
    return await p.api.post(f"/v1/restores/{restore['id']}/switch", json={"replace_live": False})


@operation("POST", "/v1/drills", "backup.operate")
async def _run_drill(p: Probe) -> httpx.Response:
    return await p.api.post("/v1/drills")


@operation("GET", "/v1/drills", "backup.operate")
async def _list_drills(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/drills")


@operation("GET", "/v1/audit", "records_audit.read")
async def _audit_entries(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/audit", params={"unit_id": p.unit_id, "include_subtree": "true"})


@operation("POST", "/v1/audit/verify", "records_audit.verify")
async def _verify_audit_chain(p: Probe) -> httpx.Response:
    return await p.api.post("/v1/audit/verify")


@operation("GET", "/v1/me", "account.me")
async def _me(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/me")


@operation("GET", "/v1/notices", "notices.read")
async def _notices(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/notices")


@operation("GET", "/v1/report-waiting", "report.waiting")
async def _report_waiting(p: Probe) -> httpx.Response:
    return await p.api.get("/v1/report-waiting")


def _section_operations(section: RecordSection) -> None:
    """The five operations of one part of the resume, under its regulatory section's rows."""
    base = f"/v1/persons/{{person_id}}/{section.name}"
    regulatory = RESUME_PARTS[section.name]
    read, write = f"record.{regulatory}.read", f"record.{WRITTEN_AS.get(section.name, regulatory)}.write"

    async def listed(p: Probe) -> httpx.Response:
        return await p.api.get(f"/v1/persons/{(await _seeded(p))['person']}/{section.name}")

    async def versions(p: Probe) -> httpx.Response:
        seeded = await _seeded(p)
        return await p.api.get(f"/v1/persons/{seeded['person']}/{section.name}/{seeded[section.name]}/versions")

    async def added(p: Probe) -> httpx.Response:
        person = await _another(p, "additions")
        return await p.api.post(f"/v1/persons/{person}/{section.name}", json=_entry(p, section, LATE))

    async def corrected(p: Probe) -> httpx.Response:
        seeded = await _seeded(p)
        body = _entry(p, section, EARLY)
        return await p.api.put(
            f"/v1/persons/{seeded['person']}/{section.name}/{seeded[section.name]}",
            json=body,
            headers={"If-Match": '"1"'},
        )

    async def retracted(p: Probe) -> httpx.Response:
        person = await _another(p, "retractions")
        made = await _created(p.admin.post(f"/v1/persons/{person}/{section.name}", json=_entry(p, section, RETRACTED)))
        return await p.api.delete(
            f"/v1/persons/{person}/{section.name}/{made['entry_id']}", headers={"If-Match": f'"{made["version"]}"'}
        )

    OPERATIONS.extend(
        [
            Operation("GET", base, read, listed),
            Operation("GET", f"{base}/{{entry_id}}/versions", read, versions),
            Operation("POST", base, write, added),
            Operation("PUT", f"{base}/{{entry_id}}", write, corrected),
            Operation("DELETE", f"{base}/{{entry_id}}", write, retracted),
        ]
    )


for _section in SECTIONS:
    _section_operations(_section)

LISTINGS = {("GET", "/v1/units"), ("GET", "/v1/units/{unit_id}/persons"), ("GET", "/v1/persons")}
"""Operations answering with what lies in scope rather than yes or no: the listing test's."""

EXPECTED_STATUS = {"F": {403}, "H": {404}}


def test_every_operation_of_the_gateway_is_in_the_table() -> None:
    """A new REST operation has no answer until its row is written from the regulation."""
    paths = create_app().openapi()["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    probed = {(o.method, o.path) for o in OPERATIONS}
    assert routes - probed - LISTINGS == set(), "operations no row of the table answers for"
    assert probed - routes == set(), "probes of operations the gateway does not have"
    rows = {c.operation for c in authz_oracle.cells()}
    assert {o.row for o in OPERATIONS} <= rows, "probes of rows the table does not have"


async def _catalogs(admin: httpx.AsyncClient) -> dict[str, list[dict[str, Any]]]:
    names = {f.catalog for s in SECTIONS for f in s.fields if f.catalog} | {"reward_forms", "training_levels"}
    found: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(n for n in names if n):
        listed = await admin.get(f"/v1/catalogs/{name}", params={"as_of": EARLY.isoformat()})
        assert listed.status_code == 200, listed.text
        found[name] = [v for v in listed.json() if v["valid_to"] is None or v["valid_to"] >= LATE.isoformat()]
    return found


@pytest.mark.parametrize("login", LOGINS)
async def test_each_login_gets_what_the_regulation_gives_its_tier(system: System, login: str) -> None:
    cells = [c for c in authz_oracle.cells() if c.login == login]
    async with (
        api_client(system.gateway_url, system.token(login)) as api,
        api_client(system.gateway_url, system.token(ADMIN)) as admin,
    ):
        catalogs = await _catalogs(admin)
        regimes_made = asyncio.Lock()
        probes = {
            target: Probe(system, api, admin, catalogs, login, target, TARGETS[login].get(target), regimes_made)
            for target in {c.target for c in cells}
        }
        limit = asyncio.Semaphore(8)

        async def answer(cell: authz_oracle.Cell, op: Operation) -> str | None:
            async with limit:
                response = await op.call(probes[cell.target])
            allowed = cell.expected == "Y"
            if op.granted(response) if allowed else response.status_code in EXPECTED_STATUS[cell.expected]:
                return None
            got = f"{response.status_code} {response.text[:160]}"
            return f"{op.method} {op.path} on {cell.target}: table {cell.expected}, got {got}"

        # The people the probes share, made before they run so that none is made twice; each
        # target's apart from the others', so the targets' are made side by side.
        prepared = ("record.", "person.read", "person.export", "unit.resumes")
        await asyncio.gather(
            *(
                _prepare(probe)
                for probe in probes.values()
                if any(c.target == probe.target and c.operation.startswith(prepared) for c in cells)
            )
        )
        wrong = await asyncio.gather(*(answer(c, op) for c in cells for op in OPERATIONS if op.row == c.operation))
    mismatches = sorted(w for w in wrong if w)
    assert not mismatches, f"{login}: {len(mismatches)} answers differ from the table:\n" + "\n".join(mismatches)


# ---- listings ------------------------------------------------------------------------------------


UNIT_PATHS = {u.code: u.path(demo.UNITS_BY_CODE) for u in demo.UNITS}


def _relation(login: str, path: str) -> str:
    """Where a unit at `path` lies for the login: its own unit, below it, another sector-level
    department (a Vụ, directly under the root), or anywhere else outside."""
    own = UNIT_PATHS[TARGETS[login]["own"]]
    if path == own:
        return "own"
    if path.startswith(own + "/"):
        return "below"
    parts = path.strip("/").split("/")
    if len(parts) == 2 and demo.UNITS_BY_CODE.get(parts[1], demo.UNITS_BY_CODE["TCHQ"]).kind == "hq_department":
        return "dept"
    return "outside"


def _sees(operation: str, login: str, relation: str) -> bool:
    """The table's answer for units of that relation; a relation the login's targets lack
    answers as "outside" does (the root and its Cục are outside for everyone below them)."""
    answer = authz_oracle.expected(operation, relation, login)
    if answer == "-" and relation != "outside":
        answer = authz_oracle.expected(operation, "outside", login)
    return answer == "Y"


async def _all_persons(api: httpx.AsyncClient, system: System) -> tuple[int, list[dict[str, Any]]]:
    """The status and every person of the tree the caller may list, page after page."""
    items: list[dict[str, Any]] = []
    params = {"include_subtree": "true", "page_size": "500"}
    while True:
        response = await api.get(f"/v1/units/{system.root_unit_id}/persons", params=params)
        if response.status_code != 200:
            return response.status_code, []
        items += response.json()["items"]
        if not response.json()["next_page_token"]:
            return 200, items
        params["page_token"] = response.json()["next_page_token"]


async def _searched(api: httpx.AsyncClient) -> tuple[int, list[dict[str, Any]], int]:
    """The status, every person a search with no criteria finds, page after page, and its total."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await api.get("/v1/persons", params={"page": str(page), "page_size": "500"})
        if response.status_code != 200:
            return response.status_code, [], 0
        items += response.json()["items"]
        if len(items) >= response.json()["total"] or not response.json()["items"]:
            return 200, items, response.json()["total"]
        page += 1


@pytest.mark.parametrize("login", LOGINS)
async def test_listings_hold_exactly_the_rows_the_table_lets_the_login_read(system: System, login: str) -> None:
    """Compared with what the system admin lists, so units and persons other tests add count too."""
    async with api_client(system.gateway_url, system.token(ADMIN)) as admin:
        every_unit = {u["id"]: u["path"] for u in (await admin.get("/v1/units")).json()}
        _, every_person = await _all_persons(admin, system)
    async with api_client(system.gateway_url, system.token(login)) as api:
        units = await api.get("/v1/units")
        persons_status, persons = await _all_persons(api, system)
        one_unit = await api.get(f"/v1/units/{system.unit_ids[TARGETS[login]['own']]}/persons")
        searched_status, searched, total = await _searched(api)

    visible_units = {p for p in every_unit.values() if _sees("unit.read", login, _relation(login, p))}
    if visible_units:
        assert units.status_code == 200, units.text
        assert {u["path"] for u in units.json()} == visible_units
    else:
        assert units.status_code == 403, units.text

    me = demo.self_person().personal_id if "me" in TARGETS[login] else None
    readable = [
        p
        for p in every_person
        if (p["personal_id"] == me and authz_oracle.expected("person.read", "me", login) == "Y")
        or (p["personal_id"] != me and _sees("person.read", login, _relation(login, every_unit[p["unit_id"]])))
    ]
    assert persons_status == 200
    assert sorted(p["id"] for p in persons) == sorted(p["id"] for p in readable)
    # The search with no criteria over the whole tree: the same people, and its total counts them alone.
    assert searched_status == 200
    assert sorted(p["id"] for p in searched) == sorted(p["id"] for p in readable)
    assert total == len(readable)
    own_unit = system.unit_ids[TARGETS[login]["own"]]
    assert one_unit.status_code == 200, one_unit.text
    assert {p["id"] for p in one_unit.json()["items"]} <= {p["id"] for p in readable if p["unit_id"] == own_unit}


def _tierless_token(system: System) -> str:
    """A login of the realm that holds no tier (what an agency's unmapped user gets)."""
    account = Account(unique_code("khongcap").lower(), "Không cấp 2026!", "offline_access", None, "Lê Không Cấp")
    ensure_user(system.infra.keycloak_admin("qlcb"), account)
    return password_token(system.infra.keycloak.base_url, account.username, account.password)


SECTOR_REPORTS = {"quantri", "vutccb", "lanhdaovu"}
"""The logins whose tier reads every unit's reports (the table's reports.read: Y on every target)."""


@pytest.mark.parametrize("login", [*LOGINS, None], ids=lambda login: login or "no-tier")
async def test_the_projection_status_needs_the_sectors_reports(system: System, login: str | None) -> None:
    """Reports' projection status counts the events of every unit: the tiers that read the whole
    sector's reports get it, a unit's tiers and a login without a tier are refused, called on
    reports' gRPC port directly as anything on the cluster network can."""
    token = _tierless_token(system) if login is None else system.token(login)
    async with grpc.aio.insecure_channel(system.services.grpc_target("reports")) as channel:
        call = reports_pb2_grpc.ReportsServiceStub(channel).GetProjectionStatus(
            reports_pb2.GetProjectionStatusRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=10
        )
        if login in SECTOR_REPORTS:
            assert (await call).events_processed > 0
        else:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call
            assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_the_sector_reports_logins_are_those_the_table_lets_read_every_unit() -> None:
    every_target = {
        login
        for login in LOGINS
        if all(
            authz_oracle.expected("reports.read", t, login) in ("Y", "-") for t in ("own", "below", "outside", "dept")
        )
    }
    assert every_target == SECTOR_REPORTS
