"""Events carry authorization state, so the bus is guarded (R-OPS-3): NATS refuses a connection
without a service's credentials and a publication outside the publisher's own subjects, and a
consumer applies only what the producer's own API would have accepted."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import nats
import pytest
from nats.aio.client import Client
from nats.errors import NoServersError
from nats.js.api import DeliverPolicy
from nats.js.errors import APIError, NoStreamResponseError, NotFoundError
from pydantic import SecretStr

from qlcb.backup.v1 import backup_pb2
from qlcb.backup.v1 import events_pb2 as backup_events
from qlcb.identity.v1 import events_pb2 as identity_events
from qlcb.personnel.v1 import events_pb2 as personnel_events
from qlcb.personnel.v1 import personnel_pb2
from qlcb_common.events import streams, subjects
from qlcb_common.events.consumer import DurableConsumer
from qlcb_common.events.contracts import PERSONNEL_EVENTS
from qlcb_common.events.envelope import wrap
from qlcb_common.events.streams import ensure_streams
from qlcb_common.nats_connection import connect, tls_context
from qlcb_common.settings import NatsClientSettings
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.procs import ManagedProcess, free_port
from tests.personal_accounts import issue_personal_account
from tests.support import System, api_client, eventually, metric_value, person_body, unique_code

DEAD_LETTERED = "qlcb_events_dead_lettered_total"


@asynccontextmanager
async def _connected(system: System, user: str | None) -> AsyncIterator[Client]:
    credentials = system.infra.nats.credentials(user) if user else (None, None)
    nc = await nats.connect(
        system.infra.nats.url, user=credentials[0], password=credentials[1], allow_reconnect=False, connect_timeout=5
    )
    try:
        yield nc
    finally:
        await nc.close()


async def _stored_after(system: System, stream: streams.Stream, subject: str, after: int) -> int | None:
    """The sequence of the first message of `subject` stored after sequence `after`, if any."""
    async with _connected(system, "ops") as ops:
        try:
            message = await ops.jetstream().get_msg(stream.name, seq=after + 1, subject=subject, next=True)
        except NotFoundError:
            return None
    return int(message.seq or 0)


async def _last_sequence(system: System, stream: streams.Stream) -> int:
    async with _connected(system, "ops") as ops:
        info = await ops.jetstream().stream_info(stream.name)
    return int(info.state.last_seq)


def _forged_transfer() -> bytes:
    """What the review forged: an admin account's holder 'moved' to the root unit."""
    event = personnel_events.PersonTransferred(
        person=personnel_pb2.Person(id=str(uuid.uuid4()), personal_id="001088000001"),
        from_unit=personnel_pb2.Unit(path="/TCHQ/HQHN"),
        to_unit=personnel_pb2.Unit(path="/TCHQ"),
        effective_date="2026-12-01",
    )
    return wrap(
        subjects.PERSONNEL_PERSON_TRANSFERRED, event, actor="forger", occurred_at=datetime.now(UTC)
    ).SerializeToString()


async def test_a_connection_without_a_services_credentials_is_refused(system: System) -> None:
    with pytest.raises((NoServersError, nats.errors.Error, OSError)):
        async with _connected(system, None):
            pass


async def test_a_service_cannot_publish_another_services_events(system: System) -> None:
    before = await _last_sequence(system, streams.PERSONNEL)
    async with _connected(system, "identity") as identity:
        with pytest.raises((NoStreamResponseError, nats.errors.TimeoutError)):
            await identity.jetstream().publish(subjects.PERSONNEL_PERSON_TRANSFERRED, _forged_transfer(), timeout=2)
    # Only the forged subject is looked for: the audit chain's heads come on their own schedule.
    assert await _stored_after(system, streams.PERSONNEL, subjects.PERSONNEL_PERSON_TRANSFERRED, before) is None, (
        "the stream never stored the forgery"
    )


