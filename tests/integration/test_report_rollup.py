"""The roll-up to the national report system on the running system (issue 11 point 7, R-REP-5,
R-OPS-1): an approved top-level report is delivered once over HTTP/JSON, with an idempotency key;
the connector retries after 5xx, a timeout and a receiver that is down, fails for good on a 400
with the receiver's reason (sent again on request), and a restart mid-send still leaves one record
at the receiver; a report recorded as sent outside the system is never sent.

The receiver is a small Starlette app the tests start on a free port, which can be stopped and
started again, told to answer a unit's deliveries with a script of statuses (or slowly, beyond the
connector's timeout), and which records what it received, deduplicating on the idempotency key as
the national system does. The connector runs in a second reports process on the suite's database
and bus (as a replica would), with the receiver as its national endpoint, short retry delays and a
fault point folder: the suite's own reports has no endpoint, so its connector is off and only this
one sends."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from qlcb.reports.v1 import rollup_pb2
from qlcb_common.events import streams, subjects
from qlcb_common.events.envelope import parse, unpack
from qlcb_common.faults import arm, held, release
from qlcb_devstack.procs import ManagedProcess, free_ports, wait_until
from qlcb_devstack.stack import FAULT_POINTS_VARIABLE
from qlcb_reports.regimes.periods import today
from qlcb_reports.rollup.connector import ANSWERED
from tests.integration.test_report_workflow import ABOVE, VALID, _assignments, _branch, _open, _regime, _send, _step
from tests.support import System, api_client, eventually

SECTOR_HR = "vutccb"  # the sector's reporting tier: reads the deliveries, sends one again, records one sent outside
TOKEN = "ma-truy-cap-he-thong-quoc-gia"
TIMEOUT_SECONDS = 1.0
SLOW_SECONDS = 3.0
WAIT = 60.0


@dataclass
class Call:
    key: str
    unit_id: str
    status: int


@dataclass
class Receiver:
    """The national report system as the tests play it."""

    port: int
    calls: list[Call] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per unit: what the next deliveries of its report meet, in order: a status, (status, reason), or
    # "slow"; once the script is used up, deliveries are accepted.
    script: dict[str, list[Any]] = field(default_factory=dict)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/bao-cao"

    async def _receive(self, request: Request) -> JSONResponse:
        body = await request.json()
        key = request.headers.get("idempotency-key", "")
        unit_id = body["unit"]["id"]
        plan = self.script.get(unit_id) or []
        step = plan.pop(0) if plan else None
        if step == "slow":
            self.calls.append(Call(key, unit_id, 0))  # answered too late for the connector
            await asyncio.sleep(SLOW_SECONDS)  # the receiver's own slowness, not a wait for a condition
        elif step is not None:
            status, reason = step if isinstance(step, tuple) else (step, "Lỗi máy chủ")
            self.calls.append(Call(key, unit_id, status))
            return JSONResponse({"reason": reason}, status_code=status)
        duplicate = key in self.records
        if not duplicate:
            self.records[key] = {"body": body, "authorization": request.headers.get("authorization")}
        status = 200 if duplicate else 201
        if step != "slow":
            self.calls.append(Call(key, unit_id, status))
        return JSONResponse({"received": key}, status_code=status)

    def start(self) -> None:
        app = Starlette(routes=[Route("/api/bao-cao", self._receive, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="national-receiver", daemon=True)
        self._thread.start()
        server = self._server
        wait_until(lambda: server.started, timeout=30, what="the national receiver to listen")

    def stop(self) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def calls_for(self, key: str) -> list[int]:
        return [c.status for c in self.calls if c.key == key]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    (port,) = free_ports(1)
    started = Receiver(port)
    started.start()
    try:
        yield started
    finally:
        started.stop()


@dataclass
class Connector:
    process: ManagedProcess
    ops_url: str
    faults: Path

    def start(self) -> None:
        self.process.start()
        wait_until(
            lambda: _ready(self.ops_url), timeout=90, what="the connector's reports to be ready", process=self.process
        )


def _ready(ops_url: str) -> bool:
    try:
        return httpx.get(f"{ops_url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def connector(system: System, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connector]:
    """A second reports process on the suite's database and bus, sending to the receiver."""
    base = system.services.processes["reports"]
    assert base.env is not None
    grpc_port, ops_port = free_ports(2)
    run_dir = tmp_path_factory.mktemp("rollup")
    faults = run_dir / "faults"
    faults.mkdir()
    env = base.env | {
        "QLCB_REPORTS_GRPC_PORT": str(grpc_port),
        "QLCB_REPORTS_OPS_PORT": str(ops_port),
        "QLCB_REPORTS_NATIONAL_URL": receiver.url,
        "QLCB_REPORTS_NATIONAL_TOKEN": TOKEN,
        "QLCB_REPORTS_NATIONAL_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "QLCB_REPORTS_NATIONAL_POLL_SECONDS": "0.2",
        "QLCB_REPORTS_NATIONAL_RETRY_BASE_SECONDS": "0.3",
        "QLCB_REPORTS_NATIONAL_RETRY_MAX_SECONDS": "1.5",
        FAULT_POINTS_VARIABLE: str(faults),
    }
    process = ManagedProcess("reports-rollup", base.argv, log_dir=run_dir / "logs", env=env)
    started = Connector(process, f"http://127.0.0.1:{ops_port}", faults)
    started.start()
    try:
        yield started
    finally:
        process.stop()


