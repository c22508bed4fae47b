"""Switching restored event streams in (issue 12, point 5; ADR 0026), on a NATS server of the
test's own, since the switch deletes live streams: `python -m qlcb_backup.stream_switch` makes the
streams a restore wrote from a set the live ones, with every message of the set under its original
subject, each durable consumer delivering next what followed its position in the set, the former
live streams kept beside them, and a stream whose storage was lost made again. It refuses while a
service still pulls, and when a restored copy is missing, touching nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from qlcb_backup.stores.jetstream import API, JetStreamStore, request, restored_name
from qlcb_backup.stream_switch import switch
from qlcb_backup.stream_switch.__main__ import main
from qlcb_backup.stream_switch.switch import switch_streams
from qlcb_common.errors import AlreadyExists, FailedPrecondition, Unavailable
from qlcb_common.events.streams import ALL_STREAMS, DUPLICATE_WINDOW_SECONDS, IDENTITY, PERSONNEL
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.procs import free_port

pytestmark = pytest.mark.integration

CONSUMER = "reports-personnel"
IN_SET, AFTER_SET, ACKED_IN_SET = 5, 2, 3


async def _ops(server: NatsServer) -> Client:
    user, password = server.credentials("ops")
    return await nats.connect(server.url, user=user, password=password)


async def _messages(nc: Client, stream: str) -> list[tuple[str, bytes, str | None]]:
    """(subject, data, Nats-Msg-Id) of every message of the stream, in order."""
    js = nc.jetstream()
    info = await js.stream_info(stream)
    found = []
    for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
        message = await js.get_msg(stream, seq)
        found.append((str(message.subject), message.data or b"", (message.headers or {}).get("Nats-Msg-Id")))
    return found


async def _publish(nc: Client, n: int) -> None:
    js = nc.jetstream()
    sent = len(await _messages(nc, PERSONNEL.name))
    for i in range(sent, sent + n):
        await js.publish(
            f"qlcb.personnel.person.created.{i}", f"sự kiện {i}".encode(), headers={"Nats-Msg-Id": f"e{i}"}
        )


async def _ack(nc: Client, n: int) -> None:
    subscription = await nc.jetstream().pull_subscribe_bind(durable=CONSUMER, stream=PERSONNEL.name)
    for message in await subscription.fetch(n, timeout=10):
        await message.ack_sync()
    await subscription.unsubscribe()


async def _serve(subscription: JetStreamContext.PullSubscription) -> None:
    """What a service's consumer does until it is stopped: fetch, then acknowledge."""
    while True:
        try:
            fetched = await subscription.fetch(1, timeout=1)
        except TimeoutError:
            continue
        for message in fetched:
            await message.ack()


async def _stream_names(nc: Client) -> set[str]:
    return {str(info.config.name) for info in await nc.jetstream().streams_info()}


async def _set_restored(
    own_nats: NatsServer, nc: Client, tmp_path: Path
) -> tuple[list[tuple[str, bytes, str | None]], list[tuple[str, bytes, str | None]]]:
    """The system's streams with events, a set of them restored as `events_t1`, then more events
    and acknowledgements; (the personnel stream's messages in the set, and live now)."""
    js = nc.jetstream()
    for stream in ALL_STREAMS:
        await js.add_stream(stream.config())
    await js.add_consumer(
        PERSONNEL.name,
        ConsumerConfig(durable_name=CONSUMER, ack_policy=AckPolicy.EXPLICIT, filter_subjects=["qlcb.personnel.>"]),
    )
    await _publish(nc, IN_SET)
    await _ack(nc, ACKED_IN_SET)
    in_set = await _messages(nc, PERSONNEL.name)

    async def connect() -> Client:
        return await _ops(own_nats)

    store = JetStreamStore(connect)
    part = tmp_path / "events.part"
    digest = await store.dump(part)
    # After the set: more events, more of them acknowledged; the switch takes the set back.
    await _publish(nc, AFTER_SET)
    await _ack(nc, AFTER_SET)
    live_before = await _messages(nc, PERSONNEL.name)
    assert await store.restore(part, "events_t1") == digest
    return in_set, live_before


