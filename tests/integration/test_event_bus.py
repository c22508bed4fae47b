"""Events carry authorization state, so the bus is guarded (R-OPS-3): NATS refuses a connection
without a service's credentials and a publication outside the publisher's own subjects, and a
consumer applies only what the producer's own API would have accepted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import nats
import pytest
from nats.aio.client import Client
from nats.errors import NoServersError
from nats.js.errors import NoStreamResponseError

from qlcb.identity.v1 import events_pb2 as identity_events
from qlcb.personnel.v1 import events_pb2 as personnel_events
from qlcb.personnel.v1 import personnel_pb2
from qlcb_common.events import streams, subjects
from qlcb_common.events.envelope import wrap
from tests.support import System, eventually, metric_value, person_body


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
    assert await _last_sequence(system, streams.PERSONNEL) == before, "the stream never stored the forgery"


async def test_a_malformed_event_from_the_producer_is_rejected_and_changes_nothing(system: System) -> None:
    """Identity may publish delegations, but not one its API would refuse: scope 'sector' for an
    HQ unit, for the self tier. Personnel and reports reject it; the unit keeps working."""
    async with httpx.AsyncClient(
        base_url=system.gateway_url, headers={"Authorization": f"Bearer {system.token('quantri')}"}, timeout=30
    ) as admin:
        outside = (await admin.post("/v1/persons", json=person_body(system.unit_ids["HQHCM-TSN"], "Vi Văn Giả"))).json()
    labels = {"consumer": "personnel-delegations", "outcome": "rejected"}
    rejected_before = await metric_value(system, "personnel", "qlcb_events_consumed_total", labels)
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
        lambda: metric_value(system, "personnel", "qlcb_events_consumed_total", labels),
        lambda n: n >= rejected_before + 1,
        timeout=30,
        what="personnel to reject the malformed delegation",
    )
    async with httpx.AsyncClient(
        base_url=system.gateway_url, headers={"Authorization": f"Bearer {system.token('cucdtcbl')}"}, timeout=30
    ) as hq_unit:
        assert (await hq_unit.get(f"/v1/persons/{outside['id']}")).status_code == 404, "nothing was granted"
        own = await hq_unit.get(f"/v1/units/{system.unit_ids['CDTCBL']}/persons")
        assert own.status_code == 200, "the unit's requests keep working"
