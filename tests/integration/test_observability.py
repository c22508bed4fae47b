"""The monitoring as shipped, on the running system: a real Prometheus (Debian's, installed by
`scripts/bootstrap.sh --prometheus`) scrapes every service's ops endpoint every second and loads
the rule files of deploy/prometheus/alerts; the test makes the system do what each dashboard
shows — writes and reads, a refused token, refused calls, a backup, a dead letter, a redelivered
event, a relay round failing while NATS is away, a decision applied on its day — and then every
target is up, every rule evaluates without error, and every panel query of every dashboard in
deploy/grafana/dashboards returns data."""

from __future__ import annotations

import json
import math
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import asyncpg
import httpx
import nats
import pytest
import yaml

from qlcb.personnel.v1 import events_pb2 as personnel_events
from qlcb.personnel.v1 import personnel_pb2
from qlcb_common.events import streams, subjects
from qlcb_common.events.envelope import wrap
from qlcb_devstack.probes import http_ok
from qlcb_devstack.procs import ManagedProcess, free_port, wait_until
from qlcb_devstack.stack import START_ORDER
from tests.support import System, api_client, eventually, metric_value, person_body, unique_code

ROOT = Path(__file__).resolve().parents[2]
RULE_FILES = sorted(p for p in (ROOT / "deploy" / "prometheus" / "alerts").glob("*.yml") if ".test." not in p.name)
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))


def _declared_rules() -> dict[str, list[str]]:
    """Rule file → the names of its rules (alerts and recordings), as the file declares them."""
    return {
        str(path): sorted(
            rule.get("alert") or rule["record"]
            for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"]
        )
        for path in RULE_FILES
    }


WINDOW = "5m"
"""What Grafana's interval variables become here: longer than the whole test, so every increase the
test causes is inside every window."""

GRAFANA_VARIABLES = {"$__rate_interval": WINDOW, "$__interval": WINDOW, "$__range": WINDOW}


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    expr: str

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel}: {self.expr}"


def _panel_queries() -> list[PanelQuery]:
    queries = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                for variable, value in GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, value)
                assert "$" not in expr, f"{path.name} / {panel['title']}: a variable the test cannot fill: {expr}"
                queries.append(PanelQuery(board["title"], panel["title"], expr))
    return queries


def _scrape_config(system: System) -> list[dict[str, Any]]:
    """One job per service, named after it (the alert rules' `job`), at its ops address."""
    jobs = []
    for service in START_ORDER:
        address = urlparse(system.services.ops_url(service))
        job: dict[str, Any] = {
            "job_name": service,
            "scheme": address.scheme,
            "static_configs": [{"targets": [address.netloc]}],
        }
        if address.scheme == "https" and system.services.tls is not None:
            job["tls_config"] = {"ca_file": str(system.services.tls.ca)}
        jobs.append(job)
    return jobs