@pytest.mark.parametrize("forger", ["identity", "personnel", "reports"])
async def test_only_backup_can_announce_a_realm_switched_in(system: System, forger: str) -> None:
    """A switched-in realm makes identity relink every account it keeps by username (ADR 0029):
    announced by anyone but backup, it would point accounts at whoever holds those names."""
    restore = backup_pb2.Restore(
        id=str(uuid.uuid4()),
        status="switched",
        switched_by="forger",
        parts=[backup_pb2.RestoredPart(store="keycloak", target="qlcb_forged")],
    )
    envelope = wrap(
        subjects.BACKUP_RESTORE_SWITCHED,
        backup_events.RestoreSwitched(restore=restore),
        actor="forger",
        occurred_at=datetime.now(UTC),
    )
    before = await _last_sequence(system, streams.BACKUP)
    async with _connected(system, forger) as bus:
        with pytest.raises((NoStreamResponseError, nats.errors.TimeoutError)):
            await bus.jetstream().publish(subjects.BACKUP_RESTORE_SWITCHED, envelope.SerializeToString(), timeout=2)
    assert await _last_sequence(system, streams.BACKUP) == before, "the stream never stored the forgery"


@pytest.mark.parametrize(
    ("reader", "refused"),
    [("reports", streams.BACKUP), ("identity", streams.REPORTS), ("personnel", streams.BACKUP)],
)
async def test_a_consumer_reads_messages_by_sequence_only_of_the_streams_it_consumes(
    system: System, reader: str, refused: streams.Stream
) -> None:
    """A consumer reads the message at its inbox's mark (ADR 0056); the grant covers the streams it
    consumes, whose every message it reads anyway, and no other."""
    consumed = streams.IDENTITY if reader == "personnel" else streams.PERSONNEL
    async with _connected(system, reader) as bus:
        js = bus.jetstream(timeout=2)
        last = (await js.stream_info(consumed.name)).state.last_seq
        # The server answers, with the message or with "no message found" on a stream still empty.
        try:
            answered = (await js.get_msg(consumed.name, seq=max(last, 1))).seq
        except NotFoundError as exc:
            answered = exc.err_code
        assert answered == (last if last else 10037)
        with pytest.raises(nats.errors.TimeoutError):
            await js.get_msg(refused.name, seq=1)


async def test_a_malformed_event_from_the_producer_is_rejected_and_changes_nothing(system: System) -> None:
    """Identity may publish delegations, but not one its API would refuse: scope 'sector' for an
    HQ unit, for the self tier. Personnel and reports reject it; the unit keeps working."""
    async with httpx.AsyncClient(
        base_url=system.gateway_url, headers={"Authorization": f"Bearer {system.token('quantri')}"}, timeout=30
    ) as admin:
        outside = (await admin.post("/v1/persons", json=person_body(system.unit_ids["HQHCM-TSN"], "Vi Văn Giả"))).json()
    labels = {"stream": "QLCB_IDENTITY", "subject": subjects.IDENTITY_DELEGATION_GRANTED, "reason": "delegation.tiers"}
    rejected_before = await metric_value(system, "personnel", DEAD_LETTERED, labels)
    forged = identity_events.DelegationGranted(
        delegation=identity_events.Delegation(
            id=str(uuid.uuid4()),
            unit_path="/TCHQ/CDTCBL",
            tiers=["self", "hq-unit"],
            sections=["identity", "backup"],
            actions=["read"],
            target_unit_path="/",
            valid_from="2026-01-01",
        )
    )
    envelope = wrap(subjects.IDENTITY_DELEGATION_GRANTED, forged, actor="identity", occurred_at=datetime.now(UTC))
    async with _connected(system, "identity") as identity:
        await identity.jetstream().publish(
            subjects.IDENTITY_DELEGATION_GRANTED,
            envelope.SerializeToString(),
            headers={"Nats-Msg-Id": envelope.event_id},
            timeout=5,
        )
    await eventually(
        lambda: metric_value(system, "personnel", DEAD_LETTERED, labels),
        lambda n: n >= rejected_before + 1,
        timeout=30,
        what="personnel to dead-letter the malformed delegation",
    )
    async with httpx.AsyncClient(
        base_url=system.gateway_url, headers={"Authorization": f"Bearer {system.token('cucdtcbl')}"}, timeout=30
    ) as hq_unit:
        assert (await hq_unit.get(f"/v1/persons/{outside['id']}")).status_code == 404, "nothing was granted"
        own = await hq_unit.get(f"/v1/units/{system.unit_ids['CDTCBL']}/persons")
        assert own.status_code == 200, "the unit's requests keep working"


