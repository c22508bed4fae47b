"""Session fixtures: real Keycloak, NATS JetStream and PostgreSQL, and the five services,
all started here and torn down at the end of the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qlcb_devstack.nats import NatsServer
from qlcb_devstack.ports import StackPorts
from qlcb_devstack.seed import seed_accounts, seed_organisation
from qlcb_devstack.stack import Infra, ServiceStack, start_infra
from tests.support import System


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    started = start_infra(tmp_path_factory.mktemp("infra"), StackPorts.free(), with_postgres=True)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def system(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    services = ServiceStack(infra, tmp_path_factory.mktemp("services"))
    try:
        services.start_all()
        passwords = seed_accounts(infra.keycloak_admin())
        unit_ids = seed_organisation(services.gateway_url, infra.keycloak.base_url, persons=12)
        yield System(infra=infra, services=services, unit_ids=unit_ids, passwords=passwords)
    finally:
        services.stop_all()


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A NATS server of the test's own, for what would disturb the suite's (its streams deleted)."""
    server = NatsServer(tmp_path / "own-nats")
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
