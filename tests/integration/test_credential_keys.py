"""The key that seals first-login passwords (R-ACC-6) is identity's alone and can be rotated: a
code mailed before the rotation still opens once the old key is gone."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
from cryptography.fernet import Fernet

from qlcb_devstack.accounts import Account, ensure_user
from tests.support import System, claim_credential, mailed_code, unique_code

KEYS = "QLCB_IDENTITY_CREDENTIAL_KEYS"


async def _restart_identity(system: System, keys: list[str]) -> None:
    identity = system.services.processes["identity"]
    assert identity.env is not None
    system.services.stop("identity")
    identity.env[KEYS] = json.dumps(keys)
    system.services.start("identity")
    await system.services.wait_ready("identity")


def _rotate(system: System) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qlcb_identity", "credentials", "rotate"],
        env=system.services.processes["identity"].env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _reset(system: System) -> tuple[str, str]:
    """A lost password reported and reset: the holder's username and the mailed code."""
    username = unique_code("keyholder").lower()
    ensure_user(
        system.infra.keycloak_admin(),
        Account(username, "Mật khẩu cũ 2026", "local-officer", "/TCHQ/HQHN/HQHN-BHN", "Lê Văn Khoá"),
    )
    headers = {"Authorization": f"Bearer {system.token('qthanoi')}"}
    async with httpx.AsyncClient(base_url=system.services.identity_url, headers=headers, timeout=60) as admin:
        reported = await admin.post(f"/v1/accounts/{username}/incidents", json={"kind": "lost", "note": "quên"})
        assert reported.status_code == 201, reported.text
        reset = await admin.post(f"/v1/accounts/{username}/reset")
        assert reset.status_code == 201, reset.text
    return username, await mailed_code(system, f"{username}@qlcb.example")


def test_no_other_service_holds_the_credential_key(system: System) -> None:
    for name, process in system.services.processes.items():
        assert process.env is not None
        holders = [key for key in process.env if "CREDENTIAL_KEY" in key]
        assert holders == ([KEYS] if name == "identity" else []), name


async def test_a_code_mailed_before_a_key_rotation_opens_after_the_old_key_is_dropped(system: System) -> None:
    identity = system.services.processes["identity"]
    assert identity.env is not None
    (old,) = json.loads(identity.env[KEYS])
    new = Fernet.generate_key().decode()
    username, code = await _reset(system)

    await _restart_identity(system, [new, old])
    rotated = _rotate(system)
    assert rotated.returncode == 0, rotated.stderr
    assert "re-sealed" in rotated.stdout
    await _restart_identity(system, [new])

    credential = await claim_credential(system, code)
    assert credential.status_code == 200, credential.text
    assert credential.json()["username"] == username