async def _dead_letters(system: System, service: str, sequence: int) -> list[asyncpg.Record]:
    """What a service kept of the message at `sequence` of personnel's stream."""
    conn = await asyncpg.connect(system.postgres_dsn(service))
    try:
        return list(
            await conn.fetch(
                "SELECT consumer, subject, payload, reason FROM dead_letters"
                " WHERE stream = $1 AND stream_sequence = $2 ORDER BY consumer",
                streams.PERSONNEL.name,
                sequence,
            )
        )
    finally:
        await conn.close()


def _enabled(system: System, username: str) -> bool:
    admin = system.infra.keycloak_admin()
    user_id = admin.get_user_id(username)
    assert user_id is not None
    return bool(admin.get_user(user_id)["enabled"])


async def test_a_malformed_person_event_from_personnel_is_dead_lettered_by_each_consumer(system: System) -> None:
    """Personnel may publish person events, but not one its API would refuse: a retirement whose
    name carries a right-to-left override. Identity and reports keep it as a dead letter naming
    the field and count it; the account stays enabled and the headcount unchanged; the real
    retirement that follows is applied, so both consumers moved on."""
    name, personal_id = "Đỗ Văn Thật", f"{uuid.uuid4().int % 10**12:012d}"
    async with api_client(system.gateway_url, system.token("quantri")) as api:
        unit = (
            await api.post(
                "/v1/units",
                json={
                    "code": unique_code("DL"),
                    "name": "Đội thư chết",
                    "kind": "sub_unit",
                    "parent_id": system.unit_ids["HQHN"],
                },
            )
        ).json()
        body = person_body(unit["id"], name) | {"personal_id": personal_id}
        person = (await api.post("/v1/persons", json=body)).json()
        username = await issue_personal_account(system, personal_id, name, unit["path"])

        async def headcount() -> int:
            return int((await api.get(f"/v1/units/{unit['id']}/headcount")).json()["headcount"])

        async def account_enabled() -> bool:
            return await asyncio.to_thread(_enabled, system, username)

        await eventually(headcount, lambda n: n == 1, timeout=30, what="the person in the headcount")
        labels = {
            "stream": streams.PERSONNEL.name,
            "subject": subjects.PERSONNEL_PERSON_RETIRED,
            "reason": "person.full_name",
        }
        counted = {s: await metric_value(system, s, DEAD_LETTERED, labels) for s in ("identity", "reports")}

        forged = personnel_events.PersonStatusChanged(
            person=personnel_pb2.Person(
                id=person["id"],
                personal_id=personal_id,
                staff_number=body["staff_number"],
                full_name="Đỗ Văn\u202eThật",
                date_of_birth=body["date_of_birth"],
                sex=personnel_pb2.SEX_MALE,
                unit_id=unit["id"],
                status=personnel_pb2.PERSON_STATUS_RETIRED,
            ),
            previous_status=personnel_pb2.PERSON_STATUS_ACTIVE,
            effective_date="2026-11-30",
            decision="125/QĐ-TCHQ",
        )
        envelope = wrap(subjects.PERSONNEL_PERSON_RETIRED, forged, actor="personnel", occurred_at=datetime.now(UTC))
        data = envelope.SerializeToString()
        async with _connected(system, "personnel") as personnel:
            stored = await personnel.jetstream().publish(
                subjects.PERSONNEL_PERSON_RETIRED, data, headers={"Nats-Msg-Id": envelope.event_id}, timeout=5
            )

        # Reports reads person events twice: its headcount and its statistics model each keep one.
        for service, consumers in (("identity", 1), ("reports", 2)):
            await eventually(
                lambda s=service: metric_value(system, s, DEAD_LETTERED, labels),  # type: ignore[misc]
                lambda n, s=service, c=consumers: n == counted[s] + c,  # type: ignore[misc]
                timeout=30,
                what=f"{service} to count the dead letter",
            )
        kept = {r["consumer"]: r for s in ("identity", "reports") for r in await _dead_letters(system, s, stored.seq)}
        statistics = {c for c in kept if c.startswith("reports-statistics-")}
        assert len(statistics) == 1, kept.keys()
        assert set(kept) - statistics == {"identity-lifecycle", "reports-personnel"}
        for letter in kept.values():
            assert letter["subject"] == subjects.PERSONNEL_PERSON_RETIRED
            assert bytes(letter["payload"]) == data, "the message is kept whole for the operators"
            assert letter["reason"].startswith("person.full_name: Không được chứa ký tự điều khiển: U+202E")
        assert await account_enabled(), "the forged retirement disabled no account"
        assert await headcount() == 1, "the forged retirement left the headcount alone"

        retire = {"status": "retired", "effective_date": "2026-11-30", "decision": "125/QĐ-TCHQ"}
        assert (await api.post(f"/v1/persons/{person['id']}/status", json=retire)).status_code == 200
        await eventually(account_enabled, lambda on: not on, timeout=30, what="the real retirement to disable")
        await eventually(headcount, lambda n: n == 0, timeout=30, what="the real retirement to leave the headcount")


