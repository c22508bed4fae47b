"""gRPC channels and stubs of the backends; every call forwards the caller's token and has
a deadline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
import httpx

from qlcb.backup.v1 import backup_pb2_grpc
from qlcb.personnel.v1 import personnel_pb2_grpc
from qlcb.reports.v1 import reports_pb2_grpc
from qlcb_gateway.settings import GatewaySettings


@dataclass
class Backends:
    personnel: personnel_pb2_grpc.PersonnelServiceStub
    reports: reports_pb2_grpc.ReportsServiceStub
    backup: backup_pb2_grpc.BackupServiceStub
    identity: httpx.AsyncClient
    timeout: float
    channels: tuple[grpc.aio.Channel, ...]

    @classmethod
    def connect(cls, settings: GatewaySettings) -> Backends:
        personnel = grpc.aio.insecure_channel(settings.personnel_target)
        reports = grpc.aio.insecure_channel(settings.reports_target)
        backup = grpc.aio.insecure_channel(settings.backup_target)
        return cls(
            personnel=personnel_pb2_grpc.PersonnelServiceStub(personnel),
            reports=reports_pb2_grpc.ReportsServiceStub(reports),
            backup=backup_pb2_grpc.BackupServiceStub(backup),
            identity=httpx.AsyncClient(base_url=str(settings.identity_url), timeout=settings.call_timeout_seconds),
            timeout=settings.call_timeout_seconds,
            channels=(personnel, reports, backup),
        )

    def call_options(self, token: str) -> dict[str, Any]:
        return {"metadata": (("authorization", f"Bearer {token}"),), "timeout": self.timeout}

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()
        await self.identity.aclose()
