"""Sets in S3-compatible object storage (ADR 0023): each file of a set written and checked locally is
uploaded (in parts above a threshold, a few parts in flight at once, each part with its Content-MD5
so the server refuses a part damaged on the way), then its size and ETag read back and compared with
what was sent; only then is the next file uploaded, the manifest last. Calls are retried by botocore
with exponential backoff, a bounded number of times; what still fails is reported, naming the
endpoint and bucket."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import shutil
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import boto3
import structlog
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from qlcb_backup.protection.framing import PartRefused
from qlcb_backup.sets.manifest import MANIFEST_FILE, ManifestRefused
from qlcb_backup.sets.writing import SETS_DIR, set_folder
from qlcb_common.errors import DataLoss, FailedPrecondition, Unavailable

log = structlog.get_logger(__name__)

_MISSING: Final = frozenset({"404", "NoSuchKey", "NotFound"})
_DOWNLOAD_CHUNK: Final = 1 << 20


@dataclass(frozen=True)
class S3Target:
    bucket: str
    prefix: str
    endpoint_url: str | None
    region: str
    access_key_id: str | None
    secret_access_key: str | None
    addressing_style: str
    multipart_threshold_bytes: int
    multipart_chunk_bytes: int
    parts_in_flight: int
    max_attempts: int
    connect_timeout_seconds: float
    read_timeout_seconds: float


class S3Storage:
    def __init__(self, target: S3Target, *, backup_dir: Path) -> None:
        self._target = target
        self._backup_dir = backup_dir
        self._client: Any = None

    @property
    def _s3(self) -> Any:
        """The client, made at first use (never at import or construction)."""
        if self._client is None:
            target = self._target
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=target.endpoint_url,
                region_name=target.region,
                aws_access_key_id=target.access_key_id,
                aws_secret_access_key=target.secret_access_key,
                config=Config(
                    # botocore's max_attempts counts retries only; total_max_attempts counts every try.
                    retries={"total_max_attempts": target.max_attempts, "mode": "standard"},
                    connect_timeout=target.connect_timeout_seconds,
                    read_timeout=target.read_timeout_seconds,
                    max_pool_connections=max(10, target.parts_in_flight),
                    s3={"addressing_style": target.addressing_style},
                ),
            )
        return self._client

    def _key(self, set_id: str, name: str) -> str:
        return f"{self._target.prefix}{SETS_DIR}/{set_id}/{name}"

    def location(self, set_id: str) -> str:
        return f"s3://{self._target.bucket}/{self._target.prefix}{SETS_DIR}/{set_id}"

    def _where(self) -> str:
        return f"kho S3 {self._target.endpoint_url or 'mặc định'}, bucket {self._target.bucket!r}"

    def _refusal(self, action: str, error: Exception) -> Exception:
        """What a storage error means for the caller: a server that did not answer (even after the
        retries) is UNAVAILABLE; an answer that refuses (no such bucket, access denied) is a setting
        to fix, FAILED_PRECONDITION."""
        detail = " ".join(str(error).split())
        if isinstance(error, ClientError):
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if status < 500:
                return FailedPrecondition(f"{action}: {self._where()} từ chối: {detail}")
        attempts = self._target.max_attempts
        return Unavailable(f"{action}: {self._where()} không trả lời được sau {attempts} lần thử: {detail}")

    async def publish(self, folder: Path, set_id: str, files: Sequence[str]) -> None:
        try:
            await asyncio.to_thread(self._upload_all, folder, set_id, files)
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)

    def _upload_all(self, folder: Path, set_id: str, files: Sequence[str]) -> None:
        for name in files:
            key = self._key(set_id, name)
            try:
                self._upload(folder / name, key)
            except (BotoCoreError, ClientError) as error:
                self._remove_quietly(set_id)
                raise self._refusal(f"Tải {name} của bộ {set_id} lên", error) from error
            except DataLoss:
                self._remove_quietly(set_id)
                raise

    def _upload(self, path: Path, key: str) -> None:
        size = path.stat().st_size
        with path.open("rb") as file:
            if size >= self._target.multipart_threshold_bytes:
                etag = self._upload_in_parts(file, key)
            else:
                body = file.read()
                digest = hashlib.md5(body, usedforsecurity=False).digest()
                self._s3.put_object(
                    Bucket=self._target.bucket, Key=key, Body=body, ContentMD5=base64.b64encode(digest).decode()
                )
                etag = digest.hex()
        head = self._s3.head_object(Bucket=self._target.bucket, Key=key)
        stored_size, stored_etag = int(head["ContentLength"]), str(head["ETag"]).strip('"')
        if (stored_size, stored_etag) != (size, etag):
            raise DataLoss(
                f"Đối tượng s3://{self._target.bucket}/{key} sau khi tải lên không khớp: {stored_size} byte, "
                f"ETag {stored_etag} (đã gửi {size} byte, ETag {etag})"
            )

    def _upload_in_parts(self, file: BinaryIO, key: str) -> str:
        """A multipart upload; the ETag S3 gives it: MD5 of the parts' MD5s, then '-' and their count."""
        bucket = self._target.bucket
        upload_id = self._s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        try:
            digests: list[bytes] = []
            parts: list[dict[str, Any]] = []
            # At most `parts_in_flight` chunks are held in memory: the next is read when one is sent.
            with ThreadPoolExecutor(self._target.parts_in_flight, thread_name_prefix="s3-part") as pool:
                sending: deque[Future[dict[str, Any]]] = deque()
                while chunk := file.read(self._target.multipart_chunk_bytes):
                    digest = hashlib.md5(chunk, usedforsecurity=False).digest()
                    digests.append(digest)
                    sending.append(pool.submit(self._upload_part, key, upload_id, len(digests), chunk, digest))
                    if len(sending) >= self._target.parts_in_flight:
                        parts.append(sending.popleft().result())
                parts.extend(sent.result() for sent in sending)
            self._s3.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            try:
                self._s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except (BotoCoreError, ClientError) as error:
                log.warning("could not abort a multipart upload", key=key, error=str(error))
            raise
        combined = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
        return f"{combined}-{len(parts)}"

    def _upload_part(self, key: str, upload_id: str, number: int, chunk: bytes, digest: bytes) -> dict[str, Any]:
        answer = self._s3.upload_part(
            Bucket=self._target.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=chunk,
            ContentMD5=base64.b64encode(digest).decode(),
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    async def fetch(self, set_id: str, files: Sequence[str], work: Path) -> Path:
        folder = work / "set"
        await asyncio.to_thread(folder.mkdir, mode=0o700)
        for name in files:
            await asyncio.to_thread(self._download, set_id, name, folder / name)
        return folder

    def _download(self, set_id: str, name: str, destination: Path) -> None:
        key = self._key(set_id, name)
        try:
            answer = self._s3.get_object(Bucket=self._target.bucket, Key=key)
            with destination.open("xb") as file:
                for chunk in answer["Body"].iter_chunks(_DOWNLOAD_CHUNK):
                    file.write(chunk)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) not in _MISSING:
                raise self._refusal(f"Tải {name} của bộ {set_id} về", error) from error
            gone = f"không còn trong kho S3 (s3://{self._target.bucket}/{key})"
            if name == MANIFEST_FILE:
                raise ManifestRefused(set_id, gone) from None
            raise PartRefused(f"{SETS_DIR}/{set_id}/{name}", gone) from None
        except BotoCoreError as error:
            raise self._refusal(f"Tải {name} của bộ {set_id} về", error) from error

    async def remove(self, set_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, set_folder(self._backup_dir, set_id), ignore_errors=True)
        try:
            await asyncio.to_thread(self._delete_objects, set_id)
        except (BotoCoreError, ClientError) as error:
            raise self._refusal(f"Xóa bộ {set_id} khỏi", error) from error

    def _delete_objects(self, set_id: str) -> None:
        prefix = self._key(set_id, "")
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._target.bucket, Prefix=prefix)
        for page in pages:
            keys = [{"Key": entry["Key"]} for entry in page.get("Contents", [])]
            if keys:
                self._s3.delete_objects(Bucket=self._target.bucket, Delete={"Objects": keys, "Quiet": True})

    def _remove_quietly(self, set_id: str) -> None:
        """After a failed upload: what reached the bucket goes, if the bucket answers."""
        try:
            self._delete_objects(set_id)
        except (BotoCoreError, ClientError) as error:
            log.warning("could not remove the objects of a set that failed", set_id=set_id, error=str(error))
