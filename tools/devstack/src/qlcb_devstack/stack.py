"""The whole system as local processes: infrastructure (Keycloak, NATS, optionally
PostgreSQL) and the five services, on the ports given (`make up`'s fixed ones) or on free ones.
The services run as development (`QLCB_ENVIRONMENT`): Keycloak speaks http here. With `tls=True`
the gRPC services and identity serve TLS from a throwaway authority (`tls.py`), the gRPC services
require the gateway's client certificate, and the gateway checks every certificate."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import ssl
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from keycloak import KeycloakAdmin
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from qlcb_common.settings import ENVIRONMENT_VARIABLE, Environment, FaultPointSettings, api_audience, setting_name
from qlcb_devstack.keycloak import KeycloakServer, admin_client
from qlcb_devstack.mail import MailSink
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.ports import StackPorts
from qlcb_devstack.postgres import PostgresCluster
from qlcb_devstack.probes import http_ok
from qlcb_devstack.procs import DEFAULT_STOP_TIMEOUT, ManagedProcess, free_ports, wait_until
from qlcb_devstack.realm import BACKUP_CLIENT, client_secret, dev_overlay_file, dev_realm, install_realm, realm_file
from qlcb_devstack.tls import TlsFiles, throwaway_authority

REALM = "qlcb"
GRPC_SERVICES = ("personnel", "reports", "backup")
DATABASES = ("identity", *GRPC_SERVICES)
HTTP_SERVICES = ("identity", "gateway")
START_ORDER = ("identity", "personnel", "reports", "backup", "gateway")
FAULT_POINTS_VARIABLE = setting_name(FaultPointSettings, "fault_points_dir")


@dataclass
class Infra:
    keycloak: KeycloakServer
    nats: NatsServer
    postgres: PostgresCluster | None
    mail: MailSink
    ports: StackPorts

    @property
    def issuer(self) -> str:
        return f"{self.keycloak.base_url}/realms/{REALM}"

    def keycloak_admin(self, realm: str = REALM) -> KeycloakAdmin:
        """The master admin: the installer's and the tests' rights, never identity's."""
        return admin_client(self.keycloak, realm=realm)

    def install_realm(self) -> None:
        """What an installer does once: the realm created from its definition (with the
        development overlay) by the master admin."""
        install_realm(self.keycloak, dev_realm())

    @property
    def identity_client_secret(self) -> str:
        """What the installer hands identity: the secret of its own client of the realm."""
        return client_secret(self.keycloak, REALM)

    @property
    def backup_client_secret(self) -> str:
        """What the installer hands backup: the secret of its client of the realm (ADR 0025)."""
        return client_secret(self.keycloak, REALM, BACKUP_CLIENT)

    def stop(self) -> None:
        """Stops the servers side by side (each waits for its own clean exit)."""
        stops: list[Callable[[], None]] = [self.keycloak.stop, self.nats.stop, self.mail.stop]
        if self.postgres is not None:
            stops.append(self.postgres.destroy)
        _side_by_side(stops)


def _side_by_side(calls: Iterable[Callable[[], object]]) -> None:
    """Runs the calls in threads of their own and waits for all; the first error is raised."""
    calls = list(calls)
    with ThreadPoolExecutor(max_workers=max(len(calls), 1)) as pool:
        for done in [pool.submit(call) for call in calls]:
            done.result()


def start_infra(run_dir: Path, ports: StackPorts, *, with_postgres: bool, tls: bool = False) -> Infra:
    """Starts what the services need, then installs the realm; Keycloak, the slowest, boots
    while the others start. With `tls`, NATS requires TLS and client certificates."""
    keycloak = KeycloakServer(
        data_dir=run_dir / "keycloak", port=ports.keycloak_port, management_port=ports.keycloak_management_port
    )
    keycloak.start()
    nats = NatsServer(data_dir=run_dir / "nats", port=ports.nats_port, http_port=ports.nats_monitoring_port, tls=tls)
    nats.start()
    postgres = None
    if with_postgres:
        postgres = PostgresCluster(data_dir=run_dir / "postgres")
        postgres.init()
        postgres.start()
        for database in DATABASES:
            postgres.create_database(database)
    mail = MailSink(data_dir=run_dir / "mail", port=ports.smtp_port)
    mail.start()
    nats.wait_ready()
    keycloak.wait_ready()
    infra = Infra(keycloak=keycloak, nats=nats, postgres=postgres, mail=mail, ports=ports)
    infra.install_realm()
    return infra


