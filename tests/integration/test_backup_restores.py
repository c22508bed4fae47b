"""Restores and drills on the real servers (issue 12, points 5, 6 and 7; ADR 0028): the full restore
of docs/operations.md step by step, two system admins (one asks, another confirms), the explicit
switch that keeps the live store, a lapsed or cancelled request, the backup's own catalogue never
switched online, and drills on a schedule whose results are kept, published and exported.

They run on a backup process of this module's own backing up a `ledger` database of its own, so a
switch replaces no data the other tests use."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import nats
import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError
from sqlalchemy import MetaData
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.schema import CreateTable

from qlcb.backup.v1 import backup_pb2
from qlcb.backup.v1 import events_pb2 as backup_events
from qlcb_backup.catalog.service import RESTORE_LEASED
from qlcb_backup.drills.service import NO_GOOD_SET
from qlcb_backup.drills.worker import DRILL_SCHEDULER
from qlcb_backup.sets.writing import SETS_DIR
from qlcb_backup.stores import jetstream
from qlcb_backup.stores.jetstream import KEPT_AS, SWITCHED_FROM, restored_name, stream_entry
from qlcb_common.events import streams, subjects
from qlcb_common.events.contracts import BACKUP_EVENTS, accept
from qlcb_common.events.envelope import unpack
from qlcb_common.events.inbox import define_mark_table
from qlcb_common.events.outbox import define_outbox_table
from qlcb_common.faults import arm, held, release
from qlcb_devstack.nats import NatsServer
from tests.integration.test_backup_sets import OwnBackup, _exists, _key
from tests.support import System, eventually, metric_at, unique_code


@pytest.fixture
def ledger(system: System) -> str:
    """A live database of this module's own, with a table of rows."""
    assert system.infra.postgres is not None
    name = f"ledger_{uuid.uuid4().hex[:8]}"
    system.infra.postgres.create_database(name)
    return name


@pytest.fixture
def own(system: System, tmp_path: Path) -> Iterator[OwnBackup]:
    assert system.infra.postgres is not None
    catalog = f"backup_rs_{uuid.uuid4().hex[:8]}"
    system.infra.postgres.create_database(catalog)
    process = OwnBackup(system, tmp_path, catalog)
    try:
        yield process
    finally:
        process.stop()


def _stores(system: System, **databases: str) -> dict[str, str]:
    """The process backs up these databases only (OwnBackup leaves the suite's event streams out)."""
    assert system.infra.postgres is not None
    return {"QLCB_BACKUP_STORES": json.dumps({s: system.infra.postgres.dsn(db) for s, db in databases.items()})}


async def _rows(system: System, database: str) -> list[str]:
    conn = await asyncpg.connect(system.postgres_dsn(database))
    try:
        return [r["entry"] for r in await conn.fetch("SELECT entry FROM ledger ORDER BY entry")]
    finally:
        await conn.close()


async def _write(system: System, database: str, *entries: str) -> None:
    conn = await asyncpg.connect(system.postgres_dsn(database))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS ledger (entry text PRIMARY KEY)")
        await conn.executemany("INSERT INTO ledger VALUES ($1)", [(e,) for e in entries])
    finally:
        await conn.close()


async def _call(own: OwnBackup, method: str, request: Any, *, second: bool = False, timeout: float = 120) -> Any:
    async with grpc.aio.insecure_channel(own.target) as channel:
        return await getattr(own.stub(channel), method)(
            request, metadata=own.second_metadata if second else own.metadata, timeout=timeout
        )


async def _backup_events(system: System, after: int) -> list[tuple[str, str, Any]]:
    """(subject, actor, payload) of the backup stream's events after sequence `after`, each checked
    against its contract as a consumer checks it."""
    user, password = system.infra.nats.credentials("ops")
    nc = await nats.connect(system.infra.nats.url, user=user, password=password)
    found: list[tuple[str, str, Any]] = []
    try:
        js = nc.jetstream()
        sequence = after + 1
        while True:
            try:
                message = await js.get_msg(streams.BACKUP.name, seq=sequence, next=True)
            except NotFoundError:
                return found
            assert message.data is not None
            assert message.subject is not None
            contract = BACKUP_EVENTS[message.subject]
            envelope = accept(message.subject, message.data, BACKUP_EVENTS)
            found.append((message.subject, envelope.actor, unpack(envelope, contract.payload)))
            sequence = int(message.seq or sequence) + 1
    finally:
        await nc.close()