@asynccontextmanager
async def _as(system: System, login: str) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(system.gateway_url, system.token(login)) as api:
        yield api


async def _top_report(system: System, *below: str) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """A branch P → C1 (→ `below`), a regime of P's and a period of it: C1's report is top-level."""
    units = await _branch(system, "C1<P", *below)
    period = await _open(system, await _regime(system, units["P"]), "2027-01")
    return units, await _assignments(system, period["period"]["id"])


async def _approve(system: System, report: dict[str, Any]) -> None:
    async with _as(system, ABOVE) as api, _as(system, SECTOR_HR) as approver:
        await _send(api, report)
        approved = await _step(approver, report, "approve")
    assert approved.status_code == 200, approved.text


async def _deliveries(system: System, period_id: str) -> list[dict[str, Any]]:
    async with _as(system, SECTOR_HR) as api:
        listed = await api.get("/v1/report-rollup/deliveries", params={"period_id": period_id})
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


async def _delivery_when(
    system: System, report: dict[str, Any], accept: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    """The report's delivery, once `accept` holds for it."""

    async def probe() -> dict[str, Any] | None:
        found = [d for d in await _deliveries(system, report["period_id"]) if d["assignment_id"] == report["id"]]
        return found[0] if found else None

    delivery = await eventually(probe, lambda d: d is not None and accept(d), timeout=WAIT, what=what)
    assert delivery is not None
    return delivery


def _sent(delivery: dict[str, Any]) -> bool:
    return bool(delivery["status"] == "sent")


async def _last_event(system: System, subject: str) -> rollup_pb2.RollupDeliveryChanged | None:
    user, password = system.infra.nats.credentials("ops")
    nc = await nats.connect(system.infra.nats.url, user=user, password=password, allow_reconnect=False)
    try:
        message = await nc.jetstream().get_last_msg(streams.REPORTS.name, subject)
    except nats.js.errors.NotFoundError:
        return None
    finally:
        await nc.close()
    assert message.data is not None
    found: rollup_pb2.RollupDeliveryChanged = unpack(parse(message.data), rollup_pb2.RollupDeliveryChanged)
    return found


async def _event_of(system: System, subject: str, delivery_id: str) -> rollup_pb2.RollupDeliveryChanged:
    async def probe() -> rollup_pb2.RollupDeliveryChanged | None:
        return await _last_event(system, subject)

    event = await eventually(
        probe, lambda e: e is not None and e.delivery.id == delivery_id, timeout=WAIT, what=f"{subject} event"
    )
    assert event is not None
    return event


async def test_an_approved_top_level_report_is_delivered_once_with_what_was_approved(
    system: System, receiver: Receiver, connector: Connector
) -> None:
    units, assigned = await _top_report(system, "D<C1")
    top, below = assigned[units["C1"]], assigned[units["D"]]
    # The report below is approved by C1, within the system: it goes nowhere else.
    await _approve(system, below)
    await _approve(system, top)

    delivery = await _delivery_when(system, top, _sent, "the report to be acknowledged")
    deliveries = await _deliveries(system, top["period_id"])
    assert [d["assignment_id"] for d in deliveries] == [top["id"]]
    key = delivery["idempotency_key"]
    assert receiver.calls_for(key) == [201]
    assert delivery | {"attempts": 1, "last_status": 201, "last_error": None, "report_version": top["version"] + 3} == (
        delivery
    )
    assert delivery["acknowledged_at"] is not None

    received = receiver.records[key]
    assert received["authorization"] == f"Bearer {TOKEN}"
    body = received["body"]
    assert body["idempotency_key"] == key
    assert body["period"]["key"] == "2027-01"
    assert body["template_version"] == 1
    assert body["unit"] == {"id": units["C1"], "name": top["unit_name"], "path": top["unit_path"]}
    assert body["values"] == VALID
    assert body["approved_by"] == SECTOR_HR
    assert [i["code"] for i in body["indicators"]] == list(VALID)

    event = await _event_of(system, subjects.REPORTS_ROLLUP_SENT, delivery["id"])
    assert (event.delivery.status, event.delivery.idempotency_key) == ("sent", key)

    # Acknowledged: never sent again, not even on request.
    async with _as(system, SECTOR_HR) as api:
        again = await api.post(f"/v1/report-rollup/deliveries/{delivery['id']}/retry")
    assert again.status_code == 409, again.text
    assert receiver.calls_for(key) == [201]


async def test_a_delivery_is_retried_after_server_errors_and_a_timeout(
    system: System, receiver: Receiver, connector: Connector
) -> None:
    units, assigned = await _top_report(system)
    top = assigned[units["C1"]]
    receiver.script[units["C1"]] = [503, "slow", 500]
    await _approve(system, top)

    delivery = await _delivery_when(system, top, _sent, "the report to get through after three failures")
    key = delivery["idempotency_key"]
    # 503, a timeout (the slow answer came after the connector gave up: the receiver recorded it
    # then, and the next attempt found it there), 500, then the receiver's answer to the resend.
    statuses = receiver.calls_for(key)
    assert statuses[:3] == [503, 0, 500]
    assert statuses[3] in (200, 201)
    assert delivery["attempts"] == 4
    assert receiver.records[key]["body"]["values"] == VALID


async def test_a_delivery_waits_while_the_receiver_is_down_and_goes_once_it_is_back(
    system: System, receiver: Receiver, connector: Connector
) -> None:
    units, assigned = await _top_report(system)
    top = assigned[units["C1"]]
    receiver.stop()
    try:
        await _approve(system, top)
        waiting = await _delivery_when(
            system, top, lambda d: d["attempts"] >= 2, "the connector to try twice while the receiver is down"
        )
    finally:
        receiver.start()
    assert waiting["status"] == "pending"
    assert "Không kết nối được" in waiting["last_error"]
    assert waiting["last_status"] is None

    delivery = await _delivery_when(system, top, _sent, "the report to go once the receiver is back")
    assert receiver.calls_for(delivery["idempotency_key"]) == [201]


async def test_a_refused_delivery_fails_for_good_with_the_reason_and_is_sent_again_on_request(
    system: System, receiver: Receiver, connector: Connector
) -> None:
    units, assigned = await _top_report(system)
    top = assigned[units["C1"]]
    reason = "Thiếu chỉ tiêu bắt buộc: số biên chế được giao"
    receiver.script[units["C1"]] = [(400, reason)]
    await _approve(system, top)

    failed = await _delivery_when(system, top, lambda d: d["status"] == "failed", "the refusal to fail the delivery")
    assert failed | {"attempts": 1, "last_status": 400, "last_error": f"HTTP 400: {reason}"} == failed
    event = await _event_of(system, subjects.REPORTS_ROLLUP_FAILED, failed["id"])
    assert event.delivery.last_error == f"HTTP 400: {reason}"
    assert receiver.calls_for(failed["idempotency_key"]) == [400]

    async with _as(system, "lanhdaovu") as viewer:
        assert (await viewer.post(f"/v1/report-rollup/deliveries/{failed['id']}/retry")).status_code == 403
    async with _as(system, SECTOR_HR) as api:
        retried = await api.post(f"/v1/report-rollup/deliveries/{failed['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json() | {"status": "pending", "attempts": 0} == retried.json()
    delivery = await _delivery_when(system, top, _sent, "the report sent again to get through")
    assert receiver.calls_for(delivery["idempotency_key"]) == [400, 201]
    async with _as(system, ABOVE) as api:
        history = (await api.get(f"/v1/report-assignments/{top['id']}")).json()["transitions"]
    assert (history[-1]["action"], history[-1]["account"]) == ("rollup_retried", SECTOR_HR)


async def test_a_restart_in_the_middle_of_a_send_leaves_one_record_at_the_receiver(
    system: System, receiver: Receiver, connector: Connector
) -> None:
    units, assigned = await _top_report(system)
    top = assigned[units["C1"]]
    arm(connector.faults, ANSWERED)
    try:
        await _approve(system, top)

        async def holding() -> dict[str, Any] | None:
            return held(connector.faults, ANSWERED)

        # The receiver has answered and recorded it; the connector has not recorded the answer.
        detail = await eventually(holding, lambda d: d is not None, timeout=WAIT, what="the connector to hold")
        assert detail is not None
        assert detail["status"] == 201
        connector.process.kill()
    finally:
        release(connector.faults, ANSWERED)
    pending = await _delivery_when(system, top, lambda d: True, "the delivery")
    assert pending["status"] == "pending"
    connector.start()

    delivery = await _delivery_when(system, top, _sent, "the restarted connector to send it again")
    key = delivery["idempotency_key"]
    assert receiver.calls_for(key) == [201, 200]  # the second found the first's record
    assert receiver.records[key]["body"]["report"] == {"id": top["id"], "version": delivery["report_version"]}
    assert delivery["attempts"] == 2


async def test_a_report_recorded_as_sent_outside_the_system_is_never_sent(
    system: System, receiver: Receiver, connector: Connector
) -> None:
    units, assigned = await _top_report(system, "C2<P", "C3<P", "D<C1")
    early, late, control = assigned[units["C1"]], assigned[units["C2"]], assigned[units["C3"]]
    sent_on = today().isoformat()
    outside = {"sent_on": sent_on, "channel": "Văn bản điện tử qua hệ thống quản lý văn bản", "reference": "15/BC-HQ"}
    async with _as(system, SECTOR_HR) as api:
        future = await api.post(
            f"/v1/report-assignments/{early['id']}/sent-outside", json=outside | {"sent_on": "2999-01-01"}
        )
        assert future.status_code == 422, future.text
        assert [f["loc"][-1] for f in future.json()["detail"]] == ["sent_on"]
        lower = await api.post(f"/v1/report-assignments/{assigned[units['D']]['id']}/sent-outside", json=outside)
        assert lower.status_code == 409, lower.text
        # Entered before the report is approved in the system.
        recorded = await api.post(f"/v1/report-assignments/{early['id']}/sent-outside", json=outside)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["stopped"] == []
        twice = await api.post(f"/v1/report-assignments/{early['id']}/sent-outside", json=outside)
        assert twice.status_code == 409, twice.text

    # Entered while the system could not deliver it.
    receiver.script[units["C2"]] = [503] * 1000
    await _approve(system, late)
    await _delivery_when(system, late, lambda d: d["attempts"] >= 1, "the first attempt to fail")
    async with _as(system, SECTOR_HR) as api:
        stopped = await api.post(
            f"/v1/report-assignments/{late['id']}/sent-outside", json=outside | {"reference": "16/BC-HQ"}
        )
    assert stopped.status_code == 201, stopped.text
    assert [d["status"] for d in stopped.json()["stopped"]] == ["sent_outside"]
    receiver.script.pop(units["C2"])

    await _approve(system, assigned[units["D"]])
    await _approve(system, early)
    await _approve(system, control)
    # The control report, approved last, got through: the connector has been round since.
    await _delivery_when(system, control, _sent, "the control report to be delivered")
    for report, reference in ((early, "15/BC-HQ"), (late, "16/BC-HQ")):
        delivery = await _delivery_when(system, report, lambda d: True, "the delivery")
        assert delivery["status"] == "sent_outside"
        assert delivery["sent_outside"] | {"reference": reference, "sent_on": sent_on} == delivery["sent_outside"]
    assert [c.status for c in receiver.calls if c.unit_id == units["C1"]] == []
    assert {c.status for c in receiver.calls if c.unit_id == units["C2"]} == {503}
    async with _as(system, ABOVE) as api:
        history = (await api.get(f"/v1/report-assignments/{early['id']}")).json()["transitions"]
    assert (history[0]["action"], history[0]["account"]) == ("sent_outside", SECTOR_HR)
    assert "15/BC-HQ" in history[0]["reason"]
