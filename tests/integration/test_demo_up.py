"""The README's first command: the whole system comes up with demo data on the ports it is given,
and every login it prints works with the tier and unit it claims."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from qlcb_common.tiers import Tier
from qlcb_devstack.accounts import password_token
from qlcb_devstack.demo import UNITS
from qlcb_devstack.ports import StackPorts, variable
from qlcb_devstack.procs import wait_until
from tests.support import eventually

PEOPLE = 60
"""The demo's size here (`QLCB_UP_DEMO_PEOPLE`): every unit below the root gets someone and every
person's record is seeded the same way as for the 2,000 of a developer's `make up`, in a
thirtieth of the time (300 took 27 s of seeding and longer for the statistics to follow)."""


@pytest.fixture(scope="module")
def demo_ports() -> StackPorts:
    """Free ports, given through `make up`'s variables: a developer's own `make up` on the default
    ports may be running beside the tests."""
    return StackPorts.free()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_ports: StackPorts) -> Iterator[str]:
    run_dir = tmp_path_factory.mktemp("demo-up")
    log = run_dir.parent / "demo-up.out"
    env = {
        **os.environ,
        **{variable(name): str(port) for name, port in demo_ports.model_dump().items()},
        "QLCB_UP_DEMO_PEOPLE": str(PEOPLE),
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "qlcb_devstack", "up", "--run-dir", str(run_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:

        def printed_logins() -> bool:
            assert process.poll() is None, f"make up exited early:\n{log.read_text()[-3000:]}"
            return "Press Ctrl+C to stop." in log.read_text()

        wait_until(printed_logins, timeout=600, what="make up to print its logins", log_path=log)
        yield log.read_text()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Banner:
    gateway_url: str
    keycloak_url: str
    password: str
    logins: list[tuple[str, str, str, str]]


def _read(banner: str) -> Banner:
    """What `make up` printed: the URLs, the demo password and the (username, tier, unit, granted
    sections) lines."""
    found = {
        key: re.search(pattern, banner)
        for key, pattern in {
            "gateway": r"REST API \(OpenAPI\)\s+(\S+)/docs",
            "keycloak": r"Keycloak account\s+(\S+)/realms/qlcb/account",
            "password": r"password for all: (\S+)\):",
        }.items()
    }
    missing = [key for key, match in found.items() if match is None]
    assert not missing, f"{missing} not printed:\n{banner}"
    groups = {key: match.group(1) for key, match in found.items() if match is not None}
    logins = re.findall(
        r"^  (\S+)\s+([a-z-]+)\s+(/\S+)(?:\s+\(phần hồ sơ được giao: ([a-z_, ]+)\))?$", banner, flags=re.MULTILINE
    )
    return Banner(groups["gateway"], groups["keycloak"], groups["password"], logins)


def test_printed_logins_work_with_their_tier_and_unit(demo: str, demo_ports: StackPorts) -> None:
    banner = _read(demo)
    assert banner.gateway_url == f"http://127.0.0.1:{demo_ports.gateway_port}"
    assert banner.keycloak_url == f"http://localhost:{demo_ports.keycloak_port}"
    first_address = re.search(r"^  [^/\n]+\s(https?://\S+)$", demo, flags=re.MULTILINE)
    assert first_address is not None
    assert first_address.group(1) == f"{banner.gateway_url}/web/", "the web pages' address comes first"
    assert {tier for _, tier, _, _ in banner.logins} == {t.value for t in Tier}
    assert [sections for _, tier, _, sections in banner.logins if tier == "local-officer"] == [
        "identity, work_history, movement"
    ]
    with httpx.Client(base_url=banner.gateway_url, timeout=30) as api:
        for username, tier, unit_path, sections in banner.logins:
            token = password_token(banner.keycloak_url, username, banner.password)
            me = api.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
            assert me["username"] == username
            assert me["tiers"] == [tier]
            assert me["unit_path"] == unit_path
            assert me["sections"] == sorted(s for s in sections.split(", ") if s)


async def test_demo_organisation_is_seeded(demo: str) -> None:
    banner = _read(demo)
    token = password_token(banner.keycloak_url, "lanhdaovu", banner.password)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=banner.gateway_url, timeout=30, headers=headers) as api:
        units = (await api.get("/v1/units")).json()
        root = next(u for u in units if u["kind"] == "general_department")

        async def total() -> int:
            response = await api.get(f"/v1/units/{root['id']}/headcount", params={"include_subtree": "true"})
            return int(response.json()["headcount"])

        headcount = await eventually(total, lambda n: n == PEOPLE, timeout=120, what="the demo headcount")
        assert f"{len(UNITS)} units, {PEOPLE} people with whole records" in demo
        assert f"/v1/statistics/BM01?unit={root['id']}" in demo, "the banner shows how to read BM01"

        # BM01 and BM03 of the sector, filled from the record events the seeding published (some 25
        # a person): BM01 a row per unit directly below the root, BM03 a row per person.
        async def form(code: str) -> dict[str, Any]:
            response = await api.get(f"/v1/statistics/{code}", params={"unit": root["id"]})
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        bm01 = await eventually(
            lambda: form("BM01"), lambda f: f["rows"][0]["cells"][1] == PEOPLE, timeout=300, what="the demo in BM01"
        )
        below_root = {u["name"] for u in units if u["parent_id"] == root["id"]}
        assert {r["label"] for r in bm01["rows"][1:-1]} == below_root
        assert sum(r["cells"][1] for r in bm01["rows"][1:]) == PEOPLE
        bm03 = await form("BM03")
        assert len(bm03["rows"]) == PEOPLE
        # The demo's records were taken in today: their histories, up to 1 July 2026, have no deadline.
        today = datetime.now(timezone(timedelta(hours=7))).date()
        period = {"from": (today - timedelta(days=2)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
        late = await api.get(f"/v1/units/{root['id']}/late-entries", params=period | {"include_subtree": "true"})
        assert late.status_code == 200, late.text
        assert (late.json()["total"]["entries"], late.json()["late_entries"]) == (0, [])
    assert Counter(u["kind"] for u in units) == Counter(u.kind for u in UNITS)
    assert {u["code"] for u in units} == {u.code for u in UNITS}
    assert headcount == PEOPLE