async def _last_sequence(system: System) -> int:
    user, password = system.infra.nats.credentials("ops")
    nc = await nats.connect(system.infra.nats.url, user=user, password=password)
    try:
        return int((await nc.jetstream().stream_info(streams.BACKUP.name)).state.last_seq)
    finally:
        await nc.close()


async def test_a_full_restore_step_by_step_needs_two_admins_and_switches_only_when_asked(
    system: System, own: OwnBackup, ledger: str
) -> None:
    """docs/operations.md "Restoring", steps 1 to 6."""
    await _write(system, ledger, "before-1", "before-2")
    await own.start({"k1": _key()}, "k1", _stores(system, ledger=ledger))
    start = await _last_sequence(system)
    # 1. A set (the schedule's, or taken now).
    taken: backup_pb2.BackupSet = (await _call(own, "CreateBackupSet", backup_pb2.CreateBackupSetRequest())).set
    assert taken.status == "good"
    await _write(system, ledger, "after-backup")
    # 2. One system admin asks, naming the set, the suffix of the new databases and why.
    suffix = unique_code("su_co").lower()
    ask = backup_pb2.RequestRestoreRequest(set_id=taken.id, target_suffix=suffix, reason="Sự cố ổ đĩa ngày 02/12")
    requested: backup_pb2.Restore = (await _call(own, "RequestRestore", ask)).restore
    assert (requested.status, [p.target for p in requested.parts]) == ("requested", [f"ledger_{suffix}"])
    assert not await _exists(system, f"ledger_{suffix}")
    # 3. Another one confirms; the one who asked cannot.
    with pytest.raises(grpc.aio.AioRpcError) as own_confirmation:
        await _call(own, "ConfirmRestore", backup_pb2.ConfirmRestoreRequest(restore_id=requested.id))
    assert own_confirmation.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "khác người yêu cầu" in (own_confirmation.value.details() or "")
    assert not await _exists(system, f"ledger_{suffix}")
    confirm = backup_pb2.ConfirmRestoreRequest(restore_id=requested.id)
    verified: backup_pb2.Restore = (await _call(own, "ConfirmRestore", confirm, second=True)).restore
    assert verified.status == "verified"
    (part,) = verified.parts
    assert part.verified
    assert part.content_digest == taken.parts[0].content_digest
    # 4. The restored copy holds the set's content; the live store is untouched.
    assert await _rows(system, f"ledger_{suffix}") == ["before-1", "before-2"]
    assert await _rows(system, ledger) == ["after-backup", "before-1", "before-2"]
    # 5. The switch replaces live data only with its explicit flag.
    service = await asyncpg.connect(system.postgres_dsn(ledger))
    try:
        with pytest.raises(grpc.aio.AioRpcError) as unflagged:
            await _call(own, "SwitchRestore", backup_pb2.SwitchRestoreRequest(restore_id=requested.id))
        assert unflagged.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "replace_live" in (unflagged.value.details() or "")
        assert await service.fetchval("SELECT count(*) FROM ledger") == 3
        switch = backup_pb2.SwitchRestoreRequest(restore_id=requested.id, replace_live=True)
        switched: backup_pb2.Restore = (await _call(own, "SwitchRestore", switch)).restore
        # A session left open on the replaced database was ended; a new one reaches the restored copy.
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)):
            await service.fetchval("SELECT count(*) FROM ledger")
    finally:
        service.terminate()
    assert switched.status == "switched"
    assert switched.parts[0].kept_as == f"ledger_truoc_{suffix}"
    # 6. The live name holds the restored content; the replaced store is kept, nothing dropped.
    assert await _rows(system, ledger) == ["before-1", "before-2"]
    assert await _rows(system, f"ledger_truoc_{suffix}") == ["after-backup", "before-1", "before-2"]
    assert not await _exists(system, f"ledger_{suffix}")
    listed = (await _call(own, "ListRestores", backup_pb2.ListRestoresRequest())).restores
    assert [(r.id, r.status, r.requested_by != r.confirmed_by) for r in listed] == [(requested.id, "switched", True)]

    async def published() -> list[tuple[str, str, Any]]:
        return [e for e in await _backup_events(system, start) if e[0].startswith("qlcb.backup.restore.")]

    events = await eventually(published, lambda found: len(found) >= 3, timeout=30, what="the restore's events")
    assert [subject for subject, _, _ in events] == [
        subjects.BACKUP_RESTORE_REQUESTED,
        subjects.BACKUP_RESTORE_VERIFIED,
        subjects.BACKUP_RESTORE_SWITCHED,
    ]
    assert events[0][1] != events[1][1], "asked and confirmed by two accounts"
    assert all(payload.restore.id == requested.id for _, _, payload in events)