class ServiceStack:
    """The five services as processes; each can be stopped, killed and started again. With
    `fault_points=True` each service's relay, consumers and gRPC calls can be held still for crash
    tests (`qlcb_common.faults`), each process from its own folder, `fault_points_dir(name)`.

    `replicas` runs a gRPC service as several processes on one database and bus, e.g.
    `{"personnel": 2}`: the first is `personnel` on the stack's ports, the others `personnel-2`, …
    on free ones, and the gateway balances over all of them (`backend_target`)."""

    def __init__(
        self,
        infra: Infra,
        run_dir: Path,
        *,
        tls: bool = False,
        fault_points: bool = False,
        databases: Mapping[str, str] | None = None,
        replicas: Mapping[str, int] | None = None,
        ack_wait: float | None = None,
        settings: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """`databases`: a service's database on the PostgreSQL of `infra` where it is not named after
        the service (as `DATABASES`), so that a second stack can run beside another on one server.
        `ack_wait`: seconds before an event a killed process had in hand is delivered again (the
        services' own default where None). `settings`: environment variables of a service's settings
        over the stack's own, by service."""
        self.infra = infra
        self.ack_wait = ack_wait
        self.settings = {service: dict(values) for service, values in (settings or {}).items()}
        self.run_dir = run_dir
        self.ports = infra.ports
        self.tls: TlsFiles | None = throwaway_authority(run_dir / "tls") if tls else None
        self.fault_points = fault_points
        self.databases = dict(databases or {})
        self.database_urls = {name: self._database_url(name) for name in DATABASES}
        self.credential_key = Fernet.generate_key().decode()
        self.backup_keys = {"dev-1": base64.b64encode(secrets.token_bytes(32)).decode()}
        self.signing_secret = secrets.token_urlsafe(32)
        self.web_session_key = Fernet.generate_key().decode()
        self._replica_ports: dict[str, tuple[int, int]] = {}
        for service, count in (replicas or {}).items():
            if service not in GRPC_SERVICES or count < 1:
                raise ValueError(f"replicas: {service}={count}; only gRPC services ({GRPC_SERVICES}) run as 1 or more")
            for n in range(2, count + 1):
                grpc_port, ops_port = free_ports(2)
                self._replica_ports[f"{service}-{n}"] = (grpc_port, ops_port)
        self.processes = {name: self._process(name) for service in START_ORDER for name in self.replica_names(service)}

    def replica_names(self, service: str) -> list[str]:
        """The processes of a service: its own name first, then `<service>-2`, … for replicas."""
        return [service, *(name for name in self._replica_ports if name.partition("-")[0] == service)]

    def backend_target(self, service: str) -> str:
        """How the gateway reaches every replica of a gRPC service (`qlcb_common.grpc_client`)."""
        names = self.replica_names(service)
        if len(names) == 1:
            return self.grpc_target(service)
        return "ipv4:" + ",".join(self.grpc_target(name) for name in names)

    @property
    def gateway_url(self) -> str:
        return self.ops_url("gateway")

    @property
    def identity_url(self) -> str:
        return self.ops_url("identity")

    @property
    def personnel_target(self) -> str:
        return self.grpc_target("personnel")

    def fault_points_dir(self, service: str) -> Path:
        """Where a crash test arms the fault points (`qlcb_common.faults`) of a service, or of one
        replica (`personnel-2`): each process has its own."""
        if not self.fault_points:
            raise RuntimeError("this stack runs without fault points: ServiceStack(fault_points=True)")
        return self.run_dir / "faults" / service

    def grpc_target(self, service: str) -> str:
        """The address of one process of a gRPC service (`personnel`, or a replica: `personnel-2`)."""
        if service in self._replica_ports:
            return f"127.0.0.1:{self._replica_ports[service][0]}"
        return f"127.0.0.1:{self.ports.grpc(service)}"

    def ops_url(self, service: str) -> str:
        """A service's HTTP address (see `StackPorts.ops`), or a replica's: https for identity when the
        stack runs TLS."""
        if service in self._replica_ports:
            return f"http://127.0.0.1:{self._replica_ports[service][1]}"
        scheme = "https" if self.tls is not None and service == "identity" else "http"
        return f"{scheme}://127.0.0.1:{self.ports.ops(service)}"

    @cached_property
    def verify(self) -> ssl.SSLContext | bool:
        """How an HTTP client checks the services' certificates: against the stack's own CA."""
        if self.tls is None:
            return True
        return ssl.create_default_context(cafile=self.tls.ca)

    def start_all(self, timeout: float = 120) -> None:
        for name in self.processes:
            self.start(name)
        for name in self.processes:
            process = self.processes[name]
            wait_until(
                lambda n=name: http_ok(f"{self.ops_url(n)}/readyz", verify=self.verify),  # type: ignore[misc]
                timeout=timeout,
                what=f"{name} to be ready",
                process=process,
            )

    def start(self, service: str) -> None:
        self.processes[service].start()

    def stop(self, service: str, timeout: float = DEFAULT_STOP_TIMEOUT) -> int | None:
        """SIGTERM, SIGKILL after `timeout` seconds; returns the exit status (0: it stopped cleanly)."""
        return self.processes[service].stop(timeout)

    def kill(self, service: str) -> None:
        self.processes[service].kill()

    def stop_all(self) -> None:
        """Stops every service side by side: each drains its own calls and workers, so none waits
        for another's grace period."""
        _side_by_side(process.stop for process in reversed(self.processes.values()))

    async def wait_ready(self, service: str, timeout: float = 60) -> None:
        """Waits, without blocking the event loop, until the service reports ready."""
        url = f"{self.ops_url(service)}/readyz"
        process = self.processes[service]
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient(timeout=2, verify=self.verify) as client:
            while True:
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if not process.is_running:
                    raise RuntimeError(f"{service} exited while starting:\n{process.tail()}")
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"{service} not ready after {timeout}s:\n{process.tail()}")
                await asyncio.sleep(0.2)

    async def outbox_pending(self) -> int:
        """Events personnel committed that the relay has not yet handed to JetStream."""
        engine = create_async_engine(self.database_urls["personnel"])
        try:
            async with engine.connect() as conn:
                count = await conn.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
        finally:
            await engine.dispose()
        return int(count or 0)

    def database_name(self, service: str) -> str:
        """The service's database on the stack's PostgreSQL."""
        return self.databases.get(service, service)

    def _database_url(self, service: str) -> str:
        if self.infra.postgres is not None:
            return self.infra.postgres.dsn(self.database_name(service))
        path = self.run_dir / "data" / f"{service}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{path}"

    def _process(self, name: str) -> ManagedProcess:
        """The process `name`: a service, or a replica of one (`personnel-2`) on its own ports."""
        service = name.partition("-")[0]
        env = dict(os.environ)
        env.update(
            {
                ENVIRONMENT_VARIABLE: Environment.DEVELOPMENT,
                "QLCB_OIDC_ISSUER": self.infra.issuer,
                "QLCB_OIDC_AUDIENCE": api_audience(service),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.fault_points:
            env[FAULT_POINTS_VARIABLE] = str(self.fault_points_dir(name))
        prefix = f"QLCB_{service.upper()}_"
        if service in GRPC_SERVICES:
            grpc_port, ops_port = self._replica_ports.get(name, (self.ports.grpc(service), self.ports.ops(service)))
            env[prefix + "GRPC_PORT"] = str(grpc_port)
            env[prefix + "OPS_PORT"] = str(ops_port)
            env[prefix + "DATABASE_URL"] = self.database_urls[service]
            env.update(self.infra.nats.client_env(prefix, service))
        else:
            env[prefix + "PORT"] = str(self.ports.ops(service))
        if self.ack_wait is not None and service in (*GRPC_SERVICES, "identity"):
            env[prefix + "NATS_ACK_WAIT_SECONDS"] = str(self.ack_wait)
        if service == "identity":
            env[prefix + "KEYCLOAK_URL"] = self.infra.keycloak.base_url
            env[prefix + "KEYCLOAK_CLIENT_SECRET"] = self.infra.identity_client_secret
            env[prefix + "REALM_FILE"] = str(realm_file())
            env[prefix + "REALM_OVERLAYS"] = json.dumps([str(dev_overlay_file())])
            env[prefix + "DATABASE_URL"] = self.database_urls[service]
            env.update(self.infra.nats.client_env(prefix, service))
            env[prefix + "CREDENTIAL_KEYS"] = json.dumps([self.credential_key])
            env[prefix + "SMTP_HOST"] = self.infra.mail.host
            env[prefix + "SMTP_PORT"] = str(self.infra.mail.port)
            # The local Keycloak's realms, which play partner agencies in the tests, speak http.
            env[prefix + "FEDERATION_ALLOW_HTTP_ISSUERS"] = "true"
        if service == "personnel":
            # The audit chain's head is on the bus within seconds of an entry being sealed.
            env[prefix + "AUDIT_HEAD_PUBLISH_INTERVAL_SECONDS"] = "2"
        if service == "reports":
            # A reminder of a deadline shows within seconds of the period that calls for it.
            env[prefix + "REMINDER_INTERVAL_SECONDS"] = "2"
            env[prefix + "PERIOD_OPENING_INTERVAL_SECONDS"] = "2"
            env[prefix + "SIGNING_SECRET"] = self.signing_secret
        if service == "backup":
            env[prefix + "BACKUP_DIR"] = str(self.run_dir / "backups")
            # Every service's store, its own catalogue of backups included.
            env[prefix + "STORES"] = json.dumps(self.database_urls)
            env[prefix + "KEYS"] = json.dumps(self.backup_keys)
            env[prefix + "CURRENT_KEY_ID"] = next(iter(self.backup_keys))
            if self.infra.postgres is not None:
                env[prefix + "PG_BIN_DIR"] = str(self.infra.postgres.bin_dir)
            # The realm is a part of every set, exported through the realm-backup extension.
            env[prefix + "KEYCLOAK_URL"] = self.infra.keycloak.base_url
            env[prefix + "KEYCLOAK_CLIENT_SECRET"] = self.infra.backup_client_secret
        if service == "gateway":
            for backend in GRPC_SERVICES:
                env[f"{prefix}{backend.upper()}_TARGET"] = self.backend_target(backend)
            env[prefix + "IDENTITY_URL"] = self.identity_url
            env[prefix + "WEB_SESSION_KEY"] = self.web_session_key
        if self.tls is not None:
            env.update(self._tls_env(service, prefix, self.tls))
        env.update(self.settings.get(service, {}))
        return ManagedProcess(
            name,
            [sys.executable, "-m", f"qlcb_{service}"],
            log_dir=self.run_dir / "logs",
            env=env,
        )

    @staticmethod
    def _tls_env(service: str, prefix: str, tls: TlsFiles) -> dict[str, str]:
        """A service's TLS settings: the gRPC services and identity serve the server certificate
        (the gRPC services require the client certificate, which only the gateway holds); the
        gateway checks theirs against the CA and shows the client certificate."""
        if service in GRPC_SERVICES:
            return {
                prefix + "GRPC_TLS_CERT_FILE": str(tls.server_cert),
                prefix + "GRPC_TLS_KEY_FILE": str(tls.server_key),
                prefix + "GRPC_TLS_CLIENT_CA_FILE": str(tls.ca),
            }
        if service == "identity":
            return {prefix + "TLS_CERT_FILE": str(tls.server_cert), prefix + "TLS_KEY_FILE": str(tls.server_key)}
        return {
            prefix + "GRPC_TLS_CA_FILE": str(tls.ca),
            prefix + "GRPC_TLS_CERT_FILE": str(tls.client_cert),
            prefix + "GRPC_TLS_KEY_FILE": str(tls.client_key),
            prefix + "IDENTITY_TLS_CA_FILE": str(tls.ca),
        }
