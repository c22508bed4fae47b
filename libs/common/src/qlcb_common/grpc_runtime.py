"""Bootstrap of a gRPC service: health, reflection where enabled, ops endpoints, interceptor,
background workers and graceful shutdown on SIGTERM. Health turns SERVING only once the database
and NATS are connected.

On SIGTERM (or SIGINT), in this order (`qlcb_common.shutdown`):
1. unready: /readyz answers 503 and gRPC health NOT_SERVING, while calls are still answered, until
   none has arrived for `QUIET_SECONDS` (balancers watching health have moved away) or
   `shutdown_unready_seconds` have passed;
2. drain: new calls are refused (clients retry them elsewhere: the server never started them) and
   the calls in flight finish within `shutdown_grace_seconds`;
3. workers stop: relays finish their batch (and publish once more what the last calls committed),
   consumers the message in hand, which they acknowledge, handing the rest of their batch back;
   within `shutdown_grace_seconds` again;
4. NATS is drained and closed, the database pool disposed, and the process exits: with status 0
   if every call in flight finished and every worker stopped by itself, 1 if some had to be cut
   short (then the grace period is too short for what the service was doing).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import grpc
import structlog
import uvloop
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from nats.js import JetStreamContext
from sqlalchemy.orm import Session

from qlcb_common import migrations
from qlcb_common.auth import TokenVerifier
from qlcb_common.certificates import export_certificate_expiry
from qlcb_common.db import Database
from qlcb_common.events.permissions import OWN_STREAM
from qlcb_common.events.streams import ensure_streams
from qlcb_common.faults import FaultPoints
from qlcb_common.grpc_interceptor import ServiceInterceptor
from qlcb_common.heap import freeze_startup_heap
from qlcb_common.logging import configure_logging
from qlcb_common.nats_connection import connect
from qlcb_common.ops_http import Readiness, embedded_ops_server
from qlcb_common.settings import GrpcServiceSettings, OidcSettings
from qlcb_common.shutdown import Calls, Worker, Workers

log = structlog.get_logger(__name__)

QUIET_SECONDS: Final = 0.5
"""A replica leaving moves on from unready to refusing calls once none has arrived for this long."""

UNREADY, DRAINING_CALLS, STOPPING_WORKERS = "unready", "draining calls", "stopping workers"
"""The steps of a stop, as /readyz names them (`stopping`) while the service goes through them."""

Register = Callable[[grpc.aio.Server, Database], Sequence[str]]
Background = Callable[[Database, JetStreamContext], Sequence[Worker]]
"""The service's workers (relays, consumers, pollers), each run until asked to stop."""


def _no_background(_db: Database, _js: JetStreamContext) -> Sequence[Worker]:
    return ()


async def _nothing_to_prepare(_db: Database) -> None:
    return None


@dataclass
class GrpcApp:
    name: str
    settings: GrpcServiceSettings
    oidc: OidcSettings
    # The package whose `migrations` hold the store's schema history (ADR 0022), e.g. qlcb_personnel.
    package: str
    register: Register
    background: Background = field(default=_no_background)
    # Run once the schema exists and before the service reports ready (e.g. seeding catalogs).
    prepare: Callable[[Database], Awaitable[None]] = field(default=_nothing_to_prepare)
    # The class of the service's sessions, e.g. one whose flushes leave an audit trail.
    session_class: type[Session] = Session


def run(app: GrpcApp) -> int:
    """`serve` on uvloop's event loop, as the HTTP services run (`http_server`): asyncpg's round trips
    and the loop's own work cost less on it than on asyncio's."""
    return uvloop.run(serve(app))