async def _messages(nc: Client, stream: str) -> list[tuple[str, bytes]]:
    js = nc.jetstream()
    info = await js.stream_info(stream)
    found = []
    for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
        message = await js.get_msg(stream, seq)
        found.append((str(message.subject), message.data or b""))
    return found


async def _consume(nc: Client, consumer: str, count: int) -> list[bytes]:
    subscription = await nc.jetstream().pull_subscribe_bind(durable=consumer, stream=streams.PERSONNEL.name)
    fetched = await subscription.fetch(count, timeout=10)
    for message in fetched:
        await message.ack_sync()
    await subscription.unsubscribe()
    return [message.data for message in fetched]


async def test_a_whole_set_with_its_event_streams_is_switched_in_by_the_command_then_the_switch(
    system: System, own: OwnBackup, ledger: str, own_nats: NatsServer
) -> None:
    """docs/operations.md "The event streams": a set of a database and the streams, restored; the
    switch refuses until the operator's command has made the restored streams the live ones (every
    service stopped but backup), then switches the database and records the streams' switch; the
    consumers resume where the set had them, and the restore's events reach the new live stream.
    On a NATS of the test's own: switching event streams deletes the live ones."""
    user, password = own_nats.credentials("ops")
    nc = await nats.connect(own_nats.url, user=user, password=password)
    try:
        js = nc.jetstream()
        await js.add_stream(streams.PERSONNEL.config())
        consumer = "reports-personnel"
        await js.add_consumer(
            streams.PERSONNEL.name,
            ConsumerConfig(durable_name=consumer, ack_policy=AckPolicy.EXPLICIT, filter_subjects=["qlcb.personnel.>"]),
        )
        for n in range(3):
            await js.publish(
                f"{subjects.PERSONNEL_PERSON_CREATED}", f"trước {n}".encode(), headers={"Nats-Msg-Id": f"t{n}"}
            )
        assert await _consume(nc, consumer, 2) == ["trước 0".encode(), "trước 1".encode()]
        await _write(system, ledger, "before-1")
        bus_env = {"QLCB_BACKUP_STREAMS_STORE": "true", **own_nats.client_env("QLCB_BACKUP_", "backup")}
        await own.start({"k1": _key()}, "k1", _stores(system, ledger=ledger) | bus_env)
        taken: backup_pb2.BackupSet = (await _call(own, "CreateBackupSet", backup_pb2.CreateBackupSetRequest())).set
        assert (taken.status, [p.store for p in taken.parts]) == ("good", ["events", "ledger"])
        in_set = await _messages(nc, streams.PERSONNEL.name)
        # After the set: more events, more of them consumed, another row.
        for n in range(2):
            await js.publish(
                f"{subjects.PERSONNEL_PERSON_CREATED}", f"sau {n}".encode(), headers={"Nats-Msg-Id": f"s{n}"}
            )
        assert len(await _consume(nc, consumer, 3)) == 3
        await _write(system, ledger, "after-backup")

        suffix = unique_code("luong").lower()
        ask = backup_pb2.RequestRestoreRequest(set_id=taken.id, target_suffix=suffix, reason="Mất dữ liệu NATS")
        requested: backup_pb2.Restore = (await _call(own, "RequestRestore", ask)).restore
        confirm = backup_pb2.ConfirmRestoreRequest(restore_id=requested.id)
        verified: backup_pb2.Restore = (await _call(own, "ConfirmRestore", confirm, second=True)).restore
        assert (verified.status, [p.verified for p in verified.parts]) == ("verified", [True, True])

        # The switch refuses before the command has run, naming it, and switches nothing.
        switch = backup_pb2.SwitchRestoreRequest(restore_id=requested.id, replace_live=True)
        with pytest.raises(grpc.aio.AioRpcError) as early:
            await _call(own, "SwitchRestore", switch)
        assert early.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        command = f"python -m qlcb_backup.stream_switch --restored events_{suffix} --keep-as events_truoc_{suffix}"
        assert command in (early.value.details() or "")
        assert await _rows(system, ledger) == ["after-backup", "before-1"]
        # Marks a service's bus user could set on its own live stream, without the command, are not
        # taken for the command's: that stream is older than the copy it would come from.
        forged = {SWITCHED_FROM: f"events_{suffix}", KEPT_AS: f"events_truoc_{suffix}"}
        marked = []
        for stream in streams.ALL_STREAMS:
            live = await stream_entry(nc, stream.name)
            if live is not None and await stream_entry(nc, restored_name(f"events_{suffix}", stream.name)):
                await jetstream.request(nc, f"$JS.API.STREAM.UPDATE.{live.name}", live.config | {"metadata": forged})
                marked.append(stream.name)
        assert streams.PERSONNEL.name in marked
        with pytest.raises(grpc.aio.AioRpcError) as forged_marks:
            await _call(own, "SwitchRestore", switch)
        assert forged_marks.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert command in (forged_marks.value.details() or "")
        assert await _rows(system, ledger) == ["after-backup", "before-1"]

        # The operator's command, every service stopped but backup, as a NATS user that may.
        switched_streams = await asyncio.create_subprocess_exec(
            sys.executable,
            *command.split()[1:],
            "--quiet-seconds",
            "1",
            env=dict(os.environ, **own_nats.client_env("QLCB_STREAM_SWITCH_", "ops")),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        printed, _ = await switched_streams.communicate()
        assert switched_streams.returncode == 0, printed.decode()
        assert f"{consumer} từ sau tin 2" in printed.decode()

        switched: backup_pb2.Restore = (await _call(own, "SwitchRestore", switch)).restore
        assert switched.status == "switched"
        assert [(p.store, p.kept_as) for p in switched.parts] == [
            ("events", f"events_truoc_{suffix}"),
            ("ledger", f"ledger_truoc_{suffix}"),
        ]
        assert await _rows(system, ledger) == ["before-1"]
        assert await _messages(nc, streams.PERSONNEL.name) == in_set
        kept = restored_name(f"events_truoc_{suffix}", streams.PERSONNEL.name)
        assert len(await _messages(nc, kept)) == len(in_set) + 2
        # The consumer resumes after what it had acknowledged when the set was taken.
        assert await _consume(nc, consumer, 1) == ["trước 2".encode()]

        async def switched_event() -> list[str]:
            held = await _messages(nc, streams.BACKUP.name)
            return [subject for subject, _ in held if subject == subjects.BACKUP_RESTORE_SWITCHED]

        await eventually(switched_event, bool, timeout=30, what="restore.switched in the switched backup stream")
    finally:
        await nc.close()


async def _outbox(system: System, database: str) -> dict[str, bool]:
    """Event id → whether the outbox row is marked published."""
    conn = await asyncpg.connect(system.postgres_dsn(database))
    try:
        rows = await conn.fetch("SELECT event_id, published_at IS NOT NULL AS sent FROM outbox")
    finally:
        await conn.close()
    return {row["event_id"]: row["sent"] for row in rows}


async def _marked_since(system: System, database: str) -> dict[str, Any]:
    """Consumer → the time its inbox's mark counts ids from (ADR 0056)."""
    conn = await asyncpg.connect(system.postgres_dsn(database))
    try:
        return {row["consumer"]: row["since"] for row in await conn.fetch("SELECT consumer, since FROM inbox_marks")}
    finally:
        await conn.close()


async def test_a_switched_copy_sends_again_the_events_its_set_began_before_and_only_those(
    system: System, own: OwnBackup, ledger: str
) -> None:
    """ADR 0026: a set reads the streams before it dumps the databases, so an event a service sent
    while the set was taken is in its database as sent but maybe in no stream restored from the set.
    At the switch, such rows (sent since the set began, less a minute for the clocks) are marked
    unsent in the copy, which the relay then sends; older sent rows and the replaced store keep
    theirs, the copy is the set's content exactly until the switch, and a switch asked twice counts
    each row once. The copy's inbox keeps every id it holds: its marks count from the switch, so no
    consumer forgets an event an outbox sends again (ADR 0056)."""
    dialect = PGDialect()  # type: ignore[no-untyped-call]
    outbox = str(CreateTable(define_outbox_table(MetaData())).compile(dialect=dialect))
    marks = str(CreateTable(define_mark_table(MetaData())).compile(dialect=dialect))
    conn = await asyncpg.connect(system.postgres_dsn(ledger))
    try:
        await conn.execute(outbox)
        await conn.execute(marks)
        await conn.execute(
            "INSERT INTO inbox_marks (consumer, stream, stream_created, through, through_event_id, since, marked_at)"
            " VALUES ('reports-personnel', 'QLCB_PERSONNEL', 'x', 7, 'e7', now() - interval '400 days', now())"
        )
        await conn.executemany(
            "INSERT INTO outbox (event_id, subject, envelope, created_at, published_at)"
            " VALUES ($1, 'qlcb.test.ledger', '\\x00', now(), now() - $2::interval)",
            [
                ("sent-two-hours-ago", timedelta(hours=2)),
                ("sent-just-now", timedelta()),
                ("sent-20-seconds-ago", timedelta(seconds=20)),
            ],
        )
        await conn.execute(
            "INSERT INTO outbox (event_id, subject, envelope, created_at)"
            " VALUES ('not-sent', 'qlcb.test.ledger', '\\x00', now())"
        )
    finally:
        await conn.close()
    await own.start({"k1": _key()}, "k1", _stores(system, ledger=ledger))
    taken = (await _call(own, "CreateBackupSet", backup_pb2.CreateBackupSetRequest())).set
    suffix = unique_code("gui_lai").lower()
    ask = backup_pb2.RequestRestoreRequest(set_id=taken.id, target_suffix=suffix, reason="Sự cố, gửi lại sự kiện")
    requested = (await _call(own, "RequestRestore", ask)).restore
    confirm = backup_pb2.ConfirmRestoreRequest(restore_id=requested.id)
    assert (await _call(own, "ConfirmRestore", confirm, second=True)).restore.status == "verified"
    as_taken = {"sent-two-hours-ago": True, "sent-just-now": True, "sent-20-seconds-ago": True, "not-sent": False}
    assert await _outbox(system, f"ledger_{suffix}") == as_taken

    # A switch cut short after the marking (the name the live store is to be kept under is taken)
    # keeps its count; asked again, it switches and counts nothing twice.
    assert system.infra.postgres is not None
    asked_to_switch = datetime.now(UTC)
    system.infra.postgres.create_database(f"ledger_truoc_{suffix}")
    switch = backup_pb2.SwitchRestoreRequest(restore_id=requested.id, replace_live=True)
    with pytest.raises(grpc.aio.AioRpcError) as cut_short:
        await _call(own, "SwitchRestore", switch)
    assert cut_short.value.code() is grpc.StatusCode.FAILED_PRECONDITION, cut_short.value.details()
    listed = (await _call(own, "ListRestores", backup_pb2.ListRestoresRequest())).restores
    (held,) = [restore for restore in listed if restore.id == requested.id]
    assert (held.status, held.parts[0].kept_as, held.parts[0].resent_events) == ("verified", "", 2)
    admin = await asyncpg.connect(system.postgres_dsn("postgres"))
    try:
        await admin.execute(f'DROP DATABASE "ledger_truoc_{suffix}"')
    finally:
        await admin.close()

    switched = (await _call(own, "SwitchRestore", switch)).restore
    assert (switched.status, switched.parts[0].resent_events) == ("switched", 2)
    assert (await _marked_since(system, ledger))["reports-personnel"] >= asked_to_switch - timedelta(seconds=5)
    kept_since = (await _marked_since(system, f"ledger_truoc_{suffix}"))["reports-personnel"]
    assert kept_since < asked_to_switch - timedelta(days=399), "the replaced store keeps its own marks"
    assert await _outbox(system, ledger) == {
        "sent-two-hours-ago": True,
        "sent-just-now": False,
        "sent-20-seconds-ago": False,
        "not-sent": False,
    }
    assert await _outbox(system, f"ledger_truoc_{suffix}") == as_taken
    listed = (await _call(own, "ListRestores", backup_pb2.ListRestoresRequest())).restores
    assert [part.resent_events for restore in listed if restore.id == requested.id for part in restore.parts] == [2]


async def test_a_lapsed_or_cancelled_request_restores_nothing_and_bad_requests_name_their_field(
    system: System, own: OwnBackup, ledger: str
) -> None:
    await _write(system, ledger, "row")
    await own.start(
        {"k1": _key()}, "k1", {**_stores(system, ledger=ledger), "QLCB_BACKUP_RESTORE_REQUEST_SECONDS": "0.001"}
    )
    taken = (await _call(own, "CreateBackupSet", backup_pb2.CreateBackupSetRequest())).set
    suffix = unique_code("lapsed").lower()
    ask = backup_pb2.RequestRestoreRequest(set_id=taken.id, target_suffix=suffix, reason="Kiểm tra")
    lapsing = (await _call(own, "RequestRestore", ask)).restore
    with pytest.raises(grpc.aio.AioRpcError) as lapsed:
        await _call(own, "ConfirmRestore", backup_pb2.ConfirmRestoreRequest(restore_id=lapsing.id), second=True)
    assert lapsed.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "Hết hạn" in (lapsed.value.details() or "")
    assert not await _exists(system, f"ledger_{suffix}")

    await own.start({"k1": _key()}, "k1", _stores(system, ledger=ledger))
    taken = (await _call(own, "CreateBackupSet", backup_pb2.CreateBackupSetRequest())).set
    ask = backup_pb2.RequestRestoreRequest(set_id=taken.id, target_suffix=suffix, reason="Kiểm tra")
    cancelled = (await _call(own, "RequestRestore", ask)).restore
    assert (
        await _call(own, "CancelRestore", backup_pb2.CancelRestoreRequest(restore_id=cancelled.id))
    ).restore.status == "cancelled"
    with pytest.raises(grpc.aio.AioRpcError) as after_cancel:
        await _call(own, "ConfirmRestore", backup_pb2.ConfirmRestoreRequest(restore_id=cancelled.id), second=True)
    assert after_cancel.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert not await _exists(system, f"ledger_{suffix}")

    for request, field, code in (
        (
            backup_pb2.RequestRestoreRequest(set_id=taken.id, target_suffix="Bad-Name", reason="x"),
            "target_suffix",
            "INVALID_ARGUMENT",
        ),
        (
            backup_pb2.RequestRestoreRequest(set_id=taken.id, target_suffix="ok", reason="  "),
            "reason",
            "INVALID_ARGUMENT",
        ),
        (
            backup_pb2.RequestRestoreRequest(set_id=taken.id, stores=["personnel"], target_suffix="ok", reason="x"),
            "stores",
            "INVALID_ARGUMENT",
        ),
        (
            backup_pb2.RequestRestoreRequest(set_id=str(uuid.uuid4()), target_suffix="ok", reason="x"),
            "set_id",
            "NOT_FOUND",
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _call(own, "RequestRestore", request)
        assert refused.value.code().name == code, (field, refused.value.details())
        assert field in (refused.value.details() or ""), (field, refused.value.details())
    assert await _rows(system, ledger) == ["row"]


async def test_the_backup_services_own_catalogue_restores_but_is_not_switched_online(
    system: System, own: OwnBackup
) -> None:
    await own.start({"k1": _key()}, "k1", _stores(system, backup=own.catalog))
    taken = (await _call(own, "CreateBackupSet", backup_pb2.CreateBackupSetRequest())).set
    suffix = unique_code("catalog").lower()
    ask = backup_pb2.RequestRestoreRequest(set_id=taken.id, target_suffix=suffix, reason="Kiểm tra danh mục")
    requested = (await _call(own, "RequestRestore", ask)).restore
    confirm = backup_pb2.ConfirmRestoreRequest(restore_id=requested.id)
    assert (await _call(own, "ConfirmRestore", confirm, second=True)).restore.status == "verified"
    switch = backup_pb2.SwitchRestoreRequest(restore_id=requested.id, replace_live=True)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _call(own, "SwitchRestore", switch)
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "danh mục của chính dịch vụ sao lưu" in (refused.value.details() or "")
    assert await _exists(system, own.catalog)
    assert await _exists(system, f"backup_{suffix}")


async def _drills(own: OwnBackup) -> list[backup_pb2.Drill]:
    return list((await _call(own, "ListDrills", backup_pb2.ListDrillsRequest())).drills)


async def test_scheduled_drills_restore_the_newest_set_verify_it_and_report_a_damaged_part(
    system: System, own: OwnBackup, ledger: str
) -> None:
    keys, stores = {"k1": _key()}, _stores(system, ledger=ledger)
    await _write(system, ledger, "row")
    await own.start(keys, "k1", stores)
    ops = f"http://127.0.0.1:{own.ops_port}"
    without_set = (await _call(own, "RunDrill", backup_pb2.RunDrillRequest())).drill
    assert (without_set.status, without_set.failure) == ("failed", NO_GOOD_SET)
    assert await metric_at(ops, "qlcb_backup_last_drill_passed", {"store": "ledger"}) == 0
    taken = (await _call(own, "CreateBackupSet", backup_pb2.CreateBackupSetRequest())).set
    start = await _last_sequence(system)

    # A drill every 2 seconds (a sixth cron field is seconds).
    await own.start(keys, "k1", {**stores, "QLCB_BACKUP_DRILL_SCHEDULE": "* * * * * */2"})

    async def of_the_set() -> list[backup_pb2.Drill]:
        return [drill for drill in await _drills(own) if drill.set_id == taken.id]

    drills = await eventually(
        of_the_set, lambda found: any(d.status == "passed" for d in found), timeout=90, what="a drill to pass"
    )
    passed = next(d for d in drills if d.status == "passed")
    assert passed.started_by == DRILL_SCHEDULER
    assert [(p.store, p.verified, p.content_digest) for p in passed.parts] == [
        ("ledger", True, taken.parts[0].content_digest)
    ]

    async def metric() -> float:
        return await metric_at(ops, "qlcb_backup_last_drill_passed", {"store": "ledger"})

    await eventually(metric, lambda value: value == 1, timeout=30, what="the drill's result exported")
    assert await metric_at(ops, "qlcb_backup_last_drill_timestamp_seconds", {"store": "ledger"}) > 0

    part = own.backups / SETS_DIR / taken.id / "ledger.part"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01
    part.write_bytes(bytes(data))
    drills = await eventually(
        of_the_set, lambda found: found[0].status == "failed", timeout=90, what="a drill of the damaged set"
    )
    assert "ledger.part: SHA-256 không khớp với bản kê đã ký" in drills[0].failure
    await eventually(metric, lambda value: value == 0, timeout=30, what="the failed drill exported")
    own.stop()
    targets = {p.target for d in await _drills_listed(system, own, keys, stores) for p in d.parts}
    assert targets
    assert not [t for t in targets if await _exists(system, t)], "every scratch copy is dropped"

    ended = [e for e in await _backup_events(system, start) if e[0].startswith("qlcb.backup.drill.")]
    assert {subjects.BACKUP_DRILL_PASSED, subjects.BACKUP_DRILL_FAILED} <= {subject for subject, _, _ in ended}
    assert {actor for _, actor, _ in ended} == {DRILL_SCHEDULER}
    assert all(isinstance(payload, backup_events.DrillFinished) for _, _, payload in ended)


async def _drills_listed(
    system: System, own: OwnBackup, keys: dict[str, str], stores: dict[str, str]
) -> list[backup_pb2.Drill]:
    """The drills, read from a restart without a drill schedule (none runs while they are read)."""
    await own.start(keys, "k1", stores)
    return await _drills(own)


async def test_retention_prunes_on_schedule_but_never_the_newest_set_nor_one_a_restore_reads(
    system: System, own: OwnBackup, ledger: str
) -> None:
    keys = {"k1": _key()}
    keep_newest_only = {
        **_stores(system, ledger=ledger),
        "QLCB_BACKUP_KEEP_DAILY": "0",
        "QLCB_BACKUP_KEEP_WEEKLY": "0",
        "QLCB_BACKUP_KEEP_MONTHLY": "0",
    }
    await _write(system, ledger, "row")
    await own.start(keys, "k1", keep_newest_only)
    first = (await _call(own, "CreateBackupSet", backup_pb2.CreateBackupSetRequest())).set
    ask = backup_pb2.RequestRestoreRequest(
        set_id=first.id, target_suffix=unique_code("held").lower(), reason="Kiểm tra"
    )
    requested = (await _call(own, "RequestRestore", ask)).restore
    arm(own.faults, RESTORE_LEASED)
    confirming = asyncio.create_task(
        _call(own, "ConfirmRestore", backup_pb2.ConfirmRestoreRequest(restore_id=requested.id), second=True)
    )

    async def lease() -> dict[str, Any] | None:
        return held(own.faults, RESTORE_LEASED)

    holding = await eventually(lease, lambda detail: detail is not None, timeout=60, what="the restore's lease")
    assert holding is not None
    assert holding["set_id"] == first.id
    second = (await _call(own, "CreateBackupSet", backup_pb2.CreateBackupSetRequest())).set
    pruned = (await _call(own, "PruneBackupSets", backup_pb2.PruneBackupSetsRequest())).pruned
    assert list(pruned) == [], "the set a restore reads and the newest set stay"
    release(own.faults, RESTORE_LEASED)
    restored = (await confirming).restore
    assert restored.status == "verified"
    pruned = (await _call(own, "PruneBackupSets", backup_pb2.PruneBackupSetsRequest())).pruned
    assert [s.id for s in pruned] == [first.id]
    assert not (own.backups / SETS_DIR / first.id).exists()

    # Every 2 seconds a set, and pruning after it: the newest good set is always the one kept.
    await own.start(keys, "k1", {**keep_newest_only, "QLCB_BACKUP_SCHEDULE": "* * * * * */2"})

    async def sets() -> list[backup_pb2.BackupSet]:
        return list((await _call(own, "ListBackupSets", backup_pb2.ListBackupSetsRequest())).sets)

    await eventually(
        sets,
        lambda found: sum(s.status == "pruned" for s in found) >= 3,
        timeout=90,
        what="scheduled sets pruned after one another",
    )
    # Read from a restart without the schedule: a set made or pruned between the listing and the look
    # at the disk would make the two disagree.
    await own.start(keys, "k1", keep_newest_only)
    listed = await sets()
    good = [s for s in listed if s.status == "good"]
    assert len(good) == 1
    finished = [s for s in listed if s.status in ("good", "pruned")]
    assert good[0].id == max(finished, key=lambda s: s.created_at.ToDatetime()).id
    assert {s.id: s.status for s in listed}[second.id] == "pruned"
    assert all(
        (own.backups / SETS_DIR / s.id).exists() == (s.status == "good") for s in listed if s.status != "running"
    )
