"""The Keycloak realm as a store (ADR 0025): its users with their credentials (password hashes),
groups, roles and clients, exported by Keycloak's own export code through the `realm-backup`
extension (`deploy/keycloak/extensions/realm-backup`), and restored by Keycloak's own import as a
new realm of the same server, with new internal ids, under the name the caller gives.

Backup calls the extension as its own confidential client of the realm (`qlcb-backup`), whose
service account alone holds the role the extension asks for. The export holds password hashes and
client secrets: it goes from the response to the dump file and nowhere else, and neither it, the
client secret nor a token is ever logged."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from qlcb_backup.stores.base import StoreVersions
from qlcb_backup.stores.realm_digest import ALGORITHM as REALM_DIGEST
from qlcb_backup.stores.realm_digest import realm_digest
from qlcb_common.errors import AlreadyExists, FailedPrecondition, NotFound, ServiceError, Unavailable

EXTENSION = "qlcb-realm-backup"
"""The extension's path under a realm, `/realms/<realm>/qlcb-realm-backup/…`."""


class KeycloakStore:
    switches_online = True
    """A restored realm's accounts have new ids: the switch publishes `restore.switched`, on which
    identity relinks its accounts by username (ADR 0029)."""

    def __init__(
        self, *, url: str, realm: str, client_id: str, client_secret: SecretStr, timeout_seconds: float
    ) -> None:
        self._url = url.rstrip("/")
        self._realm = realm
        self._client_id = client_id
        self._client_secret = client_secret
        self._timeout = timeout_seconds

    async def dump(self, destination: Path) -> str:
        async with self._session() as client:
            exported = await self._call(client, "GET", f"realms/{quote(self._realm)}")
        await asyncio.to_thread(destination.write_bytes, exported.content)
        return realm_digest(_realm_of(exported))

    async def versions(self) -> StoreVersions:
        async with self._session() as client:
            version = str((await self._call(client, "GET", "version")).json()["keycloak"])
        return StoreVersions(
            tool=f"Keycloak {version} realm export (ExportUtils, extension {EXTENSION})",
            schema=f"revision:none keycloak:{version}",
            digest_algorithm=REALM_DIGEST,
        )

    async def target_exists(self, name: str) -> bool:
        """Whether the server has a realm `name` (its public endpoint, which needs no token)."""
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            try:
                answer = await client.get(f"{self._url}/realms/{quote(name)}")
            except httpx.TransportError as error:
                raise self._unreachable(error) from error
        if answer.status_code == 404:
            return False
        if answer.status_code != 200:
            raise FailedPrecondition(f"Keycloak trả lời HTTP {answer.status_code} khi hỏi realm {name}")
        return True

    async def restore(self, source: Path, name: str) -> str:
        """Imports the export as the new realm `name` and digests that realm exported again; removes
        it if anything fails after it was created."""
        body = await asyncio.to_thread(source.read_bytes)
        async with self._session() as client:
            await self._call(
                client,
                "PUT",
                f"realms/{quote(name)}",
                content=body,
                headers={"Content-Type": "application/json"},
                exists=("target_database", name),
            )
            try:
                return realm_digest(_realm_of(await self._call(client, "GET", f"realms/{quote(name)}")))
            except BaseException:
                await self._call(client, "DELETE", f"realms/{quote(name)}")
                raise

    async def discard(self, name: str) -> None:
        """Removes a realm this store imported (the extension refuses any other)."""
        if name == self._realm:
            raise FailedPrecondition(f"{name} là realm đang chạy, không xóa")
        if not await self.target_exists(name):
            return
        async with self._session() as client:
            await self._call(client, "DELETE", f"realms/{quote(name)}")

    async def switch(self, restored: str, *, keep_as: str) -> None:
        """Makes the verified copy `restored` the live realm; the live one is renamed `keep_as`, never
        removed. Both renames happen in one transaction of Keycloak's."""
        async with self._session() as client:
            await self._call(
                client, "POST", "switch", params={"restored": restored, "keep_as": keep_as}, exists=("keep_as", keep_as)
            )

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[httpx.AsyncClient]:
        """An HTTP client carrying a fresh token of backup's client, for one operation."""
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            client.headers["Authorization"] = f"Bearer {await self._token(client)}"
            yield client

    async def _token(self, client: httpx.AsyncClient) -> str:
        """An access token of backup's client (client credentials grant)."""
        try:
            answer = await client.post(
                f"{self._url}/realms/{quote(self._realm)}/protocol/openid-connect/token",
                data={"grant_type": "client_credentials"},
                auth=(self._client_id, self._client_secret.get_secret_value()),
            )
        except httpx.TransportError as error:
            raise self._unreachable(error) from error
        if answer.status_code != 200:
            raise FailedPrecondition(
                f"Keycloak không cấp token cho client {self._client_id} của realm {self._realm} "
                f"(HTTP {answer.status_code}: {_reason(answer)}): kiểm tra khóa bí mật của client"
            )
        access: str = answer.json()["access_token"]
        return access

    async def _call(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        *,
        exists: tuple[str, str] | None = None,
        **request: Any,
    ) -> httpx.Response:
        """A call to the extension; `exists` names the field and realm a 409 is about."""
        url = f"{self._url}/realms/{quote(self._realm)}/{EXTENSION}/{path}"
        try:
            answer = await client.request(method, url, **request)
        except httpx.TransportError as error:
            raise self._unreachable(error) from error
        if answer.is_success:
            return answer
        raise self._refusal(answer, exists)

    def _refusal(self, answer: httpx.Response, exists: tuple[str, str] | None) -> ServiceError:
        reason = _reason(answer)
        if answer.status_code == 409 and exists is not None:
            field, name = exists
            return AlreadyExists(f"{field}: realm {name} đã tồn tại trong Keycloak")
        if answer.status_code == 404 and reason.startswith("no realm"):
            return NotFound(
                f"Keycloak: không có realm này, hoặc realm không do bản sao lưu của {self._realm} tạo ra ({reason})"
            )
        if answer.status_code in (401, 403):
            return FailedPrecondition(
                f"Phần mở rộng {EXTENSION} của Keycloak từ chối tài khoản sao lưu {self._client_id} "
                f"(HTTP {answer.status_code}): tài khoản dịch vụ của client phải giữ vai trò realm-backup"
            )
        if answer.status_code in (404, 405):
            return FailedPrecondition(f"Keycloak chưa cài phần mở rộng {EXTENSION} (HTTP {answer.status_code})")
        return FailedPrecondition(f"Keycloak trả lời HTTP {answer.status_code}: {reason}")

    def _unreachable(self, error: httpx.TransportError) -> Unavailable:
        return Unavailable(f"Không kết nối được Keycloak tại {self._url}: {type(error).__name__}")


def _realm_of(answer: httpx.Response) -> dict[str, Any]:
    realm: dict[str, Any] = json.loads(answer.content)
    return realm


def _reason(answer: httpx.Response) -> str:
    """The short reason Keycloak or the extension gives (never a body that could hold a secret)."""
    try:
        body = answer.json()
    except ValueError:
        return answer.reason_phrase
    if isinstance(body, dict):
        return str(body.get("error_description") or body.get("error") or answer.reason_phrase)[:200]
    return answer.reason_phrase
