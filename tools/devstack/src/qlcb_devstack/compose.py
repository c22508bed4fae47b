"""The compose stack's NATS configuration, deploy/compose/nats.conf, written from
`qlcb_common.events.permissions` (as the devstack's own nats.conf is): one user per service with
its permissions, each password read by nats-server from an environment variable the compose file
requires. `python -m qlcb_devstack compose-nats-config` rewrites the file; a test fails when it
differs from what the permissions say now.
"""

from __future__ import annotations

import json
from pathlib import Path

from qlcb_common.events.permissions import BUS_USERS, permissions
from qlcb_devstack.state import repo_root


def nats_config_file() -> Path:
    return repo_root() / "deploy" / "compose" / "nats.conf"


def nats_password_variable(user: str) -> str:
    """The environment variable holding a bus user's password, in the NATS container and in compose."""
    return f"QLCB_NATS_PASSWORD_{user.upper()}"


def nats_config() -> str:
    lines = [
        "# The compose stack's NATS server: JetStream, and a user per service with the permissions of",
        "# qlcb_common.events.permissions. Written by `python -m qlcb_devstack compose-nats-config`;",
        "# do not edit. Each password is an environment variable of the container (unquoted $NAME).",
        "port: 4222",
        "http_port: 8222",
        'jetstream { store_dir: "/data" }',
        "authorization {",
        "  users: [",
    ]
    for user in BUS_USERS:
        granted = permissions(user)
        lines += [
            "    {",
            f"      user: {json.dumps(user)}",
            f"      password: ${nats_password_variable(user)}",
            "      permissions: {",
        ]
        for direction in ("publish", "subscribe"):
            lines.append(f"        {direction}: {{")
            lines.append("          allow: [")
            lines += [f"            {json.dumps(subject)}" for subject in granted[direction]["allow"]]
            lines.append("          ]")
            lines.append("        }")
        lines += ["      }", "    }"]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def write_nats_config() -> Path:
    path = nats_config_file()
    path.write_text(nats_config())
    return path