def _bus_settings(bus: NatsServer, user: str, *, certificate: bool = True) -> NatsClientSettings:
    assert bus.tls is not None
    name, password = bus.credentials(user)
    return NatsClientSettings(
        nats_url=bus.url,
        nats_user=name,
        nats_password=SecretStr(password),
        nats_tls_ca_file=bus.tls.ca,
        nats_tls_cert_file=bus.tls.client_cert if certificate else None,
        nats_tls_key_file=bus.tls.client_key if certificate else None,
    )


async def test_the_bus_can_require_tls_and_client_certificates(system: System, tmp_path: Path) -> None:
    """A bus that requires TLS (devstack's `tls=True`; the services' NATS_TLS_* settings): reports
    connects with its client certificate, becomes ready and consumes personnel's events over TLS;
    a plaintext client and a TLS client without a certificate are cut off before they log in."""
    bus = NatsServer(tmp_path / "tls-nats", tls=True)
    ops_port = free_port()
    env = dict(
        os.environ,
        QLCB_ENVIRONMENT="development",
        QLCB_OIDC_ISSUER=system.infra.issuer,
        QLCB_REPORTS_GRPC_PORT=str(free_port()),
        QLCB_REPORTS_OPS_PORT=str(ops_port),
        QLCB_REPORTS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'reports.sqlite3'}",
        QLCB_REPORTS_SIGNING_SECRET="a-signing-secret-of-at-least-32-characters",
        **bus.client_env("QLCB_REPORTS_", "reports"),
    )
    reports = ManagedProcess("reports-tls", [sys.executable, "-m", "qlcb_reports"], log_dir=tmp_path, env=env)
    bus.start()
    reports.start()
    try:
        bus.wait_ready()
        async with httpx.AsyncClient(timeout=5) as http:

            async def ready() -> int:
                try:
                    return (await http.get(f"http://127.0.0.1:{ops_port}/readyz")).status_code
                except httpx.TransportError:
                    return -1

            await eventually(ready, lambda status: status == 200, timeout=60, what="reports ready over TLS")
            connections = (await http.get(f"http://127.0.0.1:{bus.http_port}/connz", params={"auth": "true"})).json()
        (seen,) = [c for c in connections["connections"] if c.get("name") == "qlcb-reports"]
        assert seen["authorized_user"] == "reports"
        assert seen["tls_version"].startswith("1.")

        ops = await connect(_bus_settings(bus, "ops"), name="test-ops", timeout=5)
        personnel = await connect(_bus_settings(bus, "personnel"), name="test-personnel", timeout=5)
        try:
            await ensure_streams(ops.jetstream(), streams.PERSONNEL)
            unit = personnel_pb2.Unit(
                id=str(uuid.uuid4()),
                code="TLS",
                name="Tổng cục TLS",
                kind=personnel_pb2.UNIT_KIND_GENERAL_DEPARTMENT,
                path="/TLS",
            )
            event = wrap(
                subjects.PERSONNEL_UNIT_ESTABLISHED,
                personnel_events.UnitEstablished(unit=unit),
                actor="personnel",
                occurred_at=datetime.now(UTC),
            )
            stored = await personnel.jetstream().publish(
                subjects.PERSONNEL_UNIT_ESTABLISHED, event.SerializeToString(), timeout=5
            )

            async def acknowledged() -> int:
                try:
                    info = await ops.jetstream().consumer_info(streams.PERSONNEL.name, "reports-personnel")
                except nats.js.errors.NotFoundError:
                    return 0
                return int(info.ack_floor.stream_seq or 0) if info.ack_floor else 0

            await eventually(acknowledged, lambda seq: seq >= stored.seq, timeout=30, what="reports to apply it")
        finally:
            await personnel.close()
            await ops.close()

        user, password = bus.credentials("ops")
        reader, writer = await asyncio.open_connection("127.0.0.1", bus.port)
        info = json.loads((await reader.readline()).removeprefix(b"INFO "))
        assert info["tls_required"] is True
        writer.write(b"CONNECT " + json.dumps({"user": user, "pass": password}).encode() + b"\r\nPING\r\n")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 10) == b"", "plaintext is cut off: no PONG"
        writer.close()
        with pytest.raises((ConnectionError, NoServersError, nats.errors.Error, OSError)):
            await nats.connect(
                bus.url,
                user=user,
                password=password,
                tls=tls_context(_bus_settings(bus, "ops", certificate=False)),
                allow_reconnect=False,
                connect_timeout=5,
            )
    finally:
        reports.stop()
        bus.stop()


