"""A statistics form's layout corrected or added without a release (issue 10 point 2): a reports
process started with `QLCB_REPORTS_STATISTICS_FORMS_DIR` naming a folder of layouts, beside the
suite's own on the same store, serves the corrected BM01 and the added form, counted from the same
read-model; one started with a malformed layout in the folder does not start, and its log names the
file. The layouts here ask no catalog group the packaged forms do not, so the two processes keep the
same stored profiles (ADR 0036)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import grpc
import pytest

from qlcb.reports.v1 import reports_pb2, reports_pb2_grpc
from qlcb_devstack.procs import wait_until
from tests.support import System, api_client, beside, eventually, person_body, running_beside, unique_code

ADDED = {
    "form": "BM99",
    "title": "Số lượng công chức nữ",
    "legal_basis": "Quyết định của Cục trưởng (thử nghiệm)",
    "columns": [
        {"key": "headcount", "label": "Tổng số"},
        {"key": "women", "label": "Nữ", "sex": "female"},
    ],
}


def _forms_dir(folder: Path) -> dict[str, str]:
    return {"QLCB_REPORTS_STATISTICS_FORMS_DIR": str(folder)}


@pytest.fixture
def corrected_reports(system: System, tmp_path: Path) -> Iterator[str]:
    folder = tmp_path / "forms"
    folder.mkdir()
    packaged = resources.files("qlcb_reports.statistics").joinpath("forms", "bm01.json").read_text(encoding="utf-8")
    bm01 = json.loads(packaged)
    next(c for c in bm01["columns"] if c["key"] == "women")["label"] = "Nữ (đính chính)"
    (folder / "bm01.json").write_text(json.dumps(bm01, ensure_ascii=False), encoding="utf-8")
    (folder / "bm99.json").write_text(json.dumps(ADDED, ensure_ascii=False), encoding="utf-8")
    with running_beside(system, "reports", _forms_dir(folder), tmp_path) as target:
        yield target


async def test_a_corrected_and_an_added_layout_are_served_from_the_operators_folder(
    system: System, corrected_reports: str
) -> None:
    token = system.token("quantri")
    async with api_client(system.gateway_url, token) as api:
        body = {"code": unique_code("BM"), "name": "Đội thử biểu mẫu", "kind": "sub_unit"}
        body |= {"parent_id": system.unit_ids["HQHN"], "effective_date": "2020-01-01", "decision": "5/QĐ"}
        created = await api.post("/v1/units", json=body)
        assert created.status_code == 201, created.text
        unit = created.json()["id"]
        for name, sex in (("Lê Thị Mẫu", "female"), ("Lê Văn Mẫu", "male"), ("Hà Thị Biểu", "female")):
            made = await api.post("/v1/persons", json=person_body(unit, name, sex=sex))
            assert made.status_code == 201, made.text
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(corrected_reports) as channel:
        reports = reports_pb2_grpc.ReportsServiceStub(channel)
        listed = await reports.ListStatisticsForms(reports_pb2.ListStatisticsFormsRequest(), metadata=metadata)
        assert [f.form for f in listed.forms] == ["BIENDONG", "BM01", "BM02", "BM03", "BM04", "BM99"]

        async def form(code: str) -> Any:
            request = reports_pb2.GetStatisticsFormRequest(form=code, unit_id=unit)
            return await reports.GetStatisticsForm(request, metadata=metadata, timeout=10)

        added = await eventually(
            lambda: form("BM99"), lambda f: f.rows[0].cells[0].value == 3, timeout=60, what="BM99's three people"
        )
        assert [(c.key, c.label) for c in added.columns] == [("headcount", "Tổng số"), ("women", "Nữ")]
        assert [c.value for c in added.rows[0].cells] == [3, 2]
        bm01 = await form("BM01")
        assert next(c.label for c in bm01.columns if c.key == "women") == "Nữ (đính chính)"
    # The suite's own reports, reading the packaged layouts only, knows no BM99.
    async with api_client(system.gateway_url, token) as api:
        unknown = await api.get("/v1/statistics/BM99", params={"unit": unit})
        assert unknown.status_code == 404, unknown.text


def test_a_malformed_layout_stops_the_start_and_the_log_names_it(system: System, tmp_path: Path) -> None:
    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "bm98.json").write_text(json.dumps(ADDED | {"form": "BM98", "rows": "by_sex"}), encoding="utf-8")
    process = beside(system, "reports", _forms_dir(folder), tmp_path).process
    process.start()
    try:
        wait_until(lambda: not process.is_running, timeout=60, what="reports to refuse its layouts")
        assert process.returncode not in (0, None)
        assert "bm98.json: rows must be one of" in process.tail(80)
    finally:
        process.stop()
