"""The TCP ports of the local stack.

`make up` uses fixed ones, so the addresses it prints stay the same run after run; each can be
moved with its variable, `QLCB_UP_<NAME>_PORT`, and all are checked before anything starts. The
tests take free ports instead (`StackPorts.free()`), so a test run never collides with `make up`.
"""

from __future__ import annotations

import socket
from typing import Annotated

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from qlcb_devstack.procs import free_ports

ENV_PREFIX = "QLCB_UP_"
HOST = "127.0.0.1"

Port = Annotated[int, Field(ge=1, le=65535)]


class StackPorts(BaseSettings):
    """One port per listener; each field's description says what wants it. The defaults lie below
    the kernel's range of ephemeral ports (32768 and up); the tests' free ports lie above it."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    keycloak_port: Port = Field(default=8080, description="Keycloak (login pages, tokens, admin console)")
    keycloak_management_port: Port = Field(default=9000, description="Keycloak's health endpoint")
    nats_port: Port = Field(default=4222, description="NATS (the event bus)")
    nats_monitoring_port: Port = Field(default=8222, description="NATS monitoring (its health endpoint)")
    gateway_port: Port = Field(default=8000, description="the gateway (REST API)")
    identity_port: Port = Field(default=8081, description="identity (accounts API)")
    personnel_grpc_port: Port = Field(default=8101, description="personnel's gRPC API")
    personnel_ops_port: Port = Field(default=9101, description="personnel's metrics and health")
    reports_grpc_port: Port = Field(default=8102, description="reports' gRPC API")
    reports_ops_port: Port = Field(default=9102, description="reports' metrics and health")
    backup_grpc_port: Port = Field(default=8103, description="backup's gRPC API")
    backup_ops_port: Port = Field(default=9103, description="backup's metrics and health")
    smtp_port: Port = Field(default=2525, description="the local mail server (first-login codes for holders)")

    @model_validator(mode="after")
    def _one_listener_per_port(self) -> StackPorts:
        seen: dict[int, str] = {}
        for name, port in self.model_dump().items():
            if port in seen:
                raise ValueError(f"{variable(seen[port])} and {variable(name)} are both {port}")
            seen[port] = name
        return self

    @classmethod
    def free(cls) -> StackPorts:
        """Ports that were free a moment ago, for a stack that must not collide with any other."""
        return cls(**dict(zip(cls.model_fields, free_ports(len(cls.model_fields)), strict=True)))

    def ops(self, service: str) -> int:
        """A service's HTTP port: its API for identity and the gateway, metrics and health for the others."""
        own = f"{service}_port"
        port: int = getattr(self, own if own in type(self).model_fields else f"{service}_ops_port")
        return port

    def grpc(self, service: str) -> int:
        port: int = getattr(self, f"{service}_grpc_port")
        return port

    def taken(self) -> list[str]:
        """One line per port something else holds: the port, what wanted it and the variable that moves it."""
        problems = []
        for name, port in self.model_dump().items():
            reason = _unavailable(port)
            if reason is not None:
                wanted_by = type(self).model_fields[name].description
                problems.append(
                    f"port {port} on {HOST} is {reason}; {wanted_by} wants it. "
                    f"Free it, or choose another: {variable(name)}=<port> make up"
                )
        return problems


def variable(field: str) -> str:
    """The environment variable that sets a port, e.g. QLCB_UP_KEYCLOAK_PORT."""
    return f"{ENV_PREFIX}{field.upper()}"


def _unavailable(port: int) -> str | None:
    """Why a server could not listen on the port now, or None if it could."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers do: a connection of an earlier run in TIME_WAIT does not hold the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except PermissionError:
            return "not open to this user"
        except OSError:
            return "taken"
    return None
