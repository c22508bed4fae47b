"""The Grafana dashboards under deploy/grafana/dashboards, read as Grafana would import them. That every
panel query returns data on the running system is tests/integration/test_observability.py's part."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DASHBOARDS = sorted((Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "dashboards").glob("*.json"))
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


def _board(path: Path) -> dict[str, Any]:
    board: dict[str, Any] = json.loads(path.read_text())
    return board


def test_each_dashboard_has_its_own_uid_named_after_its_file() -> None:
    uids = [_board(path)["uid"] for path in DASHBOARDS]
    assert uids == [path.stem for path in DASHBOARDS]
    assert {
        "qlcb-red",
        "qlcb-events",
        "qlcb-identity",
        "qlcb-personnel",
        "qlcb-reports",
        "qlcb-backups",
        "qlcb-slo",
    } <= set(uids)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_every_panel_queries_the_chosen_prometheus(path: Path) -> None:
    board = _board(path)
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    panels = [panel for panel in board["panels"] if panel["type"] != "row"]
    assert panels
    assert len({panel["id"] for panel in board["panels"]}) == len(board["panels"])
    for panel in panels:
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["description"], panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
            assert target["expr"].strip(), panel["title"]
