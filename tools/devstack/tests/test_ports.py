"""`make up` listens on the same ports every run, and a port something else holds stops it before
anything starts, with a message naming the port, what wanted it and the variable that moves it."""

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from qlcb_devstack.ports import StackPorts, variable
from qlcb_devstack.state import repo_root

DEFAULTS = {
    "keycloak_port": 8080,
    "keycloak_management_port": 9000,
    "nats_port": 4222,
    "nats_monitoring_port": 8222,
    "gateway_port": 8000,
    "identity_port": 8081,
    "personnel_grpc_port": 8101,
    "personnel_ops_port": 9101,
    "reports_grpc_port": 8102,
    "reports_ops_port": 9102,
    "backup_grpc_port": 8103,
    "backup_ops_port": 9103,
    "smtp_port": 2525,
}


@pytest.fixture
def free_ports_in_env(monkeypatch: pytest.MonkeyPatch) -> StackPorts:
    """Every port moved to a free one through its variable, so this machine's own listeners do not matter."""
    ports = StackPorts.free()
    for name, port in ports.model_dump().items():
        monkeypatch.setenv(variable(name), str(port))
    return ports


@pytest.fixture
def listener() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_the_defaults_are_the_same_every_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in DEFAULTS:
        monkeypatch.delenv(variable(name), raising=False)
    assert StackPorts().model_dump() == DEFAULTS
    assert StackPorts() == StackPorts()
    assert max(DEFAULTS.values()) < 32768, "below the ephemeral ports the tests' free ports come from"


def test_the_readme_states_the_default_addresses() -> None:
    readme = (repo_root() / "README.md").read_text(encoding="utf-8")
    assert f"http://127.0.0.1:{DEFAULTS['gateway_port']}/docs" in readme
    assert f"http://127.0.0.1:{DEFAULTS['identity_port']}/docs" in readme
    assert f"http://localhost:{DEFAULTS['keycloak_port']}" in readme
    assert f"nats://127.0.0.1:{DEFAULTS['nats_port']}" in readme


def test_a_variable_moves_a_port(free_ports_in_env: StackPorts, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QLCB_UP_GATEWAY_PORT", "18000")
    ports = StackPorts()
    assert ports.gateway_port == 18000
    assert ports.ops("gateway") == 18000
    assert ports.grpc("personnel") == free_ports_in_env.personnel_grpc_port


def test_a_taken_port_is_named_with_what_wanted_it_and_its_variable(
    free_ports_in_env: StackPorts, listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QLCB_UP_KEYCLOAK_PORT", str(listener))
    assert StackPorts().taken() == [
        f"port {listener} on 127.0.0.1 is taken; Keycloak (login pages, tokens, admin console) wants it. "
        f"Free it, or choose another: QLCB_UP_KEYCLOAK_PORT=<port> make up"
    ]


def test_make_up_stops_before_starting_anything_when_a_port_is_taken(
    free_ports_in_env: StackPorts, listener: int, tmp_path: Path
) -> None:
    env = {**os.environ, "QLCB_UP_IDENTITY_PORT": str(listener)}
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "qlcb_devstack", "up", "--run-dir", str(run_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Cannot start: port {listener} on 127.0.0.1 is taken; identity (accounts API) wants it. "
        f"Free it, or choose another: QLCB_UP_IDENTITY_PORT=<port> make up"
    )
    assert "Starting" not in result.stdout
    assert not run_dir.exists()


def test_make_up_refuses_a_demo_size_it_cannot_seed_before_starting_anything(
    free_ports_in_env: StackPorts, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "qlcb_devstack", "up", "--run-dir", str(run_dir)],
        env={**os.environ, "QLCB_UP_DEMO_PEOPLE": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Cannot start: the QLCB_UP_* settings are wrong")
    assert "demo_people" in result.stderr
    assert "greater than or equal to 1" in result.stderr
    assert "Starting" not in result.stdout
    assert not run_dir.exists()


def test_a_second_make_up_is_told_that_one_is_running(free_ports_in_env: StackPorts, tmp_path: Path) -> None:
    with contextlib.ExitStack() as held:
        for port in free_ports_in_env.model_dump().values():
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", port))
            sock.listen()
        result = subprocess.run(
            [sys.executable, "-m", "qlcb_devstack", "up", "--run-dir", str(tmp_path / "run")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == len(DEFAULTS) + 1
    assert lines[-1] == "Every port of make up is taken: is another make up running?"


def test_two_listeners_on_one_port_are_refused(free_ports_in_env: StackPorts, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QLCB_UP_IDENTITY_PORT", str(free_ports_in_env.gateway_port))
    with pytest.raises(ValidationError, match="QLCB_UP_GATEWAY_PORT and QLCB_UP_IDENTITY_PORT are both"):
        StackPorts()