async def test_restored_streams_become_the_live_ones_with_consumers_at_their_positions_and_the_old_kept(
    own_nats: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nc = await _ops(own_nats)
    try:
        js = nc.jetstream()
        in_set, live_before = await _set_restored(own_nats, nc, tmp_path)

        # Refused, touching nothing: a service still waiting for events, or still taking them; a
        # restored copy missing.
        idle = "reports-idle"
        await js.add_consumer(
            PERSONNEL.name,
            ConsumerConfig(durable_name=idle, ack_policy=AckPolicy.EXPLICIT, filter_subjects=["qlcb.personnel.none"]),
        )
        for consumer in (idle, CONSUMER):
            pulling = await js.pull_subscribe_bind(durable=consumer, stream=PERSONNEL.name)
            running = asyncio.create_task(_serve(pulling))
            try:
                with pytest.raises(FailedPrecondition, match=f"Luồng {PERSONNEL.name}: {consumer} đang nhận tin"):
                    await switch_streams(nc, restored="events_t1", keep_as="truoc_t1", quiet_seconds=2)
            finally:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
                await pulling.unsubscribe()
        with pytest.raises(FailedPrecondition, match="không có luồng nào đã khôi phục vào events_t2"):
            await switch_streams(nc, restored="events_t2", keep_as="truoc_t1", quiet_seconds=0)
        assert not {n for n in await _stream_names(nc) if n.startswith("TRUOC_T1_")}
        assert await _messages(nc, PERSONNEL.name) == live_before

        # A stream whose storage was lost: made again from the set alone.
        await js.delete_stream(IDENTITY.name)
        user, password = own_nats.credentials("ops")
        monkeypatch.setenv("QLCB_STREAM_SWITCH_NATS_URL", own_nats.url)
        monkeypatch.setenv("QLCB_STREAM_SWITCH_NATS_USER", user)
        monkeypatch.setenv("QLCB_STREAM_SWITCH_NATS_PASSWORD", password)
        command = ["--restored", "events_t1", "--keep-as", "truoc_t1", "--quiet-seconds", "1"]
        assert await asyncio.to_thread(main, command) == 0
        printed = capsys.readouterr().out
        assert (
            f"{PERSONNEL.name}: {IN_SET} tin từ bản khôi phục; luồng cũ ({IN_SET + AFTER_SET} tin) giữ ở TRUOC_T1_"
            in printed
        )
        assert f"{CONSUMER} từ sau tin {ACKED_IN_SET}" in printed
        assert f"{IDENTITY.name}: 0 tin từ bản khôi phục; không có luồng cũ" in printed

        # The live stream is the set's, under the original subjects and message ids.
        assert await _messages(nc, PERSONNEL.name) == in_set
        assert await _messages(nc, restored_name("truoc_t1", PERSONNEL.name)) == live_before
        kept_info = await js.stream_info(restored_name("truoc_t1", PERSONNEL.name))
        assert not kept_info.config.sources, "the kept copy no longer follows the live stream"
        info = await js.stream_info(PERSONNEL.name)
        assert info.config.subjects == list(PERSONNEL.subjects)
        assert info.config.duplicate_window == DUPLICATE_WINDOW_SECONDS
        assert not info.config.sources
        assert (await js.stream_info(IDENTITY.name)).config.subjects == list(IDENTITY.subjects)

        # The consumer resumes right after its position in the set; the stream takes new events.
        resumed = await js.pull_subscribe_bind(durable=CONSUMER, stream=PERSONNEL.name)
        (first,) = await resumed.fetch(1, timeout=10)
        assert (first.subject, first.data) == in_set[ACKED_IN_SET][:2]
        await resumed.unsubscribe()
        ack = await js.publish(
            "qlcb.personnel.person.created.new", "sau khi chuyển".encode(), headers={"Nats-Msg-Id": "new"}
        )
        assert (ack.stream, ack.seq) == (PERSONNEL.name, IN_SET + 1)
        # The kept name is taken now: a second switch into it is refused.
        with pytest.raises(AlreadyExists, match=f"keep_as: luồng TRUOC_T1_{PERSONNEL.name} đã tồn tại"):
            await switch_streams(nc, restored="events_t1", keep_as="truoc_t1", quiet_seconds=0)
    finally:
        await nc.close()


async def test_a_switch_failing_after_a_live_stream_was_deleted_makes_it_again_and_may_be_tried_again(
    own_nats: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault once the live stream is deleted and made again from the restored copy (here: making
    its consumers again): the live stream is made again from its kept copy, every message under its
    own subject, taking new events after them, and the kept copy is removed. A fault while the live
    stream is being copied aside leaves no part of a copy. Either way the same switch then works."""
    nc = await _ops(own_nats)
    try:
        js = nc.jetstream()
        in_set, live_before = await _set_restored(own_nats, nc, tmp_path)
        kept = restored_name("truoc_t1", PERSONNEL.name)

        async def consumers_fail(*_: object) -> None:
            raise FailedPrecondition("hỏng khi tạo lại người tiêu thụ")

        with monkeypatch.context() as faults:
            faults.setattr(switch, "_consumers_again", consumers_fail)
            with pytest.raises(FailedPrecondition, match="hỏng khi tạo lại người tiêu thụ"):
                await switch_streams(
                    nc, restored="events_t1", keep_as="truoc_t1", streams=[PERSONNEL.name], quiet_seconds=0
                )
        assert await _messages(nc, PERSONNEL.name) == live_before
        info = await js.stream_info(PERSONNEL.name)
        assert info.config.subjects == list(PERSONNEL.subjects)
        assert info.config.duplicate_window == DUPLICATE_WINDOW_SECONDS
        assert not info.config.sources
        assert kept not in await _stream_names(nc)

        fill = switch._fill

        async def copy_aside_fails(
            nc: Client, config: dict[str, Any], name: str, messages: int, timeout: float
        ) -> None:
            if name != kept:
                await fill(nc, config, name, messages, timeout)
                return
            await request(nc, f"{API}.STREAM.CREATE.{name}", config)
            raise Unavailable(f"Luồng {name}: hết giờ khi chép")

        with monkeypatch.context() as faults:
            faults.setattr(switch, "_fill", copy_aside_fails)
            with pytest.raises(Unavailable, match="hết giờ khi chép"):
                await switch_streams(
                    nc, restored="events_t1", keep_as="truoc_t1", streams=[PERSONNEL.name], quiet_seconds=0
                )
        assert kept not in await _stream_names(nc)
        assert await _messages(nc, PERSONNEL.name) == live_before
        ack = await js.publish("qlcb.personnel.person.created.new", b"sau khi hoan", headers={"Nats-Msg-Id": "new"})
        assert (ack.stream, ack.seq) == (PERSONNEL.name, IN_SET + AFTER_SET + 1)

        [switched] = await switch_streams(
            nc, restored="events_t1", keep_as="truoc_t1", streams=[PERSONNEL.name], quiet_seconds=0
        )
        assert (switched.kept_as, switched.kept_messages, switched.messages) == (kept, IN_SET + AFTER_SET + 1, IN_SET)
        assert await _messages(nc, PERSONNEL.name) == in_set
        assert not (await js.stream_info(kept)).config.sources, "the kept copy stands alone"
    finally:
        await nc.close()


def test_the_command_says_when_it_cannot_reach_nats_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"nats://127.0.0.1:{free_port()}"
    monkeypatch.setenv("QLCB_STREAM_SWITCH_NATS_URL", address)
    assert main(["--restored", "events_t1", "--keep-as", "truoc_t1", "--connect-timeout", "1"]) == 1
    assert f"Không chuyển luồng: Không kết nối được NATS {address}" in capsys.readouterr().err
