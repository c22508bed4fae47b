from __future__ import annotations

import pytest
from jwt_keys import FakeKeycloak


@pytest.fixture
def keycloak() -> FakeKeycloak:
    return FakeKeycloak()
