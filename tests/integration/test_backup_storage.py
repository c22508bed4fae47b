"""Backup sets kept in S3-compatible object storage (issue 12, points 3 and 8): a real S3 server
(moto in server mode, a process of its own) that this module starts; large parts uploaded in parts;
restores downloaded and verified; an object changed or removed in the bucket refused naming it; an
endpoint that answers errors, or is down, retried a bounded number of times and then reported, the
set failed and nothing marked good, and the next set good once the endpoint is back.

The endpoint's faults come from a small TCP proxy of the test's own between the backup process and
moto: it passes bytes through, or answers every request `503 Slow Down`, or stops listening."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import boto3
import grpc
import httpx
import pytest

from qlcb.backup.v1 import backup_pb2
from qlcb_devstack.procs import ManagedProcess, free_port
from tests.integration.test_backup_sets import OwnBackup, _digest, _exists, _key, _restore_own, _sets, _take_own
from tests.support import System, eventually, unique_code

BUCKET = "qlcb-sao-luu"
PREFIX = "qlcb/"
MIB = 1 << 20
ACCESS = {"QLCB_BACKUP_S3_ACCESS_KEY_ID": "testing", "QLCB_BACKUP_S3_SECRET_ACCESS_KEY": "testing"}
_SLOW_DOWN = (
    b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
)
_SLOW_DOWN_BODY = (
    b"<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
)


@dataclass
class MotoServer:
    run_dir: Path
    port: int = field(default_factory=free_port)
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    async def start(self) -> None:
        self.process = ManagedProcess(
            "moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)], log_dir=self.run_dir
        )
        self.process.start()
        async with httpx.AsyncClient(timeout=2) as http:

            async def up() -> bool:
                assert self.process is not None
                assert self.process.is_running, self.process.tail()
                try:
                    return (await http.get(self.url + "/moto-api/")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(up, bool, timeout=60, what="the S3 server (moto) to answer")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


class FaultyEndpoint:
    """A TCP proxy in front of the S3 server: `pass`, `fail` (503 to every request) or `down`."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.mode = "pass"
        self.refused: list[str] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def go_down(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.mode == "fail":
                head = b""
                with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    head = await reader.readuntil(b"\r\n\r\n")
                self.refused.append(head.split(b"\r\n", 1)[0].decode(errors="replace"))
                writer.write(_SLOW_DOWN % (len(_SLOW_DOWN_BODY), _SLOW_DOWN_BODY))
                await writer.drain()
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            try:
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
            finally:
                up_writer.close()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(1 << 16):
            sink.write(data)
            await sink.drain()
        with contextlib.suppress(OSError):
            sink.write_eof()


@pytest.fixture
def moto(tmp_path: Path) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path / "moto")
    server.run_dir.mkdir()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_s3_backup(system: System, tmp_path: Path) -> Iterator[OwnBackup]:
    assert system.infra.postgres is not None
    catalog = f"backup_s3_{uuid.uuid4().hex[:8]}"
    system.infra.postgres.create_database(catalog)
    own = OwnBackup(system, tmp_path / "own", catalog)
    own.run_dir.mkdir()
    try:
        yield own
    finally:
        own.stop()


@pytest.fixture
async def blob_store(system: System) -> str:
    """A store of ~7 MiB of random bytes, so that its sealed part (which zstd cannot shrink below its
    entropy) is larger than one 5 MiB upload part."""
    assert system.infra.postgres is not None
    name = f"blob_{uuid.uuid4().hex[:8]}"
    system.infra.postgres.create_database(name)
    conn = await asyncpg.connect(system.postgres_dsn(name))
    try:
        await conn.execute("CREATE TABLE blob (id int PRIMARY KEY, data bytea NOT NULL)")
        await conn.executemany("INSERT INTO blob VALUES ($1, $2)", [(i, os.urandom(MIB)) for i in range(7)])
    finally:
        await conn.close()
    return name


def _s3_env(system: System, endpoint: str, **stores: str) -> dict[str, str]:
    server = system.services.database_urls["personnel"].rsplit("/", 1)[0]
    return {
        "QLCB_BACKUP_STORAGE": "s3",
        "QLCB_BACKUP_S3_BUCKET": BUCKET,
        "QLCB_BACKUP_S3_PREFIX": PREFIX,
        "QLCB_BACKUP_S3_ENDPOINT_URL": endpoint,
        "QLCB_BACKUP_S3_ADDRESSING_STYLE": "path",
        "QLCB_BACKUP_S3_MULTIPART_THRESHOLD_BYTES": str(5 * MIB),
        "QLCB_BACKUP_S3_MULTIPART_CHUNK_BYTES": str(5 * MIB),
        "QLCB_BACKUP_S3_MAX_ATTEMPTS": "3",
        "QLCB_BACKUP_S3_CONNECT_TIMEOUT_SECONDS": "2",
        "QLCB_BACKUP_S3_READ_TIMEOUT_SECONDS": "10",
        "QLCB_BACKUP_STORES": json.dumps(
            {"personnel": system.services.database_urls["personnel"]}
            | {name: f"{server}/{database}" for name, database in stores.items()}
        ),
        **ACCESS,
    }