@pytest.fixture(scope="module")
def prometheus(system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    assert binary is not None, "the Prometheus server is missing: run scripts/bootstrap.sh --prometheus"
    run_dir = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in RULE_FILES],
        "scrape_configs": _scrape_config(system),
    }
    config_file = run_dir / "prometheus.yml"
    config_file.write_text(json.dumps(config, indent=2))  # JSON is YAML
    port = free_port()
    process = ManagedProcess(
        "prometheus",
        [
            binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={run_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        log_dir=run_dir,
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/-/ready"), timeout=60, what="Prometheus to be ready", process=process)
        yield url
    finally:
        process.stop()


@pytest.fixture
async def prometheus_api(prometheus: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{prometheus}/api/v1", timeout=10) as api:
        yield api


async def _targets(api: httpx.AsyncClient) -> dict[str, str]:
    active = (await api.get("/targets", params={"state": "active"})).json()["data"]["activeTargets"]
    return {t["labels"]["job"]: f"{t['health']} {t['lastError']}".strip() for t in active}


async def _rules(api: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """Rule file → rule name → its health, with the last error if it has one."""
    found: dict[str, dict[str, str]] = {}
    for group in (await api.get("/rules")).json()["data"]["groups"]:
        for rule in group["rules"]:
            health = rule["health"] + (f": {rule['lastError']}" if rule.get("lastError") else "")
            found.setdefault(group["file"], {})[rule["name"]] = health
    return found


async def _without_data(api: httpx.AsyncClient, queries: list[PanelQuery]) -> list[str]:
    """The panel queries that fail or return no finite value yet."""
    missing = []
    for query in queries:
        answer = (await api.get("/query", params={"query": query.expr})).json()
        if answer["status"] != "success":
            missing.append(f"{query} -> {answer.get('error')}")
            continue
        result = answer["data"]["result"]
        values = [result[1]] if answer["data"]["resultType"] == "scalar" else [s["value"][1] for s in result]
        if not any(math.isfinite(float(v)) for v in values):
            missing.append(f"{query} -> {values}")
    return missing


def _today_in_vietnam() -> datetime:
    return datetime.now(timezone(timedelta(hours=7)))


async def _a_decision_comes_due(system: System, api: httpx.AsyncClient) -> str:
    """A reward decision for tomorrow, moved to today in personnel's database, as if the night had
    passed: personnel's applier (every minute) takes it up and counts it."""
    person = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Lý Thị Đúng Hạn"))
    assert person.status_code == 201, person.text
    tomorrow = (_today_in_vietnam() + timedelta(days=1)).date()
    decision = await api.post(
        "/v1/decisions",
        json={
            "kind": "reward",
            "number": f"{unique_code('G')[-6:]}/QĐ-HQHN",
            "decision_date": "2025-02-20",
            "effective_date": tomorrow.isoformat(),
            "summary": "Khen thưởng",
            "body": "Cục Hải quan TP Hà Nội",
            "signer": "Nguyễn Văn Ký",
            "signer_post": "Cục trưởng",
            "items": [{"person_id": person.json()["id"], "values": {"form": "GIAY_KHEN"}}],
        },
    )
    assert decision.status_code == 201, decision.text
    assert decision.json()["state"] == "pending"
    decision_id: str = decision.json()["id"]
    conn = await asyncpg.connect(system.postgres_dsn("personnel"))
    try:
        await conn.execute(
            "UPDATE decision_documents SET effective_date = $1 WHERE id = $2", tomorrow - timedelta(days=1), decision_id
        )
    finally:
        await conn.close()
    return decision_id


async def _bus(system: System, user: str) -> Any:
    name, password = system.infra.nats.credentials(user)
    return await nats.connect(system.infra.nats.url, user=name, password=password, allow_reconnect=False)


async def _a_dead_letter_and_a_redelivery(system: System) -> None:
    """Personnel's credentials publish a retirement its API would refuse (a right-to-left override
    in the name): identity and reports dead-letter it. Then the last real person event goes out
    again under a new message id, past the stream's duplicate window: the consumers' inboxes
    recognise it as a duplicate."""
    forged = personnel_events.PersonStatusChanged(
        person=personnel_pb2.Person(
            id=str(uuid.uuid4()),
            personal_id=f"{uuid.uuid4().int % 10**12:012d}",
            staff_number=unique_code("DL"),
            full_name="Đỗ Văn\u202eGiả",
            date_of_birth="1980-01-01",
            sex=personnel_pb2.SEX_MALE,
            unit_id=system.unit_ids["HQHN"],
            status=personnel_pb2.PERSON_STATUS_RETIRED,
        ),
        previous_status=personnel_pb2.PERSON_STATUS_ACTIVE,
        effective_date="2026-11-30",
        decision="126/QĐ-TCHQ",
    )
    envelope = wrap(subjects.PERSONNEL_PERSON_RETIRED, forged, actor="personnel", occurred_at=datetime.now(UTC))
    ops = await _bus(system, "ops")
    try:
        last = await ops.jetstream().get_last_msg(streams.PERSONNEL.name, subjects.PERSONNEL_PERSON_CREATED)
    finally:
        await ops.close()
    personnel = await _bus(system, "personnel")
    try:
        js = personnel.jetstream()
        await js.publish(
            subjects.PERSONNEL_PERSON_RETIRED,
            envelope.SerializeToString(),
            headers={"Nats-Msg-Id": envelope.event_id},
            timeout=5,
        )
        await js.publish(
            subjects.PERSONNEL_PERSON_CREATED, last.data, headers={"Nats-Msg-Id": str(uuid.uuid4())}, timeout=5
        )
    finally:
        await personnel.close()


async def _a_relay_round_fails(system: System, api: httpx.AsyncClient) -> None:
    """NATS goes away while personnel commits a change: the relay's round fails and is counted;
    NATS comes back and the change is published (test_faults.py shows it arrives exactly once)."""
    labels = {"service": "personnel"}
    before = await metric_value(system, "personnel", "qlcb_outbox_publish_failures_total", labels)
    system.infra.nats.stop()
    try:
        created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Mai Văn Chờ Gửi"))
        assert created.status_code == 201, created.text
        await eventually(
            lambda: metric_value(system, "personnel", "qlcb_outbox_publish_failures_total", labels),
            lambda failures: failures > before,
            timeout=30,
            what="personnel's relay to count a failed round",
        )
    finally:
        system.infra.nats.start()
        system.infra.nats.wait_ready()


async def _scraped(prometheus_api: httpx.AsyncClient, series: str) -> None:
    """Waits until Prometheus holds `series`: a counter or histogram born with a call has no rate
    until it has been scraped once before the next call."""

    async def found() -> int:
        return len((await prometheus_api.get("/query", params={"query": series})).json()["data"]["result"])

    await eventually(found, lambda n: n > 0, timeout=30, what=f"Prometheus to scrape {series}")


async def _traffic(system: System, prometheus_api: httpx.AsyncClient) -> None:
    """What every panel shows; the calls whose latency a panel shows are made twice, a scrape apart."""
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        await _a_decision_comes_due(system, hanoi)
        unit = system.unit_ids["HQHN"]
        for _ in range(2):
            assert (await hanoi.get("/v1/units")).status_code == 200
            assert (await hanoi.get(f"/v1/units/{unit}/headcount")).status_code == 200
            await _scraped(prometheus_api, 'qlcb_grpc_server_requests_total{method=~".*/GetHeadcount"}')
        assert (await hanoi.get("/v1/units/does-not-exist")).status_code == 404
        created = await hanoi.post("/v1/persons", json=person_body(unit, "Trương Văn Đo"))
        assert created.status_code == 201, created.text
        # Entries with a deadline (R-PER-4), one late and one on time, twice, a scrape apart.
        today = _today_in_vietnam().date().isoformat()
        decided = {"number": "9/QĐ-HQHN", "date": "2026-01-05", "body": "Cục Hải quan TP Hà Nội"}
        recruited = {"body": "Cục Hải quan TP Hà Nội"}
        entries = [
            {"section": "recruitment", "values": recruited, "valid_from": "2026-01-05", "decision": decided},
            {"section": "placements", "values": {"unit_name": "Đội Đo", "post": "Công chức"}, "valid_from": today},
        ]
        for _ in range(2):
            measured = await hanoi.post("/v1/persons", json=person_body(unit, "Trương Thị Hạn"))
            assert measured.status_code == 201, measured.text
            recorded = await hanoi.post(f"/v1/persons/{measured.json()['id']}/record", json={"entries": entries})
            assert recorded.status_code == 201, recorded.text
            await _scraped(prometheus_api, 'qlcb_personnel_entries_recorded_total{timeliness="late"}')

    async with api_client(system.gateway_url, "not-a-token") as stranger:
        assert (await stranger.get("/v1/units")).status_code == 401

    async with api_client(system.gateway_url, system.token("canbo.noibai")) as clerk:
        refused = await clerk.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Vượt Quyền"))
        assert refused.status_code in (403, 404), refused.text

    async with api_client(system.services.identity_url, system.token("qthanoi")) as local_admin:
        registration = {
            "alias": "vuot-quyen",
            "display_name": "Cơ quan khác",
            "issuer": "https://127.0.0.1:9/realms/other",
            "client_id": "qlcb-broker",
            "client_secret": "not-used",
            "mappings": [
                {"claim": "groups", "value": "x", "tier": "local-officer", "unit_path": "/TCHQ/HQHN"},
            ],
        }
        assert (await local_admin.post("/v1/federation/agencies", json=registration)).status_code == 403

    async with api_client(system.gateway_url, system.token("quantri")) as admin:
        for _ in range(2):
            backup = await admin.post("/v1/backups", json={"store": "personnel"})
            assert backup.status_code == 201, backup.text
            await _scraped(prometheus_api, 'qlcb_grpc_server_requests_total{method=~".*/CreateBackup"}')
        drill = await admin.post("/v1/drills")
        assert drill.status_code == 201, drill.text
        await _scraped(prometheus_api, "qlcb_backup_last_drill_timestamp_seconds > 0")

        await _a_dead_letter_and_a_redelivery(system)
        await _a_relay_round_fails(system, admin)


async def test_prometheus_scrapes_every_service_evaluates_every_rule_and_fills_every_panel(
    system: System, prometheus_api: httpx.AsyncClient
) -> None:
    queries = _panel_queries()
    assert len(DASHBOARDS) >= 7
    assert len(queries) >= 40

    targets = await eventually(
        lambda: _targets(prometheus_api),
        lambda found: set(found) == set(START_ORDER) and all(h == "up" for h in found.values()),
        timeout=30,
        what="every service's ops endpoint to be scraped",
    )
    assert set(targets) == set(START_ORDER)

    await _traffic(system, prometheus_api)

    declared = _declared_rules()
    rules = await eventually(
        lambda: _rules(prometheus_api),
        lambda found: (
            set(found) == set(declared) and all(h == "ok" for by_name in found.values() for h in by_name.values())
        ),
        timeout=30,
        what="every rule file loaded and every rule evaluated without error",
    )
    assert {file: sorted(by_name) for file, by_name in rules.items()} == declared

    # The decision waits for personnel's applier, which looks once a minute.
    await eventually(
        lambda: _without_data(prometheus_api, queries),
        lambda missing: not missing,
        timeout=90,
        what="every panel query to return data",
    )
    assert await _targets(prometheus_api) == dict.fromkeys(START_ORDER, "up")
