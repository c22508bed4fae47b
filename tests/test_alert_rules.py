"""The alert rules under deploy/prometheus, checked and unit-tested with promtool (from Debian's
prometheus package, which `scripts/bootstrap.sh --promtool` installs for the test run)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ALERTS = Path(__file__).resolve().parents[1] / "deploy" / "prometheus" / "alerts"


def _promtool(*args: str) -> str:
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool is missing: run scripts/bootstrap.sh --promtool"
    done = subprocess.run([promtool, *args], cwd=ALERTS, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_every_rule_file_is_valid() -> None:
    rule_files = sorted(p.name for p in ALERTS.glob("*.yml") if not p.name.endswith(".test.yml"))
    assert rule_files, "no rule files"
    assert "SUCCESS" in _promtool("check", "rules", *rule_files)


def test_a_dead_letter_raises_the_alert_and_nothing_else_does() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "events.test.yml")


def test_a_stalled_copy_of_keycloaks_admin_events_raises_the_alert() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "identity.test.yml")