def _objects(s3: Any, set_id: str) -> dict[str, dict[str, Any]]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}sets/{set_id}/")
    return {entry["Key"].rsplit("/", 1)[1]: entry for entry in listed.get("Contents", [])}


async def test_a_set_is_uploaded_in_parts_restores_verified_from_the_bucket_and_a_changed_or_removed_object_is_refused(
    system: System, moto: MotoServer, own_s3_backup: OwnBackup, blob_store: str
) -> None:
    await moto.start()
    s3 = moto.client()
    s3.create_bucket(Bucket=BUCKET)
    await own_s3_backup.start({"k1": _key()}, "k1", _s3_env(system, moto.url, blob=blob_store))

    taken = await _take_own(own_s3_backup)
    assert taken.status == "good", taken.failure
    parts = {part.store: part for part in taken.parts}
    assert sorted(parts) == ["blob", "personnel"]
    objects = _objects(s3, taken.id)
    assert sorted(objects) == ["blob.part", "manifest.json", "personnel.part"]
    assert {store: objects[f"{store}.part"]["Size"] for store in parts} == {s: p.size_bytes for s, p in parts.items()}
    # The blob's part (over 5 MiB) went up in two parts; the small one in one request.
    assert objects["blob.part"]["ETag"].strip('"').endswith("-2")
    assert "-" not in objects["personnel.part"]["ETag"]
    assert not (own_s3_backup.backups / "sets" / taken.id).exists(), "the local copy goes once uploaded"

    for store, part in parts.items():
        restored = await _restore_own(own_s3_backup, part, unique_code(f"s3_{store}").lower())
        assert restored.verified, store
        assert restored.content_digest == part.content_digest

    key = f"{PREFIX}sets/{taken.id}/personnel.part"
    s3.put_object(Bucket=BUCKET, Key=key, Body=s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()[:-64])
    s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}sets/{taken.id}/blob.part")
    live = await _digest(system, "personnel")
    for store, naming in (
        ("personnel", f"sets/{taken.id}/personnel.part: SHA-256 không khớp với bản kê đã ký (bị cắt ngắn"),
        (
            "blob",
            f"sets/{taken.id}/blob.part: không còn trong kho S3 (s3://{BUCKET}/{PREFIX}sets/{taken.id}/blob.part)",
        ),
    ):
        suffix = unique_code(f"s3_refused_{store}").lower()
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _restore_own(own_s3_backup, parts[store], suffix)
        assert refused.value.code() is grpc.StatusCode.DATA_LOSS, store
        assert naming in (refused.value.details() or ""), refused.value.details()
        assert not await _exists(system, f"{store}_{suffix}")
    assert await _digest(system, "personnel") == live


async def test_an_s3_endpoint_that_answers_errors_or_is_down_is_retried_then_reported_and_the_next_set_succeeds(
    system: System, moto: MotoServer, own_s3_backup: OwnBackup
) -> None:
    await moto.start()
    s3 = moto.client()
    s3.create_bucket(Bucket=BUCKET)
    endpoint = FaultyEndpoint(moto.port)
    await endpoint.listen()
    await own_s3_backup.start({"k1": _key()}, "k1", _s3_env(system, endpoint.url))

    endpoint.mode = "fail"
    with pytest.raises(grpc.aio.AioRpcError) as failing:
        await _take_own(own_s3_backup)
    assert failing.value.code() is grpc.StatusCode.UNAVAILABLE
    assert f"bucket '{BUCKET}' không trả lời được sau 3 lần thử" in (failing.value.details() or "")
    assert "SlowDown" in (failing.value.details() or "")
    # Every request was tried three times and no more (the part's upload, then the clean-up's).
    attempts = Counter(endpoint.refused)
    assert set(attempts.values()) == {3}, endpoint.refused
    assert any(line.startswith(("PUT ", "POST ")) and ".part" in line for line in attempts), endpoint.refused

    await endpoint.go_down()
    with pytest.raises(grpc.aio.AioRpcError) as down:
        await _take_own(own_s3_backup)
    assert down.value.code() is grpc.StatusCode.UNAVAILABLE
    assert f"kho S3 {endpoint.url}, bucket '{BUCKET}' không trả lời được sau 3 lần thử" in (down.value.details() or "")

    sets = await _sets(own_s3_backup)
    assert [s.status for s in sets] == ["failed", "failed"]
    assert all("không trả lời được sau 3 lần thử" in s.failure and not s.parts for s in sets)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    assert not list((own_s3_backup.backups / "sets").iterdir())

    endpoint.mode = "pass"
    await endpoint.listen()
    following = await _take_own(own_s3_backup)
    assert following.status == "good"
    assert sorted(_objects(s3, following.id)) == ["manifest.json", "personnel.part"]
    restored = await _restore_own(own_s3_backup, following.parts[0], unique_code("s3_back").lower())
    assert restored.verified
    listed: list[backup_pb2.BackupSet] = await _sets(own_s3_backup)
    assert [s.status for s in listed] == ["good", "failed", "failed"]
    await endpoint.go_down()