async def serve(app: GrpcApp) -> int:
    """Runs the service until SIGTERM or SIGINT; returns the exit status (0: stopped cleanly)."""
    settings = app.settings
    configure_logging(app.name, settings.log_level)
    readiness = Readiness("database", "nats")
    ops = embedded_ops_server(settings.host, settings.ops_port, readiness)
    ops_task = asyncio.create_task(ops.serve(), name="ops-http")

    db = Database(settings.database_url, session_class=app.session_class)
    calls = Calls()
    server = grpc.aio.server(
        interceptors=[
            ServiceInterceptor(
                app.name,
                TokenVerifier(app.oidc, app.name),
                reflection=settings.grpc_reflection,
                calls=calls,
                faults=FaultPoints.from_settings(),
            )
        ],
        options=server_options(settings),
    )
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    names = list(app.register(server, db))
    if settings.grpc_reflection:
        reflection.enable_server_reflection(
            [
                *names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            server,
        )
    for name in ["", *names]:
        await health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    address = f"{settings.host}:{settings.grpc_port}"
    credentials = server_credentials(settings)
    if credentials is None:
        server.add_insecure_port(address)
    else:
        server.add_secure_port(address, credentials)
    if settings.grpc_tls_cert_file is not None:
        export_certificate_expiry(app.name, "grpc", settings.grpc_tls_cert_file)
    await server.start()

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)

    workers = Workers(())
    nc = None
    try:
        startup = asyncio.create_task(_connect(app, db, readiness))
        stop_wait = asyncio.create_task(stopping.wait())
        await asyncio.wait({startup, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if startup.done():
            nc = startup.result()
            frozen = freeze_startup_heap()
            workers = Workers(app.background(db, nc.jetstream()))
            tasks = workers.start()
            for name in ["", *names]:
                await health.set(name, health_pb2.HealthCheckResponse.SERVING)
            log.info(
                "serving",
                frozen_objects=frozen,
                grpc_port=settings.grpc_port,
                ops_port=settings.ops_port,
                tls=credentials is not None,
                client_certificates=settings.grpc_tls_client_ca_file is not None,
            )
            await asyncio.wait({stop_wait, *tasks}, return_when=asyncio.FIRST_COMPLETED)
            for worker, error in workers.failures():
                log.error("background worker failed", worker=worker, error=repr(error))
        else:
            startup.cancel()
        stop_wait.cancel()
    finally:
        log.info("shutting down: unready")
        readiness.stop_step(UNREADY)
        await health.enter_graceful_shutdown()
        quiet = await calls.quiet(for_seconds=QUIET_SECONDS, at_most=settings.shutdown_unready_seconds)
        log.info("shutting down: refusing new calls", quiet=quiet, in_flight=calls.in_flight)
        readiness.stop_step(DRAINING_CALLS)
        stopped = asyncio.create_task(server.stop(settings.shutdown_grace_seconds))
        calls_finished = await calls.all_finished(settings.shutdown_grace_seconds)
        await stopped
        log.info("shutting down: stopping workers", calls_finished=calls_finished)
        readiness.stop_step(STOPPING_WORKERS)
        workers_finished = await workers.stop(settings.shutdown_grace_seconds)
        if nc is not None:
            await _close_nats(nc)
        await db.dispose()
        ops.should_exit = True
        await ops_task
        clean = calls_finished and workers_finished
        log.info("stopped", clean=clean, calls_finished=calls_finished, workers_finished=workers_finished)
    return 0 if clean else 1


def server_options(settings: GrpcServiceSettings) -> list[tuple[str, int]]:
    """No port shared with another process; connections recycled after their age (no grace: calls in
    flight, exports included, finish on the old connection)."""
    return [
        ("grpc.so_reuseport", 0),
        ("grpc.max_connection_age_ms", int(settings.grpc_max_connection_age_seconds * 1000)),
    ]


def server_credentials(settings: GrpcServiceSettings) -> grpc.ServerCredentials | None:
    """TLS with the service's certificate, requiring a client certificate signed by the client CA
    when one is given; None for a plaintext port (no certificate given)."""
    if settings.grpc_tls_cert_file is None or settings.grpc_tls_key_file is None:
        return None
    client_ca = settings.grpc_tls_client_ca_file
    return grpc.ssl_server_credentials(
        [(settings.grpc_tls_key_file.read_bytes(), settings.grpc_tls_cert_file.read_bytes())],
        root_certificates=client_ca.read_bytes() if client_ca is not None else None,
        require_client_auth=client_ca is not None,
    )


async def _connect(app: GrpcApp, db: Database, readiness: Readiness) -> Any:
    await db.wait_connected()
    await migrations.prepare(db, app.package, migrate=app.settings.migrate_at_start)
    await app.prepare(db)
    readiness.mark("database")
    nc = await connect(app.settings, name=f"qlcb-{app.name}")
    await ensure_streams(nc.jetstream(), OWN_STREAM[app.name], replicas=app.settings.nats_stream_replicas)
    readiness.mark("nats")
    return nc


async def _close_nats(nc: Any) -> None:
    """Flushes what is buffered (acks, publishes) and closes; never hangs the shutdown."""
    try:
        await asyncio.wait_for(nc.drain(), timeout=2.0)
    except Exception as exc:
        log.warning("NATS drain did not finish; closing", error=repr(exc))
        await nc.close()
