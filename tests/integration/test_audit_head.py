"""The audit chain's head published on the bus (R-AUD-1): the sealer puts it on personnel's stream a
moment after sealing, and the system admin's check (`POST /v1/audit/verify`) and the operator's
command check the chain against it, so that a chain whose end is hidden by winding the database's
own head row back, which the database alone takes for intact, is named."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from typing import Any

import asyncpg
import httpx

from tests.support import System, api_client, eventually, person_body


async def _checked(admin: httpx.AsyncClient) -> dict[str, Any]:
    response = await admin.post("/v1/audit/verify")
    assert response.status_code == 200, response.text
    check: dict[str, Any] = response.json()
    return check


def _command(system: System, *, bus: bool) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "qlcb_personnel.audit", "verify"]
    command += ["--database-url", system.services.database_urls["personnel"]]
    env = os.environ | {"PYTHONUTF8": "1"}
    if bus:
        env |= system.infra.nats.client_env("QLCB_PERSONNEL_", "personnel")
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)


async def test_a_chain_end_hidden_by_winding_its_head_back_is_named_against_the_published_head(
    system: System,
) -> None:
    async with api_client(system.gateway_url, system.token("quantri")) as admin:
        created = await admin.post(
            "/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Trịnh Văn Công Bố", born="1980-02-03")
        )
        assert created.status_code == 201, created.text
        entries = await eventually(
            lambda: admin.get("/v1/audit", params={"person_id": created.json()["id"]}),
            lambda r: r.status_code == 200 and bool(r.json()["entries"]) and all(e["seq"] for e in r.json()["entries"]),
            timeout=30,
            what="the new record's entries sealed",
        )
        newest = max(e["seq"] for e in entries.json()["entries"])
        published = await eventually(
            lambda: _checked(admin),
            lambda c: (c["published_seq"] or 0) >= newest,
            timeout=30,
            what=f"a head at or beyond entry {newest} published on the bus",
        )
        assert published["intact"] is True
        head_seq = published["published_seq"]

        conn = await asyncpg.connect(system.postgres_dsn("personnel"))
        # The head only moves forwards (migration 0009): the tables' owner turns that guard off first.
        await conn.execute("ALTER TABLE audit_chain_head DISABLE TRIGGER USER")
        try:
            kept = await conn.fetchrow("SELECT seq, hash FROM audit_chain_head WHERE id = 1")
            before = await conn.fetchval("SELECT hash FROM audit_entries WHERE seq = $1", head_seq - 1)
            # The entries stay (their numbers taken: the sealer cannot reuse them meanwhile); only the
            # head row says the chain ends one entry before the published head.
            await conn.execute("UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1", head_seq - 1, before)
            try:
                hidden = await _checked(admin)
                alone = await asyncio.to_thread(_command, system, bus=False)
                with_bus = await asyncio.to_thread(_command, system, bus=True)
            finally:
                await conn.execute("UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1", *kept)
        finally:
            await conn.execute("ALTER TABLE audit_chain_head ENABLE TRIGGER USER")
            await conn.close()
        whole = await _checked(admin)

    assert hidden["intact"] is False
    assert hidden["first_broken_seq"] == head_seq
    assert hidden["published_seq"] >= head_seq
    assert "cắt ngắn" in hidden["reason"]
    assert alone.returncode == 0, "the database alone takes the wound-back chain for whole"
    assert "Chưa đối chiếu" in alone.stdout
    assert with_bus.returncode == 1, with_bus.stdout + with_bus.stderr
    assert f"mục số {head_seq}" in with_bus.stderr
    assert whole["intact"] is True


async def test_the_database_refuses_changing_removing_or_winding_back_the_trail(system: System) -> None:
    """Whoever holds a connection to personnel's database, the service's own among them, may add
    entries and seal them once; changing an entry (sealed or not), removing or truncating entries,
    and moving the chain's head back are refused (migration 0009)."""
    async with api_client(system.gateway_url, system.token("quantri")) as admin:
        created = await admin.post(
            "/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Đinh Văn Khoá", born="1981-04-05")
        )
        assert created.status_code == 201, created.text
    conn = await asyncpg.connect(system.postgres_dsn("personnel"))
    try:
        newest = await conn.fetchrow(
            "SELECT id, seq FROM audit_entries WHERE person_id = $1 ORDER BY occurred_at DESC LIMIT 1",
            created.json()["id"],
        )
        refused: dict[str, str] = {}
        for name, statement, args in [
            ("sửa", "UPDATE audit_entries SET account = 'ke.gian' WHERE id = $1", (newest["id"],)),
            ("bỏ niêm phong", "UPDATE audit_entries SET seq = NULL, hash = NULL WHERE seq = 1", ()),
            ("xoá", "DELETE FROM audit_entries WHERE id = $1", (newest["id"],)),
            ("xoá hết", "TRUNCATE audit_entries", ()),
            ("lùi đầu chuỗi", "UPDATE audit_chain_head SET seq = seq - 1 WHERE id = 1", ()),
            ("xoá đầu chuỗi", "DELETE FROM audit_chain_head", ()),
        ]:
            try:
                await conn.execute(statement, *args)
            except asyncpg.InsufficientPrivilegeError as error:
                refused[name] = str(error)
        # An entry slipped in and sealed far beyond the head, out of the sealer's queue and out of the
        # verification's range were it allowed: refused as the transaction commits, the entry with it.
        slipped = str(uuid.uuid4())
        try:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO audit_entries (id, occurred_at, transaction_id, account, subject, tiers, action,"
                    " target, details) VALUES ($1, now(), $1, 'ke.gian', 's', '', 'read', 'record', '{}')",
                    slipped,
                )
                await conn.execute(
                    "UPDATE audit_entries SET seq = (SELECT seq + 1000 FROM audit_chain_head WHERE id = 1),"
                    " prev_hash = repeat('0', 64), hash = repeat('0', 64) WHERE id = $1",
                    slipped,
                )
        except asyncpg.InsufficientPrivilegeError as error:
            refused["niêm phong ngoài đầu chuỗi"] = str(error)
        try:
            await conn.execute(
                "INSERT INTO audit_entries (id, occurred_at, transaction_id, account, subject, tiers, action,"
                " target, details, seq, prev_hash, hash) VALUES ($1, now(), $1, 'ke.gian', 's', '', 'read',"
                " 'record', '{}', (SELECT seq + 1000 FROM audit_chain_head WHERE id = 1), repeat('0', 64),"
                " repeat('0', 64))",
                slipped,
            )
        except asyncpg.InsufficientPrivilegeError as error:
            refused["chèn mục đã niêm phong"] = str(error)
        left = await conn.fetchval("SELECT count(*) FROM audit_entries WHERE id = $1", slipped)
        still = await conn.fetchval("SELECT account FROM audit_entries WHERE id = $1", newest["id"])
    finally:
        await conn.close()
    async with api_client(system.gateway_url, system.token("quantri")) as admin:
        check = await _checked(admin)

    assert set(refused) == {
        "sửa",
        "bỏ niêm phong",
        "xoá",
        "xoá hết",
        "lùi đầu chuỗi",
        "xoá đầu chuỗi",
        "niêm phong ngoài đầu chuỗi",
        "chèn mục đã niêm phong",
    }, refused
    assert "ngoài đầu chuỗi" in refused["niêm phong ngoài đầu chuỗi"]
    assert left == 0
    assert "không bao giờ bị sửa" in refused["sửa"]
    assert "không bao giờ bị xoá" in refused["xoá"]
    assert "chỉ tiến lên" in refused["lùi đầu chuỗi"]
    assert still == "quantri"
    assert check["intact"] is True
