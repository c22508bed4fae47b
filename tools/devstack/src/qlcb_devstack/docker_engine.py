"""The Docker engine that builds the images and runs the compose stack: the one already answering,
or a `dockerd` started here (overlay2, or vfs where overlay mounts fail; cgroupfs), which is
stopped again by whoever started it and by no one else.

`scripts/bootstrap.sh --docker` installs Debian's docker.io, docker-compose and mmdebstrap. The
client is Debian's `/usr/bin/docker` when present: it is the engine's own version, and it builds
with the engine's BuildKit without the buildx plugin that a newer client wants for that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from qlcb_devstack.procs import ManagedProcess, wait_until

STORAGE_DRIVERS = ("overlay2", "vfs")
DEBIAN_CLIENT = Path("/usr/bin/docker")


def docker_client() -> str:
    """The docker CLI to drive the engine with."""
    if DEBIAN_CLIENT.is_file():
        return str(DEBIAN_CLIENT)
    found = shutil.which("docker")
    if found is None:
        raise RuntimeError("no docker client: run scripts/bootstrap.sh --docker (Debian's docker.io)")
    return found


def debian_compose_command() -> list[str]:
    """Debian's `docker-compose` (1.29, the Compose of Debian bookworm's machines). The Docker
    Compose of today is `qlcb_devstack.compose.current_compose()`."""
    if (found := shutil.which("docker-compose")) is None:
        raise RuntimeError("no docker-compose: run scripts/bootstrap.sh --docker (Debian's docker-compose)")
    return [found]


def docker_env() -> dict[str, str]:
    """The environment for the docker and compose commands: BuildKit on, no prompts."""
    return {**os.environ, "DOCKER_BUILDKIT": "1", "COMPOSE_DOCKER_CLI_BUILD": "1"}


def engine_answers(timeout: float = 10) -> bool:
    try:
        result = subprocess.run(
            [docker_client(), "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=docker_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


class DockerEngine:
    """`with DockerEngine(log_dir):` makes sure an engine answers for the block; one started for it
    is stopped at the end (containers it still runs stop with it)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: ManagedProcess | None = None
        self.storage_driver: str | None = None

    def __enter__(self) -> DockerEngine:
        self.ensure()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ensure(self, timeout: float = 90) -> None:
        if engine_answers():
            return
        dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
        if not Path(dockerd).is_file():
            raise RuntimeError("no Docker engine answers and dockerd is missing: run scripts/bootstrap.sh --docker")
        failures = []
        for driver in STORAGE_DRIVERS:
            process = ManagedProcess(
                f"dockerd-{driver}",
                [dockerd, f"--storage-driver={driver}", "--exec-opt", "native.cgroupdriver=cgroupfs"],
                log_dir=self.log_dir,
            )
            process.start()
            try:
                wait_until(engine_answers, timeout=timeout, what=f"dockerd ({driver})", process=process, interval=0.5)
            except (RuntimeError, TimeoutError) as error:
                process.stop(30)
                failures.append(str(error))
                continue
            self.started = process
            self.storage_driver = driver
            return
        raise RuntimeError("dockerd did not start with any storage driver:\n" + "\n".join(failures))

    def stop(self, timeout: float = 60) -> None:
        """Stops the dockerd this object started, if any (never one it found running)."""
        if self.started is not None:
            self.started.stop(timeout)
            self.started = None
