"""Channels to a gRPC service that runs as one replica or several (ADR 0012).

A target names every replica: `dns:///personnel-headless:8101` (one address per pod of a headless
Service), `ipv4:127.0.0.1:8101,127.0.0.1:8111` (local processes), or plain `host:port` for one.
The channel spreads calls round-robin over the replicas whose gRPC health (`grpc.health.v1`,
watched on a stream) says SERVING, so a replica that is starting, or leaving (it turns NOT_SERVING
first, `qlcb_common.grpc_runtime`), gets no new calls.

What is retried on another replica:
- any call the server never started: gRPC retries it transparently (the replica refused the stream,
  or closed the connection with GOAWAY before reading it), so nothing is done twice;
- a read, a method whose proto says `idempotency_level = NO_SIDE_EFFECTS`, answered UNAVAILABLE
  (its replica died under it): asking again changes nothing;
- never a write answered UNAVAILABLE: the replica may have committed it before it died, so the
  caller hears 503 and decides (the writes' natural keys make asking again safe: a second
  CreatePerson with the same personal id is ALREADY_EXISTS, not a second person).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.descriptor_pb2 import MethodOptions

READ_ATTEMPTS: Final = 3
"""A read is asked at most this many times in all (one replica dying, then another)."""

CHANNEL_OPTIONS: Final = (
    ("grpc.enable_retries", 1),
    # A replica that restarts is connected to again within two seconds of listening (gRPC's default
    # backoff grows to two minutes, so one down for a while would stay unused long after it is back).
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
    # A dns:/// target is resolved again at most this often when a replica goes away, so that the
    # replicas of a rolling update are found soon after they start (the default waits 30 s).
    ("grpc.dns_min_time_between_resolutions_ms", 2000),
)


def reads(services: Iterable[ServiceDescriptor]) -> list[dict[str, str]]:
    """The methods the protos mark as reads, as service-config names."""
    return [
        {"service": service.full_name, "method": method.name}
        for service in services
        for method in service.methods
        if method.GetOptions().idempotency_level == MethodOptions.NO_SIDE_EFFECTS
    ]


def service_config(services: Iterable[ServiceDescriptor]) -> dict[str, Any]:
    """Round-robin over the replicas gRPC health reports SERVING; reads retried on UNAVAILABLE and
    CANCELLED."""
    config: dict[str, Any] = {
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": ""},
    }
    if names := reads(services):
        config["methodConfig"] = [
            {
                "name": names,
                "retryPolicy": {
                    "maxAttempts": READ_ATTEMPTS,
                    "initialBackoff": "0.05s",
                    "maxBackoff": "0.5s",
                    "backoffMultiplier": 2,
                    # CANCELLED: by a replica stopped without its grace, with the call in hand (the
                    # channel's own cancelling ends the call instead of retrying it).
                    "retryableStatusCodes": ["UNAVAILABLE", "CANCELLED"],
                },
            }
        ]
    return config


def balanced_channel(
    target: str, services: Iterable[ServiceDescriptor], credentials: grpc.ChannelCredentials | None = None
) -> grpc.aio.Channel:
    """A channel to every replica `target` names, for the stubs of `services`."""
    options = [("grpc.service_config", json.dumps(service_config(services))), *CHANNEL_OPTIONS]
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=options)
    return grpc.aio.secure_channel(target, credentials, options=options)
