"""An HTTP service leaving on SIGTERM (qlcb_common.http_server), as a real process: unready at
once while it still answers, stopping once requests have stopped arriving, at once if none do."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

APP = """
import sys
from fastapi import FastAPI
from qlcb_common import http_server
from qlcb_common.http_app import instrument
from qlcb_common.ops_http import Readiness
from qlcb_common.settings import HttpApiSettings, ServiceSettings

app = FastAPI()

@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}

instrument(app, service="probe", readiness=Readiness(), http=HttpApiSettings())
settings = ServiceSettings(shutdown_unready_seconds=float(sys.argv[2]), shutdown_grace_seconds=2)
http_server.run(app, settings, port=int(sys.argv[1]))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(condition: object, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)


def _ready(client: httpx.Client) -> bool:
    try:
        return client.get("/readyz").status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def service(request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", APP, str(port), str(request.param)])
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
    try:
        _until(lambda: _ready(client), "the service ready")
        yield process, client
    finally:
        client.close()
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


@pytest.mark.parametrize("service", [30.0], indirect=True)
def test_on_sigterm_it_turns_unready_and_answers_until_requests_stop_arriving(
    service: tuple[subprocess.Popen[bytes], httpx.Client],
) -> None:
    process, client = service
    answers: list[int] = []
    sending = threading.Event()
    sending.set()

    def balancer_slow_to_notice() -> None:
        with httpx.Client(base_url=client.base_url, timeout=5) as own:
            while sending.is_set():
                answers.append(own.get("/hello").status_code)
                time.sleep(0.1)

    sender = threading.Thread(target=balancer_slow_to_notice)
    sender.start()
    try:
        _until(lambda: len(answers) >= 3, "requests flowing")
        process.send_signal(signal.SIGTERM)
        _until(lambda: client.get("/readyz").status_code == 503, "/readyz 503")
        sent_before = len(answers)
        # A balancer slow to notice sends 15 more (1.5 s of them): the window must stay open for them.
        _until(lambda: len(answers) >= sent_before + 15, "15 requests answered after SIGTERM")
        readiness = client.get("/readyz").json()
        assert readiness["stopping"] == "unready", readiness
        assert process.poll() is None, "it stopped while requests still arrived"
    finally:
        sending.clear()
        sender.join(timeout=10)
    assert set(answers) == {200}
    # Once they stop, it leaves well before its 30 s window ends.
    _until(lambda: process.poll() is not None, "the process to exit", timeout=15)


@pytest.mark.parametrize("service", [30.0], indirect=True)
def test_a_second_sigterm_stops_it_at_once(service: tuple[subprocess.Popen[bytes], httpx.Client]) -> None:
    process, client = service
    process.send_signal(signal.SIGTERM)
    _until(lambda: client.get("/readyz").status_code == 503, "/readyz 503")
    process.send_signal(signal.SIGTERM)
    _until(lambda: process.poll() is not None, "the process to exit", timeout=10)


@pytest.mark.parametrize("service", [30.0], indirect=True)
def test_a_request_whose_head_outgrows_its_bound_is_refused_and_the_service_answers_on(
    service: tuple[subprocess.Popen[bytes], httpx.Client],
) -> None:
    """A client sending headers without end is cut off, not kept in memory (h11's 16 kB bound)."""
    _, client = service
    with socket.create_connection((client.base_url.host, client.base_url.port), timeout=5) as raw:
        raw.sendall(b"GET /hello HTTP/1.1\r\nHost: probe\r\n")
        sent, answer = 0, b""
        try:
            while sent < 8_000_000 and not answer:
                raw.sendall(b"X-Padding-%d: %s\r\n" % (sent, b"a" * 50_000))
                sent += 50_000
                raw.setblocking(False)
                try:
                    answer = raw.recv(200)
                except BlockingIOError:
                    pass
                finally:
                    raw.setblocking(True)
        except (ConnectionResetError, BrokenPipeError):
            pass
    assert sent < 8_000_000, "8 MB of headers were taken in"
    assert not answer.startswith(b"HTTP/1.1 200"), answer
    assert client.get("/hello").status_code == 200