async def test_a_consumer_re_created_at_a_stream_position_is_declared_again_and_resumes_there(tmp_path: Path) -> None:
    """As an operator re-creates a service's consumer when switching in restored streams (ADR 0026):
    JetStream cannot give it the service's `deliver_policy: all`; the service's declaration keeps
    where it starts, brings the rest to the service's configuration, and it delivers from there."""
    server = NatsServer(data_dir=tmp_path / "nats")
    server.start()
    try:
        await asyncio.to_thread(server.wait_ready)
        user, password = server.credentials("ops")
        nc = await nats.connect(server.url, user=user, password=password, allow_reconnect=False)
        try:
            js = nc.jetstream()
            await ensure_streams(js, streams.PERSONNEL)
            for n in range(5):
                await js.publish(subjects.PERSONNEL_UNIT_RENAMED, f"{n}".encode(), stream=streams.PERSONNEL.name)
            consumer = DurableConsumer(
                name="identity-units",
                stream=streams.PERSONNEL,
                filter_subjects=[subjects.PERSONNEL_UNIT_RENAMED],
                db=None,  # type: ignore[arg-type]
                inbox=None,  # type: ignore[arg-type]
                js=js,
                contracts=PERSONNEL_EVENTS,
                handler=None,  # type: ignore[arg-type]
            )
            restored = replace(
                consumer.config(), deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=4, max_ack_pending=7
            )
            await js.add_consumer(streams.PERSONNEL.name, restored)
            with pytest.raises(APIError, match="deliver policy can not be updated"):
                await js.add_consumer(streams.PERSONNEL.name, consumer.config())

            await consumer.declare()
            await consumer.declare()

            declared = (await js.consumer_info(streams.PERSONNEL.name, consumer.name)).config
            assert (declared.deliver_policy, declared.opt_start_seq) == (DeliverPolicy.BY_START_SEQUENCE, 4)
            assert declared.max_ack_pending == consumer.config().max_ack_pending
            pulled = await js.pull_subscribe_bind(durable=consumer.name, stream=streams.PERSONNEL.name)
            delivered = await pulled.fetch(10, timeout=5)
            assert [m.data for m in delivered] == [b"3", b"4"]
        finally:
            await nc.close()
    finally:
        server.stop()


async def test_the_streams_read_models_are_rebuilt_from_keep_every_event_once_declared_again(
    own_nats: NatsServer,
) -> None:
    """Personnel's and identity's streams are what other services' read-models are rebuilt from
    (reports' statistics replay personnel's from its first event): a deployment whose streams
    forgot events after 90 days keeps every one from the service's next start, and the messages it
    holds; the streams nobody rebuilds from keep 90 days."""
    user, password = own_nats.credentials("ops")
    nc = await nats.connect(own_nats.url, user=user, password=password, allow_reconnect=False)
    try:
        js = nc.jetstream()
        for stream in streams.ALL_STREAMS:
            await js.add_stream(replace(stream.config(), max_age=90 * 24 * 3600))
        await js.publish(subjects.PERSONNEL_UNIT_RENAMED, b"1", stream=streams.PERSONNEL.name)
        for stream in streams.ALL_STREAMS:
            await ensure_streams(js, stream)
        kept = {s.name: (await js.stream_info(s.name)).config.max_age for s in streams.ALL_STREAMS}
        ninety_days = 90 * 24 * 3600
        assert kept == {
            "QLCB_PERSONNEL": 0,
            "QLCB_IDENTITY": 0,
            "QLCB_REPORTS": ninety_days,
            "QLCB_BACKUP": ninety_days,
        }
        assert (await js.stream_info(streams.PERSONNEL.name)).state.messages == 1
    finally:
        await nc.close()
