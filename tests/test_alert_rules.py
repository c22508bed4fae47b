"""The alert rules under deploy/prometheus, checked and unit-tested with promtool (from Debian's
prometheus package, which `scripts/bootstrap.sh --promtool` installs for the test run)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts"
RUNBOOKS = ROOT / "docs" / "operations.md"
RULE_FILES = sorted(p.name for p in ALERTS.glob("*.yml") if not p.name.endswith(".test.yml"))


def _promtool(*args: str) -> str:
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool is missing: run scripts/bootstrap.sh --promtool"
    done = subprocess.run([promtool, *args], cwd=ALERTS, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _alerts() -> list[dict[str, object]]:
    return [
        rule
        for name in RULE_FILES
        for group in yaml.safe_load((ALERTS / name).read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def test_every_rule_file_is_valid() -> None:
    assert RULE_FILES, "no rule files"
    assert "SUCCESS" in _promtool("check", "rules", *RULE_FILES)


def test_every_rule_file_has_its_unit_tests() -> None:
    for name in RULE_FILES:
        tests = ALERTS / name.replace(".yml", ".test.yml")
        assert tests.exists(), f"{name} has no {tests.name}"
        assert yaml.safe_load(tests.read_text())["rule_files"] == [name]


def test_a_dead_letter_a_lagging_consumer_and_a_stuck_outbox_raise_their_alerts_and_nothing_else_does() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "events.test.yml")


def test_a_stalled_admin_event_copy_and_accounts_a_restore_unlinked_raise_their_alerts() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "identity.test.yml")


def test_the_error_budget_burn_alerts_follow_the_windows_and_count_only_server_failures() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "slo.test.yml")


def test_an_overdue_or_missing_backup_raises_the_alert() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "backup.test.yml")


def test_statistics_profiles_missing_for_half_an_hour_raise_the_alert() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "statistics.test.yml")


def test_refusal_spikes_and_an_expiring_certificate_raise_their_alerts() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "security.test.yml")


def _anchor(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading (GitHub's rule)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("alert", _alerts(), ids=lambda rule: str(rule["alert"]))
def test_every_alert_has_a_severity_and_a_runbook_section(alert: dict[str, object]) -> None:
    labels, annotations = alert.get("labels"), alert.get("annotations")
    assert isinstance(labels, dict)
    assert labels.get("severity") in {"page", "ticket", "critical"}
    assert isinstance(annotations, dict)
    url = str(annotations.get("runbook_url", ""))
    assert url == f"docs/operations.md#{str(alert['alert']).lower()}", url
    headings = {_anchor(line.lstrip("#")) for line in RUNBOOKS.read_text().splitlines() if line.startswith("## ")}
    assert url.split("#")[1] in headings, f"docs/operations.md has no section for {alert['alert']}"
