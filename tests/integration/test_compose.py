"""docker-compose.yml, for real: the images `make images` builds here (a Debian base made by
mmdebstrap, the host's wheels, no registry), brought up by Docker Compose on a Docker engine that
is started for the test when none runs (and stopped after it), with the Docker Compose of today
(`current_compose()`: v5.6.0, built from its Go module here). Then a login through Keycloak (the
realm's password grant, for an account Keycloak's master admin creates), a unit and a person
written through the gateway, and reports counting the person; `down -v` at the end, whatever
happened. Grafana's profile is left out: its image cannot be fetched here. The file is also loaded
by Debian's docker-compose 1.29, which the Debian machines this was written on run."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from keycloak import KeycloakAdmin

from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_devstack.compose import current_compose
from qlcb_devstack.docker_engine import DockerEngine, debian_compose_command, docker_client, docker_env
from qlcb_devstack.images import IMAGES, SERVICES, build_all, image_prefix, project_version
from qlcb_devstack.procs import free_ports
from tests.support import eventually, person_body, unique_code, wait_for_headcount

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
STARTUP_TIMEOUT = 900.0
"""Seconds for the whole stack to report healthy: Keycloak's first start on a fresh database
(schema and realm import) dominates; on a loaded 2-core machine it has taken minutes."""
BUILD_TOOLS = ("gcc", "cc", "make", "pip", "pip3", "uv", "javac")
FIND_TOOLS = f"import shutil; print(' '.join(t for t in {BUILD_TOOLS!r} if shutil.which(t)))"
EXPECTED_SERVICES = {"postgres", "nats", "keycloak", *SERVICES, "prometheus"}
"""What the stack runs without a profile (Grafana's is left out here)."""
DEV_OVERLAY = "/etc/qlcb/realm/realm-qlcb.dev-overlay.json"


def required_variables() -> dict[str, str]:
    """A fresh value for every `${VAR:?…}` of the compose file: URL-safe passwords (they go into
    database URLs), a Fernet key for the credential key, 32 bytes in base64 for the backup key, a
    host name for the mail relay."""
    names = set(re.findall(r"\$\{(\w+):\?", COMPOSE_FILE.read_text()))
    values = {name: secrets.token_hex(20) for name in names}
    values["QLCB_CREDENTIAL_KEY"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    values["QLCB_BACKUP_KEY"] = base64.b64encode(os.urandom(32)).decode()
    values["QLCB_SIGNING_SECRET"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    # No mail is due in this test; identity only reaches the relay when a first-login code is.
    values["QLCB_SMTP_HOST"] = "localhost"
    return values


def compose(
    command: list[str], project: str, env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, "--project-name", project, "--file", str(COMPOSE_FILE), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def current() -> list[str]:
    """The Docker Compose of today, which the stack below is brought up with."""
    return [str(current_compose())]


def test_compose_file_is_valid_and_names_each_missing_secret(current: list[str]) -> None:
    """Docker Compose of today and Debian's 1.29 both load the file; today's runs Grafana only in
    its profile (1.29 lists every service whatever the profile); both refuse the file without a
    secret, naming it."""
    env = {**docker_env(), **required_variables()}
    for command in (current, debian_compose_command()):
        checked = compose(command, "qlcb-config", env, "config", "--quiet")
        assert checked.returncode == 0, checked.stderr
    for profiles, expected in (([], EXPECTED_SERVICES), (["--profile", "grafana"], {*EXPECTED_SERVICES, "grafana"})):
        listed = compose(current, "qlcb-config", env, *profiles, "config", "--services")
        assert listed.returncode == 0, listed.stderr
        assert set(listed.stdout.split()) == expected
    for name in (
        "QLCB_POSTGRES_PASSWORD",
        "QLCB_IDENTITY_CLIENT_SECRET",
        "QLCB_BACKUP_CLIENT_SECRET",
        "QLCB_CREDENTIAL_KEY",
        "QLCB_SIGNING_SECRET",
    ):
        without = {k: v for k, v in env.items() if k != name}
        for command in (current, debian_compose_command()):
            refused = compose(command, "qlcb-config", without, "config", "--quiet")
            assert refused.returncode != 0, f"{command} loaded the file without {name}"
            assert f"set {name}" in refused.stderr


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    with DockerEngine(tmp_path_factory.mktemp("dockerd")) as started:
        yield started


@pytest.fixture(scope="module")
def built(engine: DockerEngine) -> dict[str, float]:
    """Every image, as `make images` builds it (seconds per image)."""
    return build_all()


@dataclass(frozen=True)
class Stack:
    project: str
    env: dict[str, str]
    keycloak_url: str
    gateway_url: str
    identity_url: str
    prometheus_url: str


def _containers(command: list[str], project: str, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Service name → its container's state (`docker inspect`'s State)."""
    ids = compose(command, project, env, "ps", "--quiet").stdout.split()
    if not ids:
        return {}
    inspected = subprocess.run(
        [docker_client(), "inspect", *ids], env=env, capture_output=True, text=True, check=True
    ).stdout
    return {c["Config"]["Labels"]["com.docker.compose.service"]: c["State"] for c in json.loads(inspected)}


def _wait_healthy(command: list[str], project: str, env: dict[str, str], expected: set[str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        states = _containers(command, project, env)
        health = {name: str(state.get("Health", {}).get("Status", state["Status"])) for name, state in states.items()}
        broken = {name: status for name, status in health.items() if status in ("unhealthy", "exited", "dead")}
        if broken:
            raise AssertionError(
                f"containers failed: {broken}\n{compose(command, project, env, 'logs', '--tail=80').stdout}"
            )
        if set(health) >= expected and all(health[name] == "healthy" for name in expected):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not healthy after {STARTUP_TIMEOUT}s: {health}")
        time.sleep(1)


@pytest.fixture(scope="module")
def stack(built: dict[str, float], current: list[str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    project = f"qlcbtest{secrets.token_hex(4)}"
    keycloak_port, gateway_port, identity_port, prometheus_port = free_ports(4)
    env = {
        **docker_env(),
        **required_variables(),
        "QLCB_KEYCLOAK_PORT": str(keycloak_port),
        "QLCB_GATEWAY_PORT": str(gateway_port),
        "QLCB_IDENTITY_PORT": str(identity_port),
        "QLCB_PROMETHEUS_PORT": str(prometheus_port),
        "QLCB_IMAGE_TAG": project_version(),
        "QLCB_IMAGE_PREFIX": image_prefix(),
        # The development overlay's password-grant client is how this test logs in.
        "QLCB_REALM_OVERLAYS": json.dumps([DEV_OVERLAY]),
    }
    logs = tmp_path_factory.mktemp("compose") / "compose.log"
    try:
        began = time.monotonic()
        started = compose(current, project, env, "up", "--detach", "--no-build", timeout=STARTUP_TIMEOUT)
        assert started.returncode == 0, (
            f"{started.stderr}\n{compose(current, project, env, 'logs', '--tail=80').stdout}"
        )
        _wait_healthy(current, project, env, EXPECTED_SERVICES)
        logs.with_name("up-seconds").write_text(f"{time.monotonic() - began:.0f}\n")
        yield Stack(
            project=project,
            env=env,
            keycloak_url=f"http://localhost:{keycloak_port}",
            gateway_url=f"http://127.0.0.1:{gateway_port}",
            identity_url=f"http://127.0.0.1:{identity_port}",
            prometheus_url=f"http://127.0.0.1:{prometheus_port}",
        )
    finally:
        logs.write_text(compose(current, project, env, "logs", "--no-color").stdout)
        down = compose(current, project, env, "down", "--volumes", "--remove-orphans", timeout=300)
        assert down.returncode == 0, down.stderr


def _image(name: str) -> str:
    return f"{image_prefix()}/{name}:{project_version()}"


def test_images_are_non_root_labelled_and_checked(built: dict[str, float]) -> None:
    assert set(built) == set(IMAGES)
    for name in IMAGES:
        inspected = subprocess.run(
            [docker_client(), "image", "inspect", _image(name)], capture_output=True, text=True, check=True
        )
        config = json.loads(inspected.stdout)[0]["Config"]
        assert config["User"] not in ("", "root", "0", "0:0"), f"{name} runs as root"
        assert config["Healthcheck"]["Test"][0] in ("CMD", "CMD-SHELL"), f"{name} has no HEALTHCHECK"
        labels = config["Labels"]
        assert labels["org.opencontainers.image.version"] == project_version()
        assert labels["org.opencontainers.image.source"]
        assert labels["org.opencontainers.image.revision"]
        tools = subprocess.run(
            [docker_client(), "run", "--rm", "--network=none", "--entrypoint=python3", _image(name), "-c", FIND_TOOLS],
            capture_output=True,
            text=True,
            check=True,
        )
        assert tools.stdout.strip() == "", f"{name} carries build tools: {tools.stdout}"


async def test_login_write_and_count_through_the_stack(stack: Stack) -> None:
    admin = KeycloakAdmin(
        server_url=stack.keycloak_url,
        username="admin",
        password=stack.env["QLCB_KEYCLOAK_ADMIN_PASSWORD"],
        realm_name="qlcb",
        user_realm_name="master",
    )
    account = Account(
        username=f"compose-{secrets.token_hex(3)}",
        password=f"Kiểm-{secrets.randbelow(10**12):012d}!",
        tier="system-admin",
        unit_path=None,
        full_name="Trần Thị Kiểm",
    )
    ensure_user(admin, account)
    token = password_token(stack.keycloak_url, account.username, account.password)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=30) as api:
        unit = await api.post(
            "/v1/units", json={"code": unique_code("U"), "name": "Đơn vị thử compose", "kind": "general_department"}
        )
        assert unit.status_code == 201, unit.text
        unit_id = unit.json()["id"]
        person = await api.post("/v1/persons", json=person_body(unit_id, "Lê Văn Compose"))
        assert person.status_code == 201, person.text
        assert await wait_for_headcount(api, unit_id, 1, timeout=120) == 1


async def test_prometheus_scrapes_every_service_with_the_rules(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=f"{stack.prometheus_url}/api/v1", timeout=10) as api:

        async def up() -> dict[str, str]:
            targets = (await api.get("/targets")).json()["data"]["activeTargets"]
            return {t["labels"]["job"]: t["health"] for t in targets}

        health = await eventually(
            up, lambda jobs: all(jobs.get(s) == "up" for s in SERVICES), timeout=120, what="every service scraped"
        )
        assert set(health) == set(SERVICES)

        async def rules() -> list[str]:
            groups = (await api.get("/rules")).json()["data"]["groups"]
            return [rule["health"] for group in groups for rule in group["rules"]]

        evaluated = await eventually(
            rules, lambda found: bool(found) and all(h == "ok" for h in found), timeout=120, what="every rule evaluated"
        )
        assert len(evaluated) > len(SERVICES)
