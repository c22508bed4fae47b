"""Alembic's entry point for backup's migrations (ADR 0022)."""

from qlcb_common.migrations import run_env

run_env()
